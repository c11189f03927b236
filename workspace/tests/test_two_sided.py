"""Two-sided contracts: the clocks that protect each side (the remainder clock, the stages of a dispute, late
work), disputes from either side, offers and settling by agreement, partial release, bonuses and agreed changes,
each driven through the real services and the real ledger; the races between a deadline and a party's action run
on PostgreSQL with real threads."""

import io
import threading
from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from escrow.checks import ledger_check
from escrow.ledger import escrow_account, post_deposit, revenue_account, wallet_of
from escrow.models import Transaction
from marketplace.errors import DomainError, InvalidTransition, NotAllowed
from marketplace.testing import run_in_threads
from notifications.models import Notification
from projects.models import Project
from proposals.models import Proposal
from workspace import tasks
from workspace.models import Contract, ContractChange, Dispute, Milestone, MilestoneEvent, Offer
from workspace.services import changes, clocks, delivery, disputes, funding, rules, settling
from workspace.tests.factories import contract_in, phase_to, phased_contract_in, zip_file

Kind = Notification.Kind
SECOND = timedelta(seconds=1)
# Every deal here is a 1,000,000-toman proposal with 2,000,000 in the employer's wallet (contract_in's default).


@pytest.fixture(autouse=True)
def _ten_percent_commission(settings):
    """The commission every amount below counts on (COMMISSION_RATE)."""
    settings.COMMISSION_RATE = Decimal("0.10")


def _wallet(user) -> Decimal:
    return wallet_of(user).balance


def _revenue() -> Decimal:
    return revenue_account().balance


def _in_escrow(milestone: Milestone) -> Decimal:
    """What the ledger holds in the milestone's escrow account."""
    return escrow_account(milestone.escrow_key, milestone.contract.currency).balance


def _fresh(milestone: Milestone) -> Milestone:
    return Milestone.objects.select_related("contract").get(pk=milestone.pk)


def _about(when, expected) -> bool:
    """Two times a service computed a moment apart."""
    return abs(when - expected) < timedelta(seconds=30)


def _told(user, kind: str) -> Notification:
    """The one notification of `kind` that `user` got."""
    return Notification.objects.get(recipient=user, kind=kind)


def _staff():
    staff = UserFactory()
    staff.is_staff = True
    staff.save()
    return staff


def _deliver(deal) -> None:
    delivery.deliverable_upload(milestone=deal.milestone, by=deal.freelancer, upload=zip_file())
    delivery.milestone_mark_delivered(milestone=deal.milestone, by=deal.freelancer)


def _moves(kind: str) -> int:
    return Transaction.objects.filter(kind=kind).count()


# --- the remainder clock -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_delivery_not_paid_in_full_runs_the_remainder_clock_until_the_rest_is_paid(settings):
    deal = contract_in("delivered")  # 500,000 upfront in escrow, the rest unpaid
    milestone = deal.milestone
    assert milestone.remainder_due_at == milestone.delivered_at + timedelta(days=settings.ESCROW_REMAINDER_DAYS)
    assert milestone.auto_release_at is None
    due = milestone.remainder_due_at

    funding.milestone_fund(milestone=milestone, by=deal.employer, step="rest")
    milestone = _fresh(milestone)
    assert milestone.remainder_due_at is None  # the review clock replaces it
    assert _about(milestone.auto_release_at, timezone.now() + settings.ESCROW_AUTO_RELEASE_DELAY)
    assert clocks.warn_before_remainder_due(now=due - timedelta(hours=1)) == 0
    assert clocks.mark_remainder_lapsed(now=due + SECOND) == 0
    assert not Notification.objects.filter(kind__in=[Kind.REMAINDER_DUE_SOON, Kind.REMAINDER_LAPSED]).exists()


@pytest.mark.django_db
def test_the_employer_is_warned_once_before_the_rest_is_due(settings):
    deal = contract_in("delivered")
    due = deal.milestone.remainder_due_at
    assert clocks.warn_before_remainder_due(now=due - settings.ESCROW_REMAINDER_WARNING - SECOND) == 0  # too early
    assert clocks.warn_before_remainder_due(now=due - timedelta(hours=2)) == 1
    assert clocks.warn_before_remainder_due(now=due - timedelta(hours=1)) == 0
    assert clocks.enforce_deadlines(now=due - timedelta(minutes=30))["remainder_warned"] == 0
    told = _told(deal.employer, Kind.REMAINDER_DUE_SOON)
    assert (told.params["when"], Decimal(told.params["amount"])) == (due.isoformat(), 500_000)
    assert "500,000 toman" in told.text and "Build an online shop" in told.text
    assert not Notification.objects.filter(recipient=deal.freelancer, kind=Kind.REMAINDER_DUE_SOON).exists()


@pytest.mark.django_db
def test_until_the_remainder_clock_runs_out_the_freelancer_may_not_dispute_non_payment():
    deal = contract_in("delivered")
    milestone, freelancer = deal.milestone, deal.freelancer
    with pytest.raises(InvalidTransition, match="until the end of the remainder clock"):
        disputes.dispute_open(milestone=milestone, by=freelancer, reason="not_paid", description="Pay me.")
    assert "dispute" not in rules.available_operations(milestone=milestone, user=freelancer)
    after = milestone.remainder_due_at + SECOND
    assert "dispute" in rules.available_operations(milestone=milestone, user=freelancer, now=after)
    assert clocks.mark_remainder_lapsed(now=milestone.remainder_due_at - SECOND) == 0
    assert _fresh(milestone).status == Milestone.Status.DELIVERED
    assert not Dispute.objects.exists()


@pytest.mark.django_db
def test_when_the_remainder_clock_runs_out_both_are_told_once_and_the_freelancer_may_dispute(settings):
    deal = contract_in("remainder_lapsed")  # delivered, half paid, the remainder clock ran out a minute ago
    milestone, employer, freelancer = deal.milestone, deal.employer, deal.freelancer
    assert clocks.mark_remainder_lapsed() == 1
    assert clocks.mark_remainder_lapsed() == 0
    assert clocks.enforce_deadlines()["remainder_lapsed"] == 0
    assert _fresh(milestone).remainder_lapsed
    assert MilestoneEvent.objects.filter(milestone=milestone, kind=MilestoneEvent.Kind.REMAINDER_LAPSED).count() == 1
    to_freelancer, to_employer = _told(freelancer, Kind.REMAINDER_LAPSED), _told(employer, Kind.REMAINDER_LAPSED)
    assert (to_freelancer.params["role"], Decimal(to_freelancer.params["amount"])) == ("freelancer", 500_000)
    assert "You may open a dispute for non-payment" in to_freelancer.text
    assert "You can still pay it" in to_employer.text and "500,000 toman" in to_employer.text

    with pytest.raises(DomainError, match="Choose one of the reasons listed"):
        disputes.dispute_open(milestone=milestone, by=freelancer, reason="quality", description="Not paid.")
    dispute = disputes.dispute_open(
        milestone=milestone, by=freelancer, reason="not_paid", description="Delivered a week ago; still unpaid."
    )
    assert (dispute.reason, dispute.claim, dispute.status) == ("not_paid", "release", "open")
    assert _about(dispute.deadline, timezone.now() + timedelta(days=settings.DISPUTE_ANSWER_DAYS))
    milestone = _fresh(milestone)
    assert (milestone.status, milestone.remainder_due_at) == (Milestone.Status.DISPUTED, None)
    opened = _told(employer, Kind.DISPUTE_OPENED)
    assert opened.params["when"] == dispute.deadline.isoformat() and opened.actor == freelancer


