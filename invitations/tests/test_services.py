"""The rules of invitations, each refused with its message and nothing written; answering and declining."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from invitations.models import Invitation
from invitations.services import invitation_decline, invitation_send
from invitations.tests.factories import make_invitation
from marketplace.errors import DomainError, InvalidTransition, NotAllowed
from notifications.models import Notification
from projects.models import Project
from projects.services import project_set_status
from projects.tests.factories import make_project
from proposals.models import Proposal
from proposals.services import proposal_withdraw
from proposals.tests.factories import make_proposal
from workspace.tests.factories import contract_in

pytestmark = pytest.mark.django_db


def _refused(error, message, **kwargs):
    """The action raises `error` with `message`, and writes no invitation and no notification."""
    invitations, notifications = Invitation.objects.count(), Notification.objects.count()
    with pytest.raises(error) as refusal:
        invitation_send(**kwargs)
    assert message in refusal.value.message
    assert (Invitation.objects.count(), Notification.objects.count()) == (invitations, notifications)


def test_an_invitation_notifies_the_freelancer_with_a_link_to_the_project():
    employer = UserFactory(display_name="Sara")
    project = make_project(owner=employer, title="Rug shop")
    freelancer = UserFactory()
    invitation = invitation_send(project=project, freelancer=freelancer, by=employer, note="  You did three shops. ")
    assert (invitation.status, invitation.note, invitation.invited_by) == ("open", "You did three shops.", employer)
    notification = Notification.objects.get(recipient=freelancer)
    assert notification.kind == Notification.Kind.INVITATION
    assert notification.url == f"/projects/{project.pk}/#invitation"
    assert notification.text == "Sara invited you to send a proposal on “Rug shop”. Answer with a proposal or decline."


def test_only_the_projects_owner_may_invite():
    project = make_project()
    _refused(
        NotAllowed, "Only the employer who posted this project", project=project, freelancer=UserFactory(),
        by=UserFactory(),
    )  # fmt: skip


@pytest.mark.parametrize("status", ["closed", "cancelled"])
def test_a_project_that_is_not_open_cannot_invite(status):
    project = make_project()
    project_set_status(project=project, by=project.owner, status=status)
    _refused(
        InvalidTransition, "Only a project that is open for proposals can receive invitations",
        project=project, freelancer=UserFactory(), by=project.owner,
    )  # fmt: skip


def test_a_draft_cannot_invite():
    project = make_project(publish=False)
    _refused(InvalidTransition, "this one is Draft", project=project, freelancer=UserFactory(), by=project.owner)


def test_a_project_in_progress_cannot_invite():
    deal = contract_in("unpaid")
    assert deal.project.status == Project.Status.IN_PROGRESS
    _refused(
        InvalidTransition, "this one is In progress", project=deal.project, freelancer=UserFactory(),
        by=deal.employer,
    )  # fmt: skip


def test_an_employer_cannot_invite_themselves():
    project = make_project()
    _refused(DomainError, "You cannot invite yourself", project=project, freelancer=project.owner, by=project.owner)


def test_an_inactive_account_cannot_be_invited():
    project = make_project()
    gone = UserFactory()
    gone.is_active = False
    gone.save()
    _refused(DomainError, "account is not active", project=project, freelancer=gone, by=project.owner)


def test_someone_who_already_sent_a_proposal_is_not_invited():
    project = make_project()
    proposal = make_proposal(project=project, freelancer=UserFactory(display_name="Mina"))
    _refused(
        DomainError, "Mina has already sent a proposal on this project", project=project,
        freelancer=proposal.freelancer, by=project.owner,
    )  # fmt: skip
    # Once the proposal is withdrawn, they may be invited to bid again.
    proposal_withdraw(proposal=proposal, by=proposal.freelancer)
    assert invitation_send(project=project, freelancer=proposal.freelancer, by=project.owner).status == "open"


def test_inviting_the_same_freelancer_twice_says_they_are_invited_already():
    invitation = make_invitation(freelancer=UserFactory(display_name="Mina"))
    _refused(
        DomainError, "You have already invited Mina to this project; they have not answered yet.",
        project=invitation.project, freelancer=invitation.freelancer, by=invitation.invited_by,
    )  # fmt: skip


def test_a_declined_invitation_may_be_followed_by_a_new_one():
    invitation = make_invitation()
    invitation_decline(invitation=invitation, by=invitation.freelancer)
    again = invitation_send(project=invitation.project, freelancer=invitation.freelancer, by=invitation.invited_by)
    assert again.status == "open" and again.pk != invitation.pk


def test_a_note_longer_than_the_limit_is_refused():
    project = make_project()
    _refused(
        DomainError, "at most 1000 characters", project=project, freelancer=UserFactory(), by=project.owner,
        note="x" * 1001,
    )  # fmt: skip


def test_a_project_cannot_invite_more_than_the_daily_limit(settings):
    settings.INVITATIONS_PER_PROJECT_PER_DAY = 3
    project = make_project()
    for _ in range(3):
        invitation_send(project=project, freelancer=UserFactory(), by=project.owner)
    _refused(
        DomainError, "A project can send at most 3 invitations in 24 hours", project=project,
        freelancer=UserFactory(), by=project.owner,
    )  # fmt: skip
    # Another project of the same employer has its own count.
    other = make_project(owner=project.owner)
    assert invitation_send(project=other, freelancer=UserFactory(), by=project.owner).status == "open"
    # A day after the earliest one, there is room for one more.
    earliest = project.invitations.order_by("created_at").first()
    Invitation.objects.filter(pk=earliest.pk).update(created_at=timezone.now() - timedelta(days=1, seconds=1))
    assert invitation_send(project=project, freelancer=UserFactory(), by=project.owner).status == "open"


def test_a_proposal_answers_the_invitation():
    invitation = make_invitation()
    other = make_invitation(freelancer=invitation.freelancer)  # another project: stays open
    proposal = make_proposal(project=invitation.project, freelancer=invitation.freelancer)
    invitation.refresh_from_db()
    other.refresh_from_db()
    assert proposal.status == Proposal.Status.SENT
    assert invitation.status == Invitation.Status.ANSWERED and invitation.answered_at is not None
    assert other.status == Invitation.Status.OPEN


def test_a_proposal_without_an_invitation_changes_no_invitation():
    invitation = make_invitation()
    make_proposal(project=invitation.project)
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.OPEN


def test_declining_notifies_the_employer_with_the_reason():
    employer = UserFactory(display_name="Sara")
    invitation = make_invitation(
        project=make_project(owner=employer, title="Rug shop"), freelancer=UserFactory(display_name="Mina")
    )
    invitation_decline(invitation=invitation, by=invitation.freelancer, reason=" Fully booked this month. ")
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.DECLINED
    assert invitation.decline_reason == "Fully booked this month."
    assert invitation.answered_at is not None
    notification = Notification.objects.get(recipient=employer, kind=Notification.Kind.INVITATION_DECLINED)
    assert notification.text == "Mina declined your invitation to “Rug shop”. Fully booked this month."
    assert notification.url == f"/projects/{invitation.project_id}/proposals/#invited"


def _decline_refused(invitation, by, error, message):
    notifications = Notification.objects.count()
    with pytest.raises(error) as refusal:
        invitation_decline(invitation=invitation, by=by, reason="No.")
    assert message in refusal.value.message
    assert Notification.objects.count() == notifications
    status = invitation.status
    invitation.refresh_from_db()
    assert invitation.status == status and invitation.decline_reason == ""


def test_only_the_invited_freelancer_may_decline():
    invitation = make_invitation()
    _decline_refused(invitation, UserFactory(), NotAllowed, "Only the freelancer who was invited")
    _decline_refused(invitation, invitation.invited_by, NotAllowed, "Only the freelancer who was invited")


def test_an_answered_invitation_cannot_be_declined():
    invitation = make_invitation()
    make_proposal(project=invitation.project, freelancer=invitation.freelancer)
    invitation.refresh_from_db()
    _decline_refused(invitation, invitation.freelancer, InvalidTransition, "You have already answered this invitation.")


def test_a_decline_reason_longer_than_the_limit_is_refused():
    invitation = make_invitation()
    with pytest.raises(DomainError, match="at most 500 characters"):
        invitation_decline(invitation=invitation, by=invitation.freelancer, reason="x" * 501)
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.OPEN


@pytest.mark.parametrize("status", ["closed", "cancelled"])
def test_when_the_project_stops_being_open_its_invitations_close_and_cannot_be_answered(status):
    invitation = make_invitation()
    answered = make_invitation(project=invitation.project)
    make_proposal(project=invitation.project, freelancer=answered.freelancer)
    project_set_status(project=invitation.project, by=invitation.invited_by, status=status)
    invitation.refresh_from_db()
    answered.refresh_from_db()
    assert (invitation.status, answered.status) == (Invitation.Status.CLOSED, Invitation.Status.ANSWERED)
    _decline_refused(invitation, invitation.freelancer, InvalidTransition, "no longer open for proposals")
    with pytest.raises(InvalidTransition, match="not open for proposals"):
        make_proposal(project=invitation.project, freelancer=invitation.freelancer)


def test_a_project_given_to_a_contract_closes_its_open_invitations():
    project = make_project()
    invitation = make_invitation(project=project)
    deal = contract_in("unpaid", proposal=make_proposal(project=project))
    assert deal.project.status == Project.Status.IN_PROGRESS
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.CLOSED
    _decline_refused(invitation, invitation.freelancer, InvalidTransition, "no longer open for proposals")


def test_a_reopened_project_may_invite_the_same_freelancer_again():
    invitation = make_invitation()
    project_set_status(project=invitation.project, by=invitation.invited_by, status="closed")
    project_set_status(project=invitation.project, by=invitation.invited_by, status="open")
    again = invitation_send(project=invitation.project, freelancer=invitation.freelancer, by=invitation.invited_by)
    assert again.status == "open"
    assert list(Invitation.objects.filter(project=invitation.project).values_list("status", flat=True)) == [
        "open",
        "closed",
    ]
