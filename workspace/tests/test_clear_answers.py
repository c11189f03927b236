"""Issue 15, item 8: what a new user met on a walk through the current flows, answered plainly."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from escrow.models import Payment
from notifications.models import Notification
from projects.models import Project
from projects.tests.factories import make_project
from proposals.tests.factories import make_proposal
from workspace.models import Contract
from workspace.services.phasing import phasing_offer_accept, phasing_offer_send
from workspace.tests.factories import contract_in, phased_contract_in, phases


def _client(user, language="en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


@pytest.mark.django_db
def test_a_refused_download_says_why(media_dirs):
    deal = contract_in("delivered")  # the rest is not paid yet
    deliverable = deal.milestone.deliverables.get()
    url = reverse("deliverable_download", args=[deal.contract.pk, deliverable.pk])
    response = _client(deal.employer).get(url)
    assert response.status_code == 403
    assert "once the whole amount is in secure payment" in response.content.decode()


@pytest.mark.django_db
def test_reloading_the_payment_return_says_it_was_already_credited(client):
    from accounts.tests.factories import UserFactory

    payer = UserFactory()
    client.force_login(payer)
    client.cookies["django_language"] = "en"
    bank = client.post(reverse("top_up"), {"amount": "500000"})["Location"]
    callback = client.post(bank, {"action": "pay", "card_number": "6037997599999993"})["Location"]
    first = client.get(callback, follow=True).content.decode()
    assert "Your payment is confirmed and added to your balance" in first
    again = client.get(callback, follow=True).content.decode()  # reload, or Back then forward
    assert "already confirmed and added to your balance" in again
    assert "Your payment is confirmed and added" not in again
    assert Payment.objects.get().status == Payment.Status.PAID


@pytest.mark.django_db
def test_choosing_again_on_a_project_under_contract_links_the_workspace(media_dirs):
    deal = contract_in("awaiting")
    response = _client(deal.employer).post(reverse("proposal_select", args=[deal.proposal.pk]), follow=True)
    page = response.content.decode()
    assert "You already chose a freelancer for this project." in page
    assert reverse("workspace", args=[deal.contract.pk]) in page
    assert Contract.objects.count() == 1


@pytest.mark.django_db
def test_a_later_phase_keeps_its_number_the_first_freelancer_hears_which_and_each_workspace_its_own_money(
    media_dirs,
):
    project = make_project(kind=Project.Kind.PHASED, title="Booking app")
    first = make_proposal(project=project, amount="10000000")
    second = make_proposal(project=project, amount="5000000")
    deal = phased_contract_in(3, 5, 2, proposal=first, states=("completed",))
    _one, two, _three = deal.milestones
    offer = phasing_offer_send(proposal=second, by=deal.employer, phases=phases(5), replaces=[two])
    contract = phasing_offer_accept(offer=offer, by=second.freelancer, version=offer.version)
    assert contract.milestones.get().position == 2  # the project's phase 2, not "phase 1"

    told = Notification.objects.filter(recipient=deal.freelancer, kind=Notification.Kind.PHASES_REASSIGNED).get()
    assert "Phases 2. Phase 2 of" in told.text and "the rest of your contract is unchanged" in told.text

    page = _client(second.freelancer).get(reverse("workspace", args=[contract.pk])).content.decode()
    assert ">Phase 2: " in page and ">Phase 1: " not in page
    total = re.search(r'data-testid="budget-total">([^<]+)<', page).group(1)
    assert total == "5,000,000"  # their contract, not the whole project's 10,000,000 (3 paid to someone else)