@pytest.mark.django_db
def test_after_the_lapse_the_employer_may_still_pay_and_the_review_clock_takes_over():
    deal = contract_in("remainder_lapsed")
    clocks.mark_remainder_lapsed()
    milestone = funding.milestone_fund(milestone=deal.milestone, by=deal.employer, step="rest")
    milestone = _fresh(milestone)
    assert (milestone.funded, milestone.remainder_due_at) == (1_000_000, None)
    assert milestone.auto_release_at is not None
    assert _told(deal.freelancer, Kind.REMAINDER_PAID)
    with pytest.raises(InvalidTransition, match="review clock will release the payment"):
        disputes.dispute_open(milestone=milestone, by=deal.freelancer, reason="not_paid", description="Unpaid.")
    assert delivery.release_due_escrow(now=milestone.auto_release_at + SECOND) == 1
    assert _wallet(deal.freelancer) == 900_000
    assert ledger_check().clean


# --- disputes from both sides ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unanswered_non_payment_dispute_releases_what_is_in_escrow_to_the_freelancer():
    deal = contract_in("freelancer_disputed")
    dispute = deal.dispute
    assert clocks.enforce_deadlines(now=dispute.deadline - SECOND)["disputes_defaulted"] == 0
    done = clocks.enforce_deadlines(now=dispute.deadline + SECOND)
    assert done["disputes_defaulted"] == 1
    assert clocks.enforce_deadlines(now=dispute.deadline + timedelta(days=1))["disputes_defaulted"] == 0

    assert (_wallet(deal.freelancer), _revenue(), _wallet(deal.employer)) == (450_000, 50_000, 1_500_000)
    dispute = Dispute.objects.get(pk=dispute.pk)
    assert (dispute.status, dispute.resolved_by, dispute.deadline) == (Dispute.Status.RESOLVED, None, None)
    milestone = _fresh(deal.milestone)
    assert (milestone.status, milestone.released, _in_escrow(milestone)) == (Milestone.Status.COMPLETED, 500_000, 0)
    assert Contract.objects.get(pk=deal.contract.pk).status == Contract.Status.COMPLETED
    event = milestone.events.get(kind=MilestoneEvent.Kind.DISPUTE_DEFAULTED)
    assert (event.actor, event.amount) == (None, 500_000)
    for user in (deal.employer, deal.freelancer):
        told = _told(user, Kind.DISPUTE_DEFAULTED)
        assert Decimal(told.params["amount"]) == 500_000 and "500,000 toman to the freelancer" in told.text
    assert _moves("release") == 1
    assert ledger_check().clean


@pytest.mark.django_db
def test_paid_during_the_non_payment_dispute_the_deadline_releases_all_of_it():
    deal = contract_in("freelancer_disputed")
    funding.milestone_fund(milestone=deal.milestone, by=deal.employer, step="rest")
    assert _fresh(deal.milestone).status == Milestone.Status.DISPUTED  # paying is no answer
    assert clocks.enforce_deadlines(now=deal.dispute.deadline + SECOND)["disputes_defaulted"] == 1
    assert (_wallet(deal.freelancer), _wallet(deal.employer)) == (900_000, 1_000_000)
    assert ledger_check().clean


@pytest.mark.django_db
def test_an_unanswered_employers_dispute_refunds_and_unwinds_a_contract_never_paid_out():
    deal = contract_in("disputed")  # delivered, paid in full, disputed by the employer
    assert deal.dispute.claim == Dispute.Claim.REFUND
    assert clocks.enforce_deadlines(now=deal.dispute.deadline + SECOND)["disputes_defaulted"] == 1
    assert (_wallet(deal.employer), _wallet(deal.freelancer)) == (2_000_000, 0)
    deal.refresh()
    assert (deal.milestone.status, deal.dispute.status) == (Milestone.Status.REFUNDED, Dispute.Status.RESOLVED)
    assert deal.contract.status == Contract.Status.CANCELLED  # as if the proposal had never been chosen
    assert deal.project.status == Project.Status.OPEN
    assert Proposal.objects.get(pk=deal.proposal.pk).status == Proposal.Status.WITHDRAWN
    assert Decimal(_told(deal.freelancer, Kind.DISPUTE_DEFAULTED).params["amount"]) == 0
    assert _moves("refund") == 1
    assert ledger_check().clean


@pytest.mark.django_db
def test_the_answering_side_is_warned_once_then_both_before_the_negotiation_ends(settings):
    deal = contract_in("disputed")
    dispute = deal.dispute
    early = dispute.deadline - settings.DISPUTE_DEADLINE_WARNING - SECOND
    assert clocks.enforce_deadlines(now=early)["disputes_warned"] == 0
    assert clocks.enforce_deadlines(now=dispute.deadline - timedelta(hours=2))["disputes_warned"] == 1
    assert clocks.enforce_deadlines(now=dispute.deadline - timedelta(hours=1))["disputes_warned"] == 0
    soon = _told(deal.freelancer, Kind.DISPUTE_ANSWER_SOON)
    assert soon.params["when"] == dispute.deadline.isoformat() and "without an answer" in soon.text
    assert not Notification.objects.filter(recipient=deal.employer, kind=Kind.DISPUTE_ANSWER_SOON).exists()

    dispute = disputes.dispute_answer(dispute=dispute, by=deal.freelancer, message="Both screens are in v2.")
    assert clocks.enforce_deadlines(now=dispute.deadline - timedelta(hours=2))["disputes_warned"] == 1
    assert clocks.enforce_deadlines(now=dispute.deadline - timedelta(hours=1))["disputes_warned"] == 0
    for user in (deal.employer, deal.freelancer):
        assert _told(user, Kind.NEGOTIATION_ENDS_SOON).params["when"] == dispute.deadline.isoformat()


@pytest.mark.django_db
def test_an_answer_starts_the_negotiation_and_its_end_sends_the_case_to_staff(settings):
    staff = _staff()
    deal = contract_in("answered")  # the employer's dispute, answered by the freelancer
    dispute = deal.dispute
    assert dispute.status == Dispute.Status.ANSWERED
    assert _about(dispute.deadline, dispute.answered_at + timedelta(days=settings.DISPUTE_NEGOTIATION_DAYS))
    answered = _told(deal.employer, Kind.DISPUTE_ANSWERED)
    assert answered.params["when"] == dispute.deadline.isoformat() and answered.actor == deal.freelancer
    deadline = dispute.deadline
    disputes.dispute_answer(dispute=dispute, by=deal.freelancer, message="And the footer too.")  # adds, no new time
    assert Dispute.objects.get(pk=dispute.pk).deadline == deadline

    assert clocks.enforce_deadlines(now=deadline - SECOND)["disputes_escalated"] == 0
    done = clocks.enforce_deadlines(now=deadline + SECOND)
    assert (done["disputes_escalated"], done["disputes_defaulted"]) == (1, 0)
    dispute = Dispute.objects.get(pk=dispute.pk)
    assert (dispute.status, dispute.deadline) == (Dispute.Status.ESCALATED, None)
    told = _told(staff, Kind.DISPUTE_DEADLINE_ESCALATED)
    assert told.url == reverse("admin:workspace_dispute_change", args=[dispute.pk])
    assert told.params["project"] == deal.project.title
    for user in (deal.employer, deal.freelancer):
        assert _told(user, Kind.DISPUTE_DEADLINE_ESCALATED).actor is None
    assert deal.milestone.events.filter(kind=MilestoneEvent.Kind.DISPUTE_ESCALATED, actor=None).count() == 1
    # With staff, no clock decides it: nothing moves however long it waits.
    later = clocks.enforce_deadlines(now=deadline + timedelta(days=60))
    assert later["disputes_escalated"] == later["disputes_defaulted"] == later["released"] == 0
    assert _in_escrow(deal.milestone) == 1_000_000
    assert Dispute.objects.get(pk=dispute.pk).status == Dispute.Status.ESCALATED


