from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import UserFactory
from escrow.checks import ledger_check
from escrow.ledger import post_deposit, wallet_of
from escrow.models import Account
from marketplace.errors import DomainError, InvalidTransition, NotAllowed
from notifications.models import Notification
from projects.models import Project
from projects.tests.factories import make_project
from proposals.models import Message, Proposal
from proposals.tests.factories import make_proposal
from workspace.models import Contract, Milestone, PhasingOffer
from workspace.selectors import project_budget as budget_of
from workspace.services import delivery, disputes, funding
from workspace.services.phasing import (
    PhaseInput,
    phasing_comment,
    phasing_offer_accept,
    phasing_offer_reject,
    phasing_offer_send,
)
from workspace.tests.factories import phase_to, phased_contract_in, phases, zip_file

M = Decimal(1_000_000)

# The seed's example: a 20,000,000-toman proposal on "Online class app", 30,000,000 in the employer's wallet, and
# (for a contract) phases of 5, 10 and 5 million.
ONLINE_CLASS_APP = {"title": "Online class app", "wallet": "30000000"}


def _figures(project):
    b = budget_of(project=project)
    return (b.total / M, b.in_escrow / M, b.paid / M, b.remaining / M, b.refunded / M)


@pytest.fixture
def phased(db):
    project = make_project(title="Online class app", kind=Project.Kind.PHASED)
    proposal = make_proposal(project=project, amount="20000000")
    post_deposit(user=project.owner, amount=30 * M, currency="IRT", gateway="sandbox", key="seed")
    return {"project": project, "proposal": proposal, "employer": project.owner, "freelancer": proposal.freelancer}


def test_the_seeds_three_phase_example_adds_up_at_every_step(db):
    deal = phased_contract_in(5, 10, 5, **ONLINE_CLASS_APP)  # offered and accepted, nothing paid
    project, employer, (one, two, three) = deal.project, deal.employer, deal.milestones
    assert _figures(project) == (20, 0, 0, 20, 0)
    assert all(m.status == Milestone.Status.PENDING and m.upfront_share == 1 for m in (one, two, three))

    funding.milestone_fund_next(milestone=one, by=employer)  # each phase in full before it starts
    assert Milestone.objects.get(pk=one.pk).status == Milestone.Status.FUNDED
    assert _figures(project) == (20, 5, 0, 15, 0)
    with pytest.raises(DomainError):
        funding.milestone_fund_next(milestone=one, by=employer)  # funding a phase twice

    phase_to(one, "completed")  # delivered and approved
    assert _figures(project) == (20, 0, 5, 15, 0)
    assert Account.objects.get(pk=wallet_of(deal.freelancer).pk).balance == Decimal("4.5") * M

    for milestone in (two, three):
        phase_to(milestone, "completed")  # funded, delivered and approved
    assert _figures(project) == (20, 0, 20, 0, 0)
    assert Contract.objects.get(pk=deal.contract.pk).status == Contract.Status.COMPLETED
    assert Project.objects.get(pk=project.pk).status == Project.Status.COMPLETED
    assert ledger_check().clean


@pytest.mark.parametrize(
    ("phases", "message"),
    [
        ([], "at least one phase"),
        ([PhaseInput("A", Decimal(0), timezone.localdate() + timedelta(days=5))], "above zero"),
        ([PhaseInput("A", Decimal(-5), timezone.localdate() + timedelta(days=5))], "above zero"),
        ([PhaseInput("  ", Decimal(5), timezone.localdate() + timedelta(days=5))], "needs a title"),
        ([PhaseInput("A", Decimal(5), timezone.localdate() - timedelta(days=1))], "in the past"),
        (
            [PhaseInput("A", Decimal(5), timezone.localdate() + timedelta(days=20)),
             PhaseInput("B", Decimal(5), timezone.localdate() + timedelta(days=10))],
            "before the phase above",
        ),
    ],
)  # fmt: skip
def test_bad_phasings_are_refused_and_nothing_is_saved(phased, phases, message):
    with pytest.raises(DomainError, match=message):
        phasing_offer_send(proposal=phased["proposal"], by=phased["employer"], phases=phases)
    assert not PhasingOffer.objects.exists()


def test_only_the_employer_offers_and_only_the_bidder_answers(phased):
    with pytest.raises(NotAllowed):
        phasing_offer_send(proposal=phased["proposal"], by=phased["freelancer"], phases=phases(5))
    offer = phasing_offer_send(proposal=phased["proposal"], by=phased["employer"], phases=phases(5))
    with pytest.raises(NotAllowed):
        phasing_offer_accept(offer=offer, by=UserFactory(), version=offer.version)


