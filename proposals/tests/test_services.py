import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import UserFactory
from marketplace.errors import DomainError, InvalidTransition, NotAllowed
from projects.models import Project
from projects.services import project_set_status
from projects.tests.factories import make_project
from proposals.models import Conversation, Message, Proposal
from proposals.services import (
    DuplicateProposal,
    conversation_can_read,
    conversation_can_write,
    message_send,
    proposal_edit,
    proposal_review,
    proposal_submit,
    proposal_withdraw,
    unread_digest_send,
)
from proposals.tests.factories import make_proposal


@pytest.mark.django_db
def test_a_proposal_opens_the_conversation_and_counts_on_the_project():
    project = make_project()
    proposal = make_proposal(project=project)
    project.refresh_from_db()
    assert project.proposal_count == 1
    assert proposal.revisions.get().number == 1
    assert Conversation.objects.filter(project=project, freelancer=proposal.freelancer).exists()


@pytest.mark.django_db
def test_nobody_bids_twice_on_their_own_or_on_a_closed_project():
    project = make_project()
    freelancer = UserFactory()
    make_proposal(project=project, freelancer=freelancer)
    with pytest.raises(DuplicateProposal):
        make_proposal(project=project, freelancer=freelancer)
    with pytest.raises(NotAllowed):
        make_proposal(project=project, freelancer=project.owner)
    project_set_status(project=project, by=project.owner, status=Project.Status.CLOSED)
    with pytest.raises(InvalidTransition):
        make_proposal(project=project)
    assert Proposal.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "days", "letter"),
    [("0", 5, "fine letter"), ("-10", 5, "fine letter"), ("1e12", 5, "fine letter"), ("10", 0, "x"), ("10", 5, "  ")],
)
def test_bad_terms_are_refused(amount, days, letter):
    project = make_project()
    with pytest.raises(DomainError):
        proposal_submit(
            project=project, freelancer=UserFactory(), amount=Decimal(amount), delivery_days=days, cover_letter=letter
        )
    assert not Proposal.objects.exists()


@pytest.mark.django_db
def test_edits_keep_every_version_and_an_unchanged_save_adds_none():
    proposal = make_proposal(project=make_project(), amount="2000000")
    by = proposal.freelancer
    proposal_edit(proposal=proposal, by=by, amount=Decimal("1800000"), delivery_days=10, cover_letter="Lower price now")
    proposal_edit(proposal=proposal, by=by, amount=Decimal("1800000"), delivery_days=10, cover_letter="Lower price now")
    proposal.refresh_from_db()
    assert proposal.revision_count == 2 and proposal.is_edited
    assert [(r.number, r.amount) for r in proposal.revisions.order_by("number")] == [
        (1, Decimal("2000000")),
        (2, Decimal("1800000")),
    ]


@pytest.mark.django_db
def test_only_the_bidder_edits_or_withdraws_and_only_the_employer_reviews():
    proposal = make_proposal(project=make_project())
    stranger = UserFactory()
    with pytest.raises(NotAllowed):
        proposal_edit(proposal=proposal, by=stranger, amount=Decimal(5), delivery_days=1, cover_letter="x y z")
    with pytest.raises(NotAllowed):
        proposal_withdraw(proposal=proposal, by=proposal.project.owner)
    with pytest.raises(NotAllowed):
        proposal_review(proposal=proposal, by=proposal.freelancer, status=Proposal.Status.SHORTLISTED)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.SENT


@pytest.mark.django_db
def test_withdrawn_proposals_stop_counting_and_the_freelancer_may_bid_again():
    project = make_project()
    proposal = make_proposal(project=project)
    proposal_withdraw(proposal=proposal, by=proposal.freelancer)
    project.refresh_from_db()
    assert project.proposal_count == 0
    with pytest.raises(InvalidTransition):
        proposal_edit(proposal=proposal, by=proposal.freelancer, amount=Decimal(9), delivery_days=2, cover_letter="x")
    again = make_proposal(project=project, freelancer=proposal.freelancer)
    assert again.pk != proposal.pk
    assert Conversation.objects.filter(project=project).count() == 1


@pytest.mark.django_db
def test_a_declined_proposal_is_final():
    proposal = make_proposal(project=make_project())
    proposal_review(proposal=proposal, by=proposal.project.owner, status=Proposal.Status.SHORTLISTED)
    proposal_review(proposal=proposal, by=proposal.project.owner, status=Proposal.Status.DECLINED)
    with pytest.raises(InvalidTransition):
        proposal_review(proposal=proposal, by=proposal.project.owner, status=Proposal.Status.SHORTLISTED)
    with pytest.raises(DuplicateProposal):
        make_proposal(project=proposal.project, freelancer=proposal.freelancer)


@pytest.mark.django_db(transaction=True)
def test_concurrent_double_submission_makes_one_proposal(require_postgres):
    project = make_project()
    freelancer = UserFactory()
    outcomes = []

    def submit():
        try:
            make_proposal(project=project, freelancer=freelancer)
            outcomes.append("ok")
        except DuplicateProposal:
            outcomes.append("duplicate")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["duplicate"] * 7 + ["ok"]
    assert Proposal.objects.filter(project=project).count() == 1
    project.refresh_from_db()
    assert project.proposal_count == 1


@pytest.mark.django_db
def test_messages_are_written_by_the_two_parties_only_and_staff_only_read():
    proposal = make_proposal(project=make_project())
    conversation = Conversation.objects.get()
    message_send(conversation=conversation, sender=proposal.project.owner, body="Hello")
    message_send(conversation=conversation, sender=proposal.freelancer, body="Hi!")
    staff = UserFactory()
    staff.is_staff = True
    assert conversation_can_read(conversation=conversation, user=staff)
    assert not conversation_can_write(conversation=conversation, user=staff)
    with pytest.raises(NotAllowed):
        message_send(conversation=conversation, sender=staff, body="Support here")
    with pytest.raises(NotAllowed):
        message_send(conversation=conversation, sender=UserFactory(), body="Let me in")
    with pytest.raises(DomainError):
        message_send(conversation=conversation, sender=proposal.freelancer, body="   ")
    with pytest.raises(DomainError):
        message_send(conversation=conversation, sender=proposal.freelancer, body="x" * 10_000)
    assert Message.objects.count() == 2


@pytest.mark.django_db
def test_unread_messages_are_mailed_once_as_a_digest(django_capture_on_commit_callbacks):
    project = make_project(title="Rug shop")
    first, second = make_proposal(project=project), make_proposal(project=project)
    for proposal in (first, second):
        conversation = Conversation.objects.get(freelancer=proposal.freelancer)
        message_send(conversation=conversation, sender=proposal.freelancer, body="A question")
        message_send(conversation=conversation, sender=proposal.freelancer, body="And another")
    later = timezone.now() + timedelta(minutes=11)

    assert unread_digest_send(now=timezone.now()) == 0  # not waited long enough
    with django_capture_on_commit_callbacks(execute=True):
        assert unread_digest_send(now=later) == 1  # one e-mail to the employer about both conversations
    digest = [m for m in mail.outbox if project.owner.email in m.to]
    assert len(digest) == 1
    assert digest[0].body.count("Rug shop") == 2
    assert unread_digest_send(now=later + timedelta(minutes=30)) == 0  # nothing new: no second e-mail