@pytest.mark.django_db
def test_the_notice_of_an_escalation_by_the_deadline_reads_as_a_sentence():
    deal = contract_in("answered")
    clocks.enforce_deadlines(now=deal.dispute.deadline + SECOND)
    text = _told(deal.employer, Kind.DISPUTE_DEADLINE_ESCALATED).text
    assert text.startswith("The negotiation on"), text
    assert not Notification.objects.filter(kind=Kind.DISPUTE_ESCALATED).exists()  # nobody sent it


@pytest.mark.django_db
def test_each_side_gives_only_its_own_reasons():
    deal = contract_in("delivered")
    for reason in ("not_paid", "no_answer", "out_of_scope", "nonsense"):
        with pytest.raises(DomainError, match="Choose one of the reasons listed"):
            disputes.dispute_open(milestone=deal.milestone, by=deal.employer, reason=reason, description="Bad.")
    with pytest.raises(InvalidTransition):  # late is the employer's cancellation of work not delivered
        disputes.dispute_open(milestone=deal.milestone, by=deal.employer, reason="late", description="Late.")
    Milestone.objects.filter(pk=deal.milestone.pk).update(remainder_due_at=timezone.now() - SECOND)
    for reason in ("incomplete", "quality", "not_as_agreed", "out_of_scope"):
        with pytest.raises(DomainError, match="Choose one of the reasons listed"):
            disputes.dispute_open(milestone=deal.milestone, by=deal.freelancer, reason=reason, description="Unpaid.")
    assert not Dispute.objects.exists()
    assert _fresh(deal.milestone).status == Milestone.Status.DELIVERED


@pytest.mark.django_db
def test_the_employer_withdraws_their_dispute_and_the_review_clock_starts_again(settings):
    deal = contract_in("disputed")
    with pytest.raises(NotAllowed, match="Only the side who opened the dispute"):
        disputes.dispute_withdraw(dispute=deal.dispute, by=deal.freelancer)
    disputes.dispute_withdraw(dispute=deal.dispute, by=deal.employer)
    deal.refresh()
    assert (deal.dispute.status, deal.dispute.resolved_by) == (Dispute.Status.RESOLVED, deal.employer)
    assert deal.milestone.status == Milestone.Status.DELIVERED
    assert _about(deal.milestone.auto_release_at, timezone.now() + settings.ESCROW_AUTO_RELEASE_DELAY)
    assert _told(deal.freelancer, Kind.DISPUTE_WITHDRAWN).actor == deal.employer
    assert deal.milestone.events.filter(kind=MilestoneEvent.Kind.DISPUTE_WITHDRAWN).count() == 1
    assert delivery.release_due_escrow(now=deal.milestone.auto_release_at + SECOND) == 1
    assert _wallet(deal.freelancer) == 900_000


@pytest.mark.django_db
def test_the_freelancer_withdraws_a_non_payment_dispute_and_the_run_out_remainder_clock_stays_run_out():
    deal = contract_in("freelancer_disputed")
    with pytest.raises(NotAllowed):
        disputes.dispute_withdraw(dispute=deal.dispute, by=deal.employer)
    disputes.dispute_withdraw(dispute=deal.dispute, by=deal.freelancer)
    milestone = _fresh(deal.milestone)
    assert (milestone.status, milestone.remainder_lapsed) == (Milestone.Status.DELIVERED, True)
    assert _about(milestone.remainder_due_at, timezone.now())
    assert _told(deal.employer, Kind.DISPUTE_WITHDRAWN)
    # the clock had run out when the dispute opened: the freelancer may dispute again at once
    disputes.dispute_open(milestone=milestone, by=deal.freelancer, reason="not_paid", description="Again.")
    assert _in_escrow(milestone) == 500_000


@pytest.mark.django_db
def test_a_dispute_opened_and_withdrawn_again_and_again_never_buys_time():
    """The review clock stops while a dispute runs and resumes with what it had left: an employer cannot push the
    automatic release back by opening and withdrawing disputes."""
    deal = contract_in("review")
    Milestone.objects.filter(pk=deal.milestone.pk).update(auto_release_at=timezone.now() + timedelta(hours=1))
    for _ in range(3):
        dispute = disputes.dispute_open(milestone=deal.milestone, by=deal.employer, reason="quality", description="x")
        disputes.dispute_withdraw(dispute=dispute, by=deal.employer)
    assert _about(_fresh(deal.milestone).auto_release_at, timezone.now() + timedelta(hours=1))
    assert clocks.enforce_deadlines(now=timezone.now() + timedelta(hours=1, minutes=1))["released"] == 1


@pytest.mark.django_db
def test_an_offer_to_end_by_agreement_made_before_a_dispute_settles_it():
    deal = contract_in("cancel_offered")  # the employer's offer of 100,000 waits
    funding.milestone_fund(milestone=deal.milestone, by=deal.employer, step="rest")
    settling.offer_withdraw(offer=deal.offer, by=deal.employer)
    offer = settling.offer_make(milestone=deal.milestone, by=deal.employer, to_freelancer="100000")
    _deliver(deal)
    dispute = disputes.dispute_open(milestone=deal.milestone, by=deal.employer, reason="quality", description="x")
    assert Offer.objects.get(pk=offer.pk).dispute_id == dispute.pk  # shown in the dispute's box, settles it
    settling.offer_accept(offer=offer, by=deal.freelancer)
    assert Dispute.objects.get(pk=dispute.pk).status == Dispute.Status.RESOLVED
    assert ledger_check().clean


@pytest.mark.django_db
def test_declining_the_openers_offer_answers_the_dispute():
    deal = contract_in("freelancer_disputed")
    offer = settling.offer_make(milestone=deal.milestone, by=deal.freelancer, to_freelancer="450000")
    settling.offer_decline(offer=offer, by=deal.employer)
    dispute = Dispute.objects.get(pk=deal.dispute.pk)
    assert dispute.status == Dispute.Status.ANSWERED  # negotiation: the default no longer applies
    assert _about(dispute.deadline, timezone.now() + timedelta(days=django_settings.DISPUTE_NEGOTIATION_DAYS))