def test_accepting_an_offer_the_employer_has_since_revised_is_refused(phased):
    first = phasing_offer_send(proposal=phased["proposal"], by=phased["employer"], phases=phases(5, 10))
    second = phasing_offer_send(proposal=phased["proposal"], by=phased["employer"], phases=phases(6, 10))
    with pytest.raises(InvalidTransition, match="changed this offer"):
        phasing_offer_accept(offer=first, by=phased["freelancer"], version=first.version)
    with pytest.raises(InvalidTransition):
        phasing_offer_accept(offer=second, by=phased["freelancer"], version=first.version)  # saw the old one
    assert PhasingOffer.objects.get(pk=first.pk).status == PhasingOffer.Status.REVISED
    assert not Contract.objects.exists()
    contract = phasing_offer_accept(offer=second, by=phased["freelancer"], version=second.version)
    assert contract.milestones.first().amount == 6 * M


def test_rejecting_leaves_the_bidders_and_a_comment_reaches_the_employers_chat(phased):
    offer = phasing_offer_send(proposal=phased["proposal"], by=phased["employer"], phases=phases(5, 10))
    phasing_comment(offer=offer, by=phased["freelancer"], text="Could phase 2 be split in two?")
    assert "Could phase 2 be split" in Message.objects.get().body
    phasing_offer_reject(offer=offer, by=phased["freelancer"])
    assert Proposal.objects.get(pk=phased["proposal"].pk).status == Proposal.Status.WITHDRAWN
    assert Project.objects.get(pk=phased["project"].pk).proposal_count == 0


def test_later_phases_go_to_a_second_freelancer(db, django_capture_on_commit_callbacks):
    from django.core import mail

    phased = phased_contract_in(5, 10, 5, states=("completed",), **ONLINE_CLASS_APP)  # phase 1 paid out
    project, contract, (_one, two, three) = phased.project, phased.contract, phased.milestones

    # A second bidder, whose proposal was sent before the project started.
    Project.objects.filter(pk=project.pk).update(status=Project.Status.OPEN)
    second_bid = make_proposal(project=project, amount="15000000")
    Project.objects.filter(pk=project.pk).update(status=Project.Status.IN_PROGRESS)
    offer = phasing_offer_send(
        proposal=second_bid, by=phased.employer, phases=phases(10, 5, start_in_days=40), replaces=[two, three]
    )
    phased.freelancer.language = "en"  # e-mails go out in the recipient's language
    phased.freelancer.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        contract_two = phasing_offer_accept(offer=offer, by=second_bid.freelancer, version=offer.version)
    assert any(phased.freelancer.email in m.to and "given to someone else" in m.subject for m in mail.outbox)
    told = Notification.objects.get(recipient=phased.freelancer, kind=Notification.Kind.PHASES_REASSIGNED)
    assert "given to another freelancer" in told.text

    assert Milestone.objects.get(pk=two.pk).status == Milestone.Status.CANCELLED
    assert _figures(project) == (20, 0, 5, 15, 0)  # the cancelled phases count nowhere, the new ones in full
    new_two = contract_two.milestones.order_by("position").first()
    with pytest.raises(InvalidTransition):  # the first freelancer's phase is no longer theirs to work on
        delivery.deliverable_upload(milestone=two, by=phased.freelancer, upload=zip_file())
    with pytest.raises(NotAllowed):
        delivery.deliverable_upload(milestone=new_two, by=phased.freelancer, upload=zip_file())
    # The first contract is done: its paid phase is completed, the rest went to the second freelancer.
    assert Contract.objects.get(pk=contract.pk).status == Contract.Status.COMPLETED
    phase_to(new_two, "completed")  # funded, delivered by the second freelancer, approved
    assert _figures(project) == (20, 0, 15, 5, 0)
    assert Account.objects.get(pk=wallet_of(phased.freelancer).pk).balance == Decimal("4.5") * M
    assert ledger_check().clean


def test_a_dispute_in_one_phase_does_not_touch_the_others(db):
    phased = phased_contract_in(5, 10, 5, states=("delivered", "funded"), **ONLINE_CLASS_APP)
    project, _contract, (one, two, _three) = phased.project, phased.contract, phased.milestones
    dispute = disputes.dispute_open(milestone=one, by=phased.employer, reason="quality", description="Redo")
    staff = UserFactory()
    staff.is_staff = True
    disputes.dispute_resolve(dispute=dispute, by=staff, outcome="refund")
    assert Milestone.objects.get(pk=two.pk).status == Milestone.Status.FUNDED
    assert Milestone.objects.get(pk=two.pk).in_escrow == 10 * M
    assert _figures(project) == (20, 10, 0, 5, 5)
    assert ledger_check().clean
    # The contract goes on: the funded phase can still be delivered and paid.
    assert Contract.objects.get(pk=_contract.pk).status == Contract.Status.ACTIVE
    assert Project.objects.get(pk=project.pk).status == Project.Status.IN_PROGRESS
    phase_to(two, "completed")  # delivered and approved
    assert _figures(project) == (20, 0, 10, 5, 5)


