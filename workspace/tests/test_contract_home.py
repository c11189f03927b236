"""What moving the contract home changed for people: old admin links still reach a dispute, the pages read the
settings and the rules instead of repeating them, and statuses change only through their owners' tables."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from escrow.models import Payment
from marketplace.errors import InvalidTransition
from marketplace.status import set_status
from projects.models import Project
from projects.services import project_set_status
from proposals.models import Proposal
from workspace.models import Contract, Milestone, PhasingOffer
from workspace.tests.factories import contract_in


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


@pytest.mark.django_db
def test_admin_links_to_a_dispute_from_before_the_move_still_reach_it(media_dirs):
    deal = contract_in("disputed")
    staff = UserFactory(is_staff=True)
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    old = f"/admin/escrow/dispute/{deal.dispute.pk}/change/"
    response = _client(staff).get(old)
    assert response.status_code == 301
    assert response["Location"] == f"/admin/workspace/dispute/{deal.dispute.pk}/change/"
    page = _client(staff).get(response["Location"])
    assert page.status_code == 200 and "Two screens are still missing" in page.content.decode()


@pytest.mark.django_db
def test_the_home_page_says_the_upfront_share_and_release_delay_the_settings_hold(client, settings):
    client.cookies["django_language"] = "en"
    settings.ESCROW_UPFRONT_SHARE = Decimal("0.30")
    settings.ESCROW_AUTO_RELEASE_DELAY = timedelta(days=3)
    html = client.get(reverse("home")).content.decode()
    assert "pay 30% of it into secure payment" in html
    assert "or by itself after 3 days" in html
    assert "pay half" not in html


@pytest.mark.django_db
def test_the_employer_is_told_when_an_unanswered_contract_may_be_cancelled(media_dirs):
    deal = contract_in("awaiting")
    html = _client(deal.employer).get(reverse("workspace", args=[deal.contract.pk])).content.decode()
    assert 'data-testid="cancel-from"' in html and "You may cancel from" in html
    assert "Cancel (no answer from the freelancer)" not in html  # not before the answer time is over
    overdue = contract_in("awaiting_overdue")
    html = _client(overdue.employer).get(reverse("workspace", args=[overdue.contract.pk])).content.decode()
    assert "Cancel (no answer from the freelancer)" in html and 'data-testid="cancel-from"' not in html


@pytest.mark.django_db
def test_the_freelancer_may_decline_before_the_guarantee_is_paid(media_dirs):
    deal = contract_in("unpaid")
    client = _client(deal.freelancer)
    assert "Decline" in client.get(reverse("workspace", args=[deal.contract.pk])).content.decode()
    client.post(reverse("workspace_operate", args=[deal.contract.pk, "decline"]))
    deal.refresh()
    assert deal.contract.status == Contract.Status.CANCELLED
    assert deal.milestone.status == Milestone.Status.REFUNDED and deal.milestone.refunded == 0
    assert deal.project.status == Project.Status.OPEN


@pytest.mark.django_db
def test_a_declined_contract_sets_its_proposal_aside_and_the_count_follows(media_dirs):
    deal = contract_in("awaiting")
    assert Project.objects.get(pk=deal.project.pk).proposal_count == 1
    client = _client(deal.freelancer)
    client.post(reverse("workspace_operate", args=[deal.contract.pk, "decline"]))
    assert Proposal.objects.get(pk=deal.proposal.pk).status == Proposal.Status.WITHDRAWN
    assert Project.objects.get(pk=deal.project.pk).proposal_count == 0


@pytest.mark.django_db
def test_the_employer_cannot_reopen_a_project_a_contract_is_running_on(media_dirs):
    deal = contract_in("in_progress")
    with pytest.raises(InvalidTransition):
        project_set_status(project=deal.project, by=deal.employer, status=Project.Status.OPEN)
    assert Project.objects.get(pk=deal.project.pk).status == Project.Status.IN_PROGRESS
    response = _client(deal.employer).post(reverse("project_status", args=[deal.project.pk]), {"action": "reopen"})
    assert response.status_code == 302  # back to the project, with the refusal as a message
    assert Project.objects.get(pk=deal.project.pk).status == Project.Status.IN_PROGRESS


def test_a_status_moves_only_as_its_table_allows():
    offer = PhasingOffer(status=PhasingOffer.Status.ACCEPTED)
    with pytest.raises(InvalidTransition):
        set_status(offer, PhasingOffer.Status.REJECTED)
    assert offer.status == PhasingOffer.Status.ACCEPTED
    payment = Payment(status=Payment.Status.PENDING)
    assert set_status(payment, Payment.Status.PAID) == Payment.Status.PENDING
    assert payment.status == Payment.Status.PAID
    with pytest.raises(InvalidTransition):
        set_status(payment, Payment.Status.CANCELLED)  # a paid payment stays paid