@pytest.mark.django_db
def test_a_due_date_at_the_end_of_the_calendar_is_refused():
    from datetime import date

    deal = contract_in("in_progress")
    with pytest.raises(DomainError, match="at most 5 years away"):
        changes.change_propose(contract=deal.contract, by=deal.freelancer, kind="edit", milestone=deal.milestone,
                               due_date=date(9999, 12, 31))  # fmt: skip
    Milestone.objects.filter(pk=deal.milestone.pk).update(due_date=date(9999, 12, 31))  # as if from elsewhere
    milestone = Milestone.objects.select_related("contract").get(pk=deal.milestone.pk)
    assert "cancel_late" not in rules.available_operations(milestone=milestone, user=deal.employer)


# --- offers ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_offer_countered_and_accepted_settles_the_dispute_in_one_split(settings):
    deal = contract_in("disputed")  # 1,000,000 in escrow, the employer's dispute waits for an answer
    employer, freelancer, milestone, dispute = deal.employer, deal.freelancer, deal.milestone, deal.dispute
    first = settling.offer_make(milestone=milestone, by=employer, to_freelancer="300,000", note="For what is done.")
    assert Dispute.objects.get(pk=dispute.pk).status == Dispute.Status.OPEN  # the opener's offer is no answer
    made = _told(freelancer, Kind.OFFER_MADE)
    assert (Decimal(made.params["amount"]), made.params["note"]) == (300_000, "For what is done.")
    with pytest.raises(NotAllowed):
        settling.offer_accept(offer=first, by=employer)
    with pytest.raises(DomainError, match="at most what is in secure payment"):
        settling.offer_make(milestone=milestone, by=freelancer, to_freelancer="1000001")

    counter = settling.offer_make(milestone=milestone, by=freelancer, to_freelancer="۷۰۰٬۰۰۰")  # Persian digits
    assert counter.to_freelancer == 700_000
    assert Offer.objects.get(pk=first.pk).status == Offer.Status.COUNTERED
    dispute = Dispute.objects.get(pk=dispute.pk)
    assert dispute.status == Dispute.Status.ANSWERED  # the answering side's offer is its answer
    assert _about(dispute.deadline, timezone.now() + timedelta(days=settings.DISPUTE_NEGOTIATION_DAYS))

    before = set(Transaction.objects.values_list("pk", flat=True))
    settling.offer_accept(offer=counter, by=employer)
    (split,) = Transaction.objects.exclude(pk__in=before)
    assert split.kind == "split"
    assert sorted(split.entries.values_list("amount", flat=True)) == [-1_000_000, 70_000, 300_000, 630_000]
    assert (_wallet(freelancer), _revenue(), _wallet(employer)) == (630_000, 70_000, 1_300_000)
    deal.refresh()
    assert Offer.objects.get(pk=counter.pk).status == Offer.Status.ACCEPTED
    assert (deal.dispute.status, deal.milestone.status) == (Dispute.Status.RESOLVED, Milestone.Status.COMPLETED)
    assert (deal.milestone.released, deal.milestone.refunded, _in_escrow(deal.milestone)) == (700_000, 300_000, 0)
    assert deal.contract.status == Contract.Status.COMPLETED
    for user in (employer, freelancer):
        accepted = _told(user, Kind.OFFER_ACCEPTED)
        assert Decimal(accepted.params["amount"]) == 700_000 and "700,000 toman to the freelancer" in accepted.text
    assert deal.milestone.events.filter(kind=MilestoneEvent.Kind.SETTLED, amount=700_000).count() == 1
    assert ledger_check().clean


@pytest.mark.django_db
def test_an_offer_is_declined_by_the_other_side_and_withdrawn_only_by_its_maker():
    deal = contract_in("negotiating")  # the freelancer answered the employer's dispute with an offer of 700,000
    offer, employer, freelancer = deal.offer, deal.employer, deal.freelancer
    assert deal.dispute.status == Dispute.Status.ANSWERED
    with pytest.raises(NotAllowed, match="Only the side who made the offer"):
        settling.offer_withdraw(offer=offer, by=employer)
    with pytest.raises(NotAllowed):
        settling.offer_decline(offer=offer, by=freelancer)
    settling.offer_decline(offer=offer, by=employer)
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.DECLINED
    assert _told(freelancer, Kind.OFFER_DECLINED).actor == employer
    with pytest.raises(InvalidTransition):
        settling.offer_accept(offer=offer, by=employer)

    again = settling.offer_make(milestone=deal.milestone, by=freelancer, to_freelancer="650000")
    with pytest.raises(InvalidTransition, match="withdraw it to make another"):
        settling.offer_make(milestone=deal.milestone, by=freelancer, to_freelancer="600000")
    settling.offer_withdraw(offer=again, by=freelancer)
    assert Offer.objects.get(pk=again.pk).status == Offer.Status.WITHDRAWN
    kinds = set(deal.milestone.events.values_list("kind", flat=True))
    assert {MilestoneEvent.Kind.OFFER_DECLINED, MilestoneEvent.Kind.OFFER_WITHDRAWN} <= kinds
    assert (_moves("split"), _in_escrow(deal.milestone)) == (0, 1_000_000)
    assert Dispute.objects.get(pk=deal.dispute.pk).status == Dispute.Status.ANSWERED


@pytest.mark.django_db
def test_the_parties_end_work_in_progress_by_agreement_without_a_dispute():
    deal = contract_in("cancel_offered")  # in progress, 500,000 upfront in escrow; the employer offers 100,000
    assert deal.offer.dispute is None
    settling.offer_accept(offer=deal.offer, by=deal.freelancer)
    assert (_wallet(deal.freelancer), _revenue(), _wallet(deal.employer)) == (90_000, 10_000, 1_900_000)
    deal.refresh()
    assert (deal.milestone.status, deal.contract.status) == (Milestone.Status.COMPLETED, Contract.Status.COMPLETED)
    assert _moves("split") == 1 and not Dispute.objects.exists()
    assert ledger_check().clean


@pytest.mark.django_db
def test_offering_nothing_for_an_unfunded_phase_cancels_it_and_the_contract_goes_on():
    deal = phased_contract_in(5, 10, states=("funded",))
    first, second = deal.milestones
    with pytest.raises(DomainError, match="at most"):
        settling.offer_make(milestone=second, by=deal.employer, to_freelancer="1")
    offer = settling.offer_make(milestone=second, by=deal.employer, to_freelancer="0", note="We stop after phase 1.")
    settling.offer_accept(offer=offer, by=deal.freelancer)
    deal.refresh()
    assert deal.milestones[1].status == Milestone.Status.CANCELLED
    assert deal.contract.status == Contract.Status.ACTIVE
    assert not Transaction.objects.filter(milestone=second).exists()
    phase_to(first, "completed")
    assert Contract.objects.get(pk=deal.contract.pk).status == Contract.Status.COMPLETED
    assert ledger_check().clean


@pytest.mark.django_db
def test_an_offer_lapses_when_part_of_the_escrow_it_divided_is_released():
    deal = contract_in("in_progress")  # 500,000 upfront in escrow
    offer = settling.offer_make(milestone=deal.milestone, by=deal.freelancer, to_freelancer="400000")
    settling.milestone_release_part(milestone=deal.milestone, by=deal.employer, amount="200000")
    with pytest.raises(InvalidTransition, match="no longer waiting for an answer"):
        settling.offer_accept(offer=offer, by=deal.employer)
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.LAPSED
    assert (_moves("split"), _in_escrow(deal.milestone)) == (0, 300_000)