def test_a_phase_given_to_someone_else_cannot_be_funded(db):
    phased = phased_contract_in(5, 10, 5, **ONLINE_CLASS_APP)
    two = phased.milestones[1]
    Milestone.objects.filter(pk=two.pk).update(status=Milestone.Status.CANCELLED)
    before = wallet_of(phased.employer).balance
    with pytest.raises(InvalidTransition):  # what a crafted POST for that phase asks
        funding.milestone_fund(milestone=two, by=phased.employer, step="upfront")
    assert Account.objects.get(pk=wallet_of(phased.employer).pk).balance == before
    assert Milestone.objects.get(pk=two.pk).funded == 0


def _snapshot(milestones):
    rows = Milestone.objects.filter(pk__in=[m.pk for m in milestones]).order_by("pk")
    return list(rows.values_list("status", "funded", "released", "refunded", "auto_release_at"))


ACTIONS = st.lists(
    st.tuples(st.sampled_from(["fund", "deliver", "approve", "refund", "split"]), st.integers(0, 2)), max_size=25
)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=ACTIONS)
def test_the_budget_always_adds_up_over_random_phase_actions(actions):
    staff = UserFactory()
    staff.is_staff = True
    with transaction.atomic():
        deal = phased_contract_in(5, 10, 5, title="Random phases", wallet="30000000")
        project, employer, freelancer, milestones = deal.project, deal.employer, deal.freelancer, deal.milestones
        for action, index in actions:
            milestone = Milestone.objects.get(pk=milestones[index].pk)
            before = _snapshot(milestones)
            try:
                with transaction.atomic():
                    if action == "fund":
                        funding.milestone_fund_next(milestone=milestone, by=employer)
                    elif action == "deliver":
                        delivery.deliverable_upload(milestone=milestone, by=freelancer, upload=zip_file())
                        delivery.milestone_mark_delivered(milestone=milestone, by=freelancer)
                    elif action == "approve":
                        delivery.milestone_approve(milestone=milestone, by=employer)
                    else:
                        dispute = disputes.dispute_open(
                            milestone=milestone, by=employer, reason="other", description="x"
                        )
                        disputes.dispute_resolve(
                            dispute=dispute, by=staff, outcome=action, to_freelancer=milestone.in_escrow / 2
                        )
            except DomainError:
                assert _snapshot(milestones) == before  # refused: nothing changed
            b = budget_of(project=project)
            assert b.total == 20 * M
            escrow_keys = [m.escrow_key for m in milestones]
            held = Account.objects.filter(kind=Account.Kind.ESCROW, key__in=escrow_keys).aggregate(s=Sum("balance"))
            assert b.in_escrow == (held["s"] or 0)  # the panel's "In escrow" is what the ledger holds
        assert ledger_check().clean
        transaction.set_rollback(True)


def test_completed_projects_appear_on_the_freelancers_profile_and_activities(db, client):
    from django.urls import reverse

    phased = phased_contract_in(5, 10, 5, **ONLINE_CLASS_APP)
    profile_url = reverse("profile_public", args=[phased.freelancer.username])
    assert "Online class app" not in client.get(profile_url).content.decode()
    phase_to(phased.milestones[0], "completed")  # funded, delivered and approved
    client.cookies["django_language"] = "en"
    assert 'data-testid="completed-projects"' in client.get(profile_url).content.decode()
    client.force_login(phased.freelancer)
    html = client.get(reverse("my_activities"), {"tab": "freelancer"}).content.decode()
    assert "Online class app" in html and 'data-testid="my-completed"' in html


def test_the_freelancer_sees_the_phasing_flag_and_earlier_versions(phased, client):
    from django.urls import reverse

    phasing_offer_send(proposal=phased["proposal"], by=phased["employer"], phases=phases(5, 10))
    phasing_offer_send(proposal=phased["proposal"], by=phased["employer"], phases=phases(6, 10))
    client.force_login(phased["freelancer"])
    client.cookies["django_language"] = "en"
    activities = client.get(reverse("my_activities"), {"tab": "freelancer"}).content.decode()
    assert 'data-testid="phasing-flag"' in activities
    page = client.get(reverse("project_detail", args=[phased["project"].pk])).content.decode()
    assert "Earlier versions" in page and "Version 1" in page and "Version 2" in page