# --- partial release ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_part_released_early_and_the_approval_releases_only_the_rest():
    deal = contract_in("in_progress")  # 500,000 upfront in escrow
    milestone, employer, freelancer = deal.milestone, deal.employer, deal.freelancer
    with pytest.raises(NotAllowed):
        settling.milestone_release_part(milestone=milestone, by=freelancer, amount="100000")
    for amount in ("0", "500000", "600000"):
        with pytest.raises(DomainError, match="more than zero and less than"):
            settling.milestone_release_part(milestone=milestone, by=employer, amount=amount)
    settling.milestone_release_part(milestone=milestone, by=employer, amount="200,000")
    milestone = _fresh(milestone)
    assert (milestone.status, milestone.released, milestone.in_escrow) == (Milestone.Status.FUNDED, 200_000, 300_000)
    assert (_wallet(freelancer), _revenue(), _in_escrow(milestone)) == (180_000, 20_000, 300_000)
    told = _told(freelancer, Kind.PARTIAL_RELEASED)
    assert Decimal(told.params["amount"]) == 180_000 and "180,000 toman is in your wallet" in told.text
    token = uuid4().hex
    for _ in range(2):  # the same form sent twice (a double click): released once
        settling.milestone_release_part(milestone=milestone, by=employer, amount="100000", token=token)
    assert _fresh(milestone).released == 300_000

    _deliver(deal)
    funding.milestone_fund(milestone=milestone, by=employer, step="rest")
    delivery.milestone_approve(milestone=milestone, by=employer)
    milestone = _fresh(milestone)
    assert (milestone.status, milestone.released) == (Milestone.Status.COMPLETED, 1_000_000)
    assert (_wallet(freelancer), _revenue(), _wallet(employer)) == (900_000, 100_000, 1_000_000)
    amounts = sorted(Transaction.objects.filter(kind="release").values_list("entries__amount", flat=True))
    assert [a for a in amounts if a < 0] == [-700_000, -200_000, -100_000]
    assert milestone.events.filter(kind=MilestoneEvent.Kind.PARTIAL_RELEASED).count() == 2
    assert ledger_check().clean


@pytest.mark.django_db
def test_after_a_partial_release_an_unanswered_dispute_refunds_only_the_rest():
    deal = contract_in("in_progress")
    settling.milestone_release_part(milestone=deal.milestone, by=deal.employer, amount="200000")
    _deliver(deal)
    funding.milestone_fund(milestone=deal.milestone, by=deal.employer, step="rest")
    dispute = disputes.dispute_open(milestone=deal.milestone, by=deal.employer, reason="quality", description="Ugly.")
    assert clocks.enforce_deadlines(now=dispute.deadline + SECOND)["disputes_defaulted"] == 1
    assert (_wallet(deal.freelancer), _wallet(deal.employer)) == (180_000, 1_800_000)
    deal.refresh()
    assert deal.milestone.status == Milestone.Status.REFUNDED
    assert deal.contract.status == Contract.Status.COMPLETED  # not unwound: the freelancer was paid for part
    assert ledger_check().clean


# --- bonus -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_bonus_is_paid_from_the_wallet_less_commission_and_the_same_form_pays_once():
    deal = contract_in("in_progress")  # 1,500,000 left in the employer's wallet
    token = uuid4().hex
    pay = lambda: settling.contract_bonus(contract=deal.contract, by=deal.employer, amount="200000",  # noqa: E731
                                          note="Thank you!", token=token)  # fmt: skip
    assert pay() == 180_000
    assert pay() == 180_000  # the form sent again
    assert (_wallet(deal.employer), _wallet(deal.freelancer), _revenue()) == (1_300_000, 180_000, 20_000)
    assert _moves("bonus") == 1
    told = _told(deal.freelancer, Kind.BONUS_PAID)
    assert Decimal(told.params["amount"]) == 180_000 and "bonus" in told.text
    assert deal.milestone.events.filter(kind=MilestoneEvent.Kind.BONUS, amount=200_000).count() == 1
    with pytest.raises(NotAllowed):
        settling.contract_bonus(contract=deal.contract, by=deal.freelancer, amount="1000", token=uuid4().hex)
    with pytest.raises(DomainError, match="The form has expired"):
        settling.contract_bonus(contract=deal.contract, by=deal.employer, amount="1000", token="again")
    assert ledger_check().clean


@pytest.mark.django_db
def test_a_bonus_beyond_the_wallet_says_so_and_moves_nothing():
    deal = contract_in("in_progress", wallet="600000")  # 100,000 left after the upfront share
    token = uuid4().hex
    with pytest.raises(DomainError, match="Your wallet does not hold this amount"):
        settling.contract_bonus(contract=deal.contract, by=deal.employer, amount="200000", token=token)
    assert (_wallet(deal.employer), _wallet(deal.freelancer), _moves("bonus")) == (100_000, 0, 0)
    assert not Notification.objects.filter(kind=Kind.BONUS_PAID).exists()
    assert not MilestoneEvent.objects.filter(kind=MilestoneEvent.Kind.BONUS).exists()
    post_deposit(user=deal.employer, amount=Decimal(100_000), currency="IRT", gateway="sandbox", key="top-up")
    settling.contract_bonus(contract=deal.contract, by=deal.employer, amount="200000", token=token)  # now it pays
    assert (_wallet(deal.employer), _wallet(deal.freelancer)) == (0, 180_000)


@pytest.mark.django_db
def test_a_bonus_is_refused_on_a_cancelled_contract_and_paid_on_a_completed_one():
    cancelled = contract_in("cancelled")
    with pytest.raises(InvalidTransition, match="running or completed"):
        settling.contract_bonus(contract=cancelled.contract, by=cancelled.employer, amount="1000", token=uuid4().hex)
    completed = contract_in("completed")
    paid = settling.contract_bonus(contract=completed.contract, by=completed.employer, amount="50000",
                                   token=uuid4().hex)  # fmt: skip
    assert paid == 45_000 and _wallet(completed.freelancer) == 900_000 + 45_000
    assert ledger_check().clean


# --- changes agreed by both --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_added_milestone_is_paid_in_full_upfront_and_the_freelancer_may_deliver_it():
    deal = contract_in("in_progress")
    due = timezone.localdate() + timedelta(days=30)
    change = changes.change_propose(
        contract=deal.contract, by=deal.freelancer, kind="add", title="Logo", amount="300,000", due_date=due,
        note="The logo was not in the brief.",
    )  # fmt: skip
    proposed = _told(deal.employer, Kind.CHANGE_PROPOSED)
    assert (proposed.actor, proposed.params["project"]) == (deal.freelancer, deal.project.title)
    with pytest.raises(NotAllowed, match="The other side answers your change"):
        changes.change_accept(change=change, by=deal.freelancer)
    changes.change_accept(change=change, by=deal.employer)
    assert ContractChange.objects.get(pk=change.pk).status == ContractChange.Status.ACCEPTED
    assert _told(deal.freelancer, Kind.CHANGE_ACCEPTED).actor == deal.employer
    added = _fresh(deal.contract.milestones.get(position=2))
    assert (added.title, added.amount, added.upfront_share, added.due_date) == ("Logo", 300_000, 1, due)
    assert (added.status, added.funded) == (Milestone.Status.PENDING, 0)
    assert added.events.filter(kind=MilestoneEvent.Kind.MILESTONE_ADDED).exists()
    assert rules.funding_due(added) == ("upfront", 300_000)
    with pytest.raises(InvalidTransition):  # no work before it is paid
        delivery.deliverable_upload(milestone=added, by=deal.freelancer, upload=zip_file())

    funding.milestone_fund(milestone=added, by=deal.employer, step="upfront")
    added = _fresh(added)
    assert (added.status, added.funded, _in_escrow(added)) == (Milestone.Status.FUNDED, 300_000, 300_000)
    assert _wallet(deal.employer) == 1_200_000
    delivery.deliverable_upload(milestone=added, by=deal.freelancer, upload=zip_file())
    assert added.deliverables.count() == 1
    assert ledger_check().clean


@pytest.mark.django_db
def test_an_increase_of_a_funded_milestone_makes_the_difference_due():
    deal = contract_in("in_progress")
    funding.milestone_fund(milestone=deal.milestone, by=deal.employer, step="rest")  # all 1,000,000 in escrow
    change = changes.change_propose(
        contract=deal.contract, by=deal.freelancer, kind="edit", milestone=deal.milestone, amount="1200000"
    )
    changes.change_accept(change=change, by=deal.employer)
    milestone = _fresh(deal.milestone)
    assert (milestone.amount, milestone.funded, milestone.status) == (1_200_000, 1_000_000, Milestone.Status.FUNDED)
    assert ContractChange.objects.get(pk=change.pk).before["amount"] == "1000000.00"
    assert rules.funding_due(milestone) == ("rest", 200_000)
    funding.milestone_fund(milestone=milestone, by=deal.employer, step="rest")
    assert (_fresh(milestone).funded, _in_escrow(milestone), _wallet(deal.employer)) == (1_200_000, 1_200_000, 800_000)
    assert ledger_check().clean


@pytest.mark.django_db
def test_a_decrease_refunds_the_excess_and_going_back_up_charges_again():
    deal = contract_in("in_progress")
    employer, freelancer, milestone = deal.employer, deal.freelancer, deal.milestone
    funding.milestone_fund(milestone=milestone, by=employer, step="rest")
    down = changes.change_propose(contract=deal.contract, by=employer, kind="edit", milestone=milestone,
                                  amount="800000")  # fmt: skip
    before = set(Transaction.objects.values_list("pk", flat=True))
    changes.change_accept(change=down, by=freelancer)
    (refund,) = Transaction.objects.exclude(pk__in=before)
    assert refund.kind == "refund" and sorted(refund.entries.values_list("amount", flat=True)) == [-200_000, 200_000]
    milestone = _fresh(milestone)
    assert (milestone.amount, milestone.funded, _in_escrow(milestone)) == (800_000, 800_000, 800_000)
    assert _wallet(employer) == 1_200_000 and rules.funding_due(milestone) is None

    # Back to 1,000,000: the same target as the first payment of the rest, yet new money.
    up = changes.change_propose(contract=deal.contract, by=freelancer, kind="edit", milestone=milestone,
                                amount="1000000")  # fmt: skip
    changes.change_accept(change=up, by=employer)
    assert rules.funding_due(_fresh(milestone)) == ("rest", 200_000)
    funding.milestone_fund(milestone=milestone, by=employer, step="rest")
    milestone = _fresh(milestone)
    assert (milestone.funded, _in_escrow(milestone), _wallet(employer)) == (1_000_000, 1_000_000, 1_000_000)
    assert Transaction.objects.filter(kind="fund", milestone=milestone).count() == 3
    assert ledger_check().clean


@pytest.mark.django_db
def test_a_change_may_not_go_below_what_was_paid_out_nor_into_the_past():
    deal = contract_in("in_progress")
    settling.milestone_release_part(milestone=deal.milestone, by=deal.employer, amount="300000")
    propose = lambda **values: changes.change_propose(  # noqa: E731
        contract=deal.contract, by=deal.employer, kind="edit", milestone=deal.milestone, **values
    )
    with pytest.raises(DomainError, match="already paid out of this milestone"):
        propose(amount="200000")
    with pytest.raises(DomainError, match="cannot be in the past"):
        propose(due_date=timezone.localdate() - timedelta(days=1))
    with pytest.raises(DomainError, match="Change at least one thing"):
        propose(amount="1000000")
    with pytest.raises(DomainError, match="cannot be in the past"):
        changes.change_propose(contract=deal.contract, by=deal.employer, kind="add", title="Logo", amount="1000",
                               due_date=timezone.localdate() - timedelta(days=1))  # fmt: skip
    assert not ContractChange.objects.exists()
    # Down to what is paid out plus what is still in escrow's share: the rest of the escrow goes back.
    change = propose(amount="400000")
    changes.change_accept(change=change, by=deal.freelancer)
    milestone = _fresh(deal.milestone)
    assert (milestone.amount, milestone.funded, milestone.released, _in_escrow(milestone)) == (
        400_000, 400_000, 300_000, 100_000
    )  # fmt: skip
    assert _wallet(deal.employer) == 1_500_000 + 100_000
    assert ledger_check().clean


@pytest.mark.django_db
def test_one_change_at_a_time_answered_by_the_other_side_and_withdrawn_by_its_proposer():
    deal = contract_in("change_proposed")  # the freelancer asks for a later due date
    change, employer, freelancer = deal.change, deal.employer, deal.freelancer
    due = deal.milestone.due_date
    with pytest.raises(InvalidTransition, match="already waiting for an answer"):
        changes.change_propose(contract=deal.contract, by=employer, kind="add", title="Logo", amount="1000",
                               due_date=timezone.localdate() + timedelta(days=9))  # fmt: skip
    for answer in (changes.change_accept, changes.change_decline):
        with pytest.raises(NotAllowed):
            answer(change=change, by=freelancer)
    with pytest.raises(NotAllowed, match="Only the side who proposed"):
        changes.change_withdraw(change=change, by=employer)
    changes.change_decline(change=change, by=employer)
    assert ContractChange.objects.get(pk=change.pk).status == ContractChange.Status.DECLINED
    assert _told(freelancer, Kind.CHANGE_DECLINED).actor == employer
    assert _fresh(deal.milestone).due_date == due
    with pytest.raises(InvalidTransition):
        changes.change_accept(change=change, by=employer)

    renamed = changes.change_propose(contract=deal.contract, by=employer, kind="edit", milestone=deal.milestone,
                                     title="Shop with a blog")  # fmt: skip
    changes.change_withdraw(change=renamed, by=employer)
    assert ContractChange.objects.get(pk=renamed.pk).status == ContractChange.Status.WITHDRAWN
    assert _fresh(deal.milestone).title == "Build an online shop"


@pytest.mark.django_db
def test_a_new_milestone_still_waiting_when_the_contract_closes_lapses_with_it():
    deal = contract_in("review")
    change = changes.change_propose(contract=deal.contract, by=deal.freelancer, kind="add", title="Logo",
                                    amount="300000", due_date=timezone.localdate() + timedelta(days=30))  # fmt: skip
    delivery.milestone_approve(milestone=deal.milestone, by=deal.employer)  # the last milestone: the contract ends
    assert Contract.objects.get(pk=deal.contract.pk).status == Contract.Status.COMPLETED
    assert ContractChange.objects.get(pk=change.pk).status == ContractChange.Status.LAPSED
    with pytest.raises(InvalidTransition):  # else a milestone the employer could pay into and no one could end
        changes.change_accept(change=change, by=deal.employer)
    assert deal.contract.milestones.count() == 1


@pytest.mark.django_db
def test_delivered_work_is_not_changed():
    deal = contract_in("delivered")
    with pytest.raises(InvalidTransition, match="until its work is delivered"):
        changes.change_propose(contract=deal.contract, by=deal.employer, kind="edit", milestone=deal.milestone,
                               amount="900000")  # fmt: skip
    waiting = contract_in("change_proposed")  # a change still waiting when the work is delivered
    _deliver(waiting)
    with pytest.raises(DomainError, match="until its work is delivered"):
        changes.change_accept(change=waiting.change, by=waiting.employer)
    assert _fresh(waiting.milestone).due_date != waiting.change.due_date


# --- due dates and late work -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_single_delivery_is_due_its_delivery_days_after_the_freelancer_accepts():
    deal = contract_in("in_progress")
    today = timezone.localdate()
    assert deal.milestone.due_date == today + timedelta(days=deal.proposal.delivery_days)
    assert not deal.milestone.is_late(today) and not deal.milestone.is_late(deal.milestone.due_date)
    assert deal.milestone.is_late(deal.milestone.due_date + timedelta(days=1))
    _deliver(deal)
    assert not _fresh(deal.milestone).is_late(deal.milestone.due_date + timedelta(days=1))  # delivered in time


@pytest.mark.django_db
def test_late_work_may_not_be_cancelled_before_the_grace_period_ends(settings):
    deal = contract_in("in_progress")
    today = timezone.localdate()
    Milestone.objects.filter(pk=deal.milestone.pk).update(
        due_date=today - timedelta(days=settings.MILESTONE_LATE_GRACE_DAYS)
    )
    milestone = _fresh(deal.milestone)
    assert milestone.is_late(today)
    with pytest.raises(InvalidTransition, match=f"{settings.MILESTONE_LATE_GRACE_DAYS} days after its due date"):
        disputes.dispute_open(milestone=milestone, by=deal.employer, reason="late", description="Late.")
    assert "cancel_late" not in rules.available_operations(milestone=milestone, user=deal.employer)
    tomorrow = timezone.now() + timedelta(days=1)
    assert "cancel_late" in rules.available_operations(milestone=milestone, user=deal.employer, now=tomorrow)
    assert not Dispute.objects.exists()


@pytest.mark.django_db
def test_the_employers_late_cancellation_is_a_dispute_the_freelancer_may_answer():
    deal = contract_in("late")
    with pytest.raises(NotAllowed):
        disputes.dispute_open(milestone=deal.milestone, by=deal.freelancer, reason="late", description="Late.")
    dispute = disputes.dispute_open(
        milestone=deal.milestone, by=deal.employer, reason="late", description="Three weeks late, no word."
    )
    assert (dispute.reason, dispute.claim, dispute.milestone_status_before) == ("late", "refund", "funded")
    assert _fresh(deal.milestone).status == Milestone.Status.DISPUTED
    assert _told(deal.freelancer, Kind.DISPUTE_OPENED).params["when"] == dispute.deadline.isoformat()
    delivery.deliverable_upload(milestone=deal.milestone, by=deal.freelancer, upload=zip_file())  # the work, late
    dispute = disputes.dispute_answer(dispute=dispute, by=deal.freelancer, message="It is uploaded now.")
    assert dispute.status == Dispute.Status.ANSWERED
    assert clocks.enforce_deadlines(now=timezone.now() + timedelta(days=4, hours=1))["disputes_defaulted"] == 0
    assert _in_escrow(deal.milestone) == 500_000


@pytest.mark.django_db
def test_an_unanswered_late_cancellation_refunds_the_employer():
    deal = contract_in("late")
    dispute = disputes.dispute_open(milestone=deal.milestone, by=deal.employer, reason="late", description="Late.")
    assert clocks.enforce_deadlines(now=dispute.deadline + SECOND)["disputes_defaulted"] == 1
    deal.refresh()
    assert (_wallet(deal.employer), deal.milestone.status) == (2_000_000, Milestone.Status.REFUNDED)
    assert (deal.contract.status, deal.project.status) == (Contract.Status.CANCELLED, Project.Status.OPEN)
    assert ledger_check().clean


# --- the sweep: command and beat ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_enforces_the_deadlines_and_says_what_it_did():
    deal = contract_in("disputed")
    Dispute.objects.filter(pk=deal.dispute.pk).update(deadline=timezone.now() - SECOND)  # its time is up
    out = io.StringIO()
    call_command("enforce_deadlines", stdout=out)
    assert "disputes_defaulted: 1" in out.getvalue() and "released: 0" in out.getvalue()
    assert _fresh(deal.milestone).status == Milestone.Status.REFUNDED
    out = io.StringIO()
    call_command("enforce_deadlines", stdout=out)
    assert "disputes_defaulted: 0" in out.getvalue()


@pytest.mark.django_db
def test_the_beat_runs_the_sweep_every_minute():
    scheduled = [e for e in django_settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == tasks.enforce_deadlines.name]
    assert tasks.enforce_deadlines.name == "workspace.tasks.enforce_deadlines"
    assert len(scheduled) == 1 and scheduled[0]["schedule"] <= 60
    deal = contract_in("freelancer_disputed")
    Dispute.objects.filter(pk=deal.dispute.pk).update(deadline=timezone.now() - SECOND)
    assert tasks.enforce_deadlines()["disputes_defaulted"] == 1
    assert _wallet(deal.freelancer) == 450_000


# --- races (PostgreSQL, real threads) ----------------------------------------------------------------------


def _race(first, second) -> list:
    """Two actions in two real threads, started at the same moment; what each returned or raised."""
    actions = iter([first, second])
    lock = threading.Lock()

    def next_action():
        with lock:
            action = next(actions)
        return action()

    return run_in_threads(2, next_action)


def _no_deadlock(results) -> None:
    assert not any(isinstance(result, OperationalError) for result in results), results


@pytest.mark.django_db(transaction=True)
def test_the_answer_deadline_racing_the_answer_ends_one_way(require_postgres):
    deal = contract_in("disputed")
    later = deal.dispute.deadline + SECOND
    results = _race(
        lambda: disputes.dispute_enforce_deadline(deal.dispute.pk, now=later),  # the sweep's step for this dispute
        lambda: disputes.dispute_answer(dispute=deal.dispute, by=deal.freelancer, message="Fixed in v2."),
    )
    _no_deadlock(results)
    dispute = Dispute.objects.get(pk=deal.dispute.pk)
    if "defaulted" in results:  # the deadline first: refunded, and the late answer refused
        assert any(isinstance(r, InvalidTransition) for r in results), results
        assert dispute.status == Dispute.Status.RESOLVED
        assert (_moves("refund"), _wallet(deal.employer)) == (1, 2_000_000)
    else:  # the answer first: negotiation, nothing moved
        assert None in results and any(isinstance(r, Dispute) for r in results), results
        assert dispute.status == Dispute.Status.ANSWERED and dispute.deadline > later
        assert (_moves("refund"), _in_escrow(deal.milestone)) == (0, 1_000_000)
    assert ledger_check().clean


@pytest.mark.django_db(transaction=True)
def test_the_negotiation_deadline_racing_an_accepted_offer_settles_once(require_postgres):
    staff = _staff()
    deal = contract_in("negotiating")  # the freelancer's offer of 700,000 waits for the employer
    later = deal.dispute.deadline + SECOND
    results = _race(
        lambda: clocks.enforce_deadlines(now=later),
        lambda: settling.offer_accept(offer=deal.offer, by=deal.employer),
    )
    _no_deadlock(results)
    # Either the acceptance came first and there is nothing left to escalate, or the case went to staff and the
    # parties' agreement still settles it (staff have not decided yet): one settlement either way.
    assert not any(isinstance(r, Exception) for r in results), results
    (sweep,) = [r for r in results if isinstance(r, dict)]
    escalated = Notification.objects.filter(recipient=staff, kind=Kind.DISPUTE_DEADLINE_ESCALATED).exists()
    assert escalated == bool(sweep["disputes_escalated"])
    assert Dispute.objects.get(pk=deal.dispute.pk).status == Dispute.Status.RESOLVED
    assert _moves("split") == 1
    assert (_wallet(deal.freelancer), _wallet(deal.employer)) == (630_000, 1_300_000)
    assert ledger_check().clean


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_on_one_due_dispute_carry_it_out_once(require_postgres):
    deal = contract_in("disputed")
    later = deal.dispute.deadline + SECOND
    results = run_in_threads(2, lambda: clocks.enforce_deadlines(now=later))
    _no_deadlock(results)
    assert sorted(r["disputes_defaulted"] for r in results) == [0, 1], results
    assert _moves("refund") == 1 and _wallet(deal.employer) == 2_000_000
    assert Notification.objects.filter(kind=Kind.DISPUTE_DEFAULTED).count() == 2  # one to each side
    assert ledger_check().clean


@pytest.mark.django_db(transaction=True)
def test_the_remainder_lapse_racing_the_payment_of_the_rest(require_postgres):
    deal = contract_in("delivered")
    later = deal.milestone.remainder_due_at + SECOND
    results = _race(
        lambda: clocks.mark_remainder_lapsed(now=later),
        lambda: funding.milestone_fund(milestone=deal.milestone, by=deal.employer, step="rest"),
    )
    _no_deadlock(results)
    assert not any(isinstance(r, Exception) for r in results), results
    (lapsed,) = [r for r in results if isinstance(r, int)]
    milestone = _fresh(deal.milestone)
    assert (milestone.funded, milestone.remainder_due_at, _in_escrow(milestone)) == (1_000_000, None, 1_000_000)
    assert milestone.auto_release_at is not None
    assert Notification.objects.filter(kind=Kind.REMAINDER_LAPSED).count() == 2 * lapsed
    assert clocks.mark_remainder_lapsed(now=later + timedelta(days=1)) == 0
    assert _wallet(deal.employer) == 1_000_000
    assert ledger_check().clean


@pytest.mark.django_db(transaction=True)
def test_an_accepted_offer_racing_the_staff_resolution_ends_one_way(require_postgres):
    staff = _staff()
    deal = contract_in("negotiating")
    results = _race(
        lambda: settling.offer_accept(offer=deal.offer, by=deal.employer),
        lambda: disputes.dispute_resolve(dispute=deal.dispute, by=staff, outcome="refund"),
    )
    _no_deadlock(results)
    assert sum(isinstance(r, Offer | Dispute) for r in results) == 1, results
    assert all(isinstance(r, Offer | Dispute | InvalidTransition) for r in results), results
    assert Transaction.objects.filter(kind__in=["split", "refund", "release"]).count() == 1
    assert Dispute.objects.get(pk=deal.dispute.pk).status == Dispute.Status.RESOLVED
    assert Offer.objects.get(pk=deal.offer.pk).status in (Offer.Status.ACCEPTED, Offer.Status.LAPSED)
    assert ledger_check().clean


@pytest.mark.django_db(transaction=True)
def test_two_accepts_of_one_change_apply_it_once(require_postgres):
    deal = contract_in("in_progress")
    funding.milestone_fund(milestone=deal.milestone, by=deal.employer, step="rest")
    change = changes.change_propose(contract=deal.contract, by=deal.employer, kind="edit", milestone=deal.milestone,
                                    amount="800000")  # fmt: skip
    results = run_in_threads(2, lambda: changes.change_accept(change=change, by=deal.freelancer))
    _no_deadlock(results)
    assert sorted(type(r).__name__ for r in results) == ["ContractChange", "InvalidTransition"], results
    milestone = _fresh(deal.milestone)
    assert (milestone.amount, milestone.funded, milestone.amount_changes) == (800_000, 800_000, 1)
    assert _moves("refund") == 1 and _wallet(deal.employer) == 1_200_000
    assert ledger_check().clean


# --- how a contract ends when nothing reaches the freelancer ------------------------------------------------


@pytest.mark.django_db
def test_a_phased_contract_whose_every_phase_is_cancelled_by_agreement_ends_as_never_chosen():
    """Offers of 0 on every unfunded phase: the contract is cancelled and the project open again, as when the
    escrow of a never-paid contract is refunded, not 'completed'."""
    deal = phased_contract_in(5, 10)
    for milestone in deal.contract.milestones.order_by("position"):
        offer = settling.offer_make(milestone=milestone, by=deal.employer, to_freelancer="0")
        settling.offer_accept(offer=offer, by=deal.freelancer)
    contract = Contract.objects.get(pk=deal.contract.pk)
    assert contract.status == Contract.Status.CANCELLED
    assert Project.objects.get(pk=deal.project.pk).status == Project.Status.OPEN
    assert ledger_check().clean


@pytest.mark.django_db
def test_a_bonus_paid_keeps_a_refunded_contract_from_being_unwound():
    """The freelancer got a bonus: a refund by the dispute's deadline closes the contract as completed, it does
    not pretend they were never chosen."""
    deal = contract_in("disputed")
    settling.contract_bonus(contract=deal.contract, by=deal.employer, amount="50000", token=uuid4().hex)
    clocks.enforce_deadlines(now=deal.dispute.deadline + SECOND)
    assert _fresh(deal.milestone).status == Milestone.Status.REFUNDED
    assert Contract.objects.get(pk=deal.contract.pk).status == Contract.Status.COMPLETED
    assert ledger_check().clean


@pytest.mark.django_db
def test_the_same_bonus_form_sent_again_with_another_amount_answers_what_was_paid():
    deal = contract_in("in_progress")
    token = uuid4().hex
    assert settling.contract_bonus(contract=deal.contract, by=deal.employer, amount="100000", token=token) == 90_000
    again = settling.contract_bonus(contract=deal.contract, by=deal.employer, amount="300000", token=token)
    assert again == 90_000 and _moves("bonus") == 1
