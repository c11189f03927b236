"""Paying into a milestone's escrow (one named step at a time, from the wallet or through the gateway), and paying
it back to the employer when a contract is unwound. Money moves only through escrow.ledger."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from escrow.ledger import escrow_account, post_funding, post_refund, wallet_of
from escrow.models import Payment
from escrow.services import payment_event, payment_start
from marketplace.currency import round_amount
from marketplace.errors import DomainError
from notifications.models import Notification
from projects.services import project_reopen
from proposals.models import Proposal
from proposals.services import proposal_set_aside
from workspace.models import Contract, Milestone, MilestoneEvent
from workspace.services.history import contract_set_status, milestone_set_status, notify_parties, record_event
from workspace.services.locks import lock_milestone
from workspace.services.rules import ensure, funding_due


def after_funding(milestone: Milestone, now) -> None:
    """What money in escrow unlocks: work may start at the upfront share; the review clock of a delivered
    milestone starts once it is fully funded."""
    if milestone.status == Milestone.Status.PENDING and milestone.work_may_start:
        milestone_set_status(milestone, Milestone.Status.FUNDED)
    if milestone.status == Milestone.Status.DELIVERED and milestone.fully_funded and not milestone.auto_release_at:
        milestone.auto_release_at = now + settings.ESCROW_AUTO_RELEASE_DELAY
        milestone.remainder_due_at = None  # paid in full: the review clock replaces the remainder clock


def funding_key(milestone: Milestone, target) -> str:
    """The idempotency key of funding `milestone` up to `target`: a repeat pays once. After an agreed change of
    the amount the key names the change, so funding back to an amount the milestone had before is new money."""
    if milestone.amount_changes:
        return f"fund:{milestone.pk}:v{milestone.amount_changes}:to:{target}"
    return f"fund:{milestone.pk}:to:{target}"


@transaction.atomic
def milestone_fund(*, milestone: Milestone, by: User, step: str) -> Milestone:
    """Pay one step of the milestone (`upfront` or `rest`) into escrow from the employer's wallet. The step is
    named by the request, never inferred: a repeat of a step already paid, or a step not yet due, moves nothing
    (two clicks, two tabs, or two paid gateway shortfalls pay once)."""
    if step not in Payment.FundStep.values:
        raise DomainError(_("Choose what to pay."))
    milestone = lock_milestone(milestone.pk)
    ensure("fund", user=by, milestone=milestone, step=step)
    target = milestone.upfront_amount if step == Payment.FundStep.UPFRONT else milestone.amount
    amount = round_amount(funding_due(milestone)[1], milestone.contract.currency)
    post_funding(
        payer=by,
        escrow=escrow_account(milestone.escrow_key, milestone.contract.currency),
        amount=amount,
        key=funding_key(milestone, target),
        memo=milestone.title,
        milestone=milestone,
    )
    before = milestone.status
    milestone.funded = target
    after_funding(milestone, timezone.now())
    milestone.save(update_fields=["funded", "status", "auto_release_at", "remainder_due_at"])
    record_event(milestone, MilestoneEvent.Kind.FUNDED, actor=by, before=before, amount=amount)
    if before == Milestone.Status.PENDING and milestone.status == Milestone.Status.FUNDED:
        # The upfront share of a single delivery (the freelancer may accept), or a phase paid in full (may start).
        active = milestone.contract.status == Contract.Status.ACTIVE
        kind = Notification.Kind.PHASE_FUNDED if active else Notification.Kind.UPFRONT_PAID
    elif before != Milestone.Status.PENDING and milestone.fully_funded:
        kind = Notification.Kind.REMAINDER_PAID
    else:
        kind = None
    if kind:
        notify_parties(milestone, kind, [milestone.contract.freelancer], actor=by, amount=amount)
    return milestone


def milestone_fund_next(*, milestone: Milestone, by: User) -> Milestone:
    """Pay whatever step is due now (the demo seed and test set-up, which walk a contract forward)."""
    due = funding_due(Milestone.objects.select_related("contract").get(pk=milestone.pk))
    if due is None:
        raise DomainError(_("Nothing is due on this milestone."))
    return milestone_fund(milestone=milestone, by=by, step=due[0])


def wallet_shortfall(*, milestone: Milestone, user: User) -> Decimal:
    """How much of the step due now the employer's wallet cannot cover (paid through the gateway)."""
    due = funding_due(milestone)
    balance = wallet_of(user, milestone.contract.currency).balance
    return max((due[1] if due else Decimal(0)) - balance, Decimal(0))


@dataclass(frozen=True)
class PayOutcome:
    """Paid from the wallet (`redirect_url` empty), or the browser goes to the gateway for the shortfall."""

    redirect_url: str = ""


def milestone_pay(*, milestone: Milestone, by: User, step: str, site_url: str, next_url: str) -> PayOutcome:
    """The employer's Pay: the named step from the wallet when it covers it; otherwise a gateway payment of the
    shortfall, which funds the step when the gateway confirms it (`fund_from_payment`). A repeat or a step not
    due is refused by `milestone_fund` with its reason, moving nothing."""
    milestone = Milestone.objects.select_related("contract").get(pk=milestone.pk)
    ensure("fund", user=by, milestone=milestone, step=step)  # who, and that this step is the one due, first
    due = funding_due(milestone)
    shortfall = wallet_shortfall(milestone=milestone, user=by)
    if not shortfall:
        milestone_fund(milestone=milestone, by=by, step=step)
        return PayOutcome()
    _payment, url = payment_start(
        user=by, amount=shortfall, site_url=site_url, currency=milestone.contract.currency, milestone=milestone,
        fund_amount=due[1], fund_step=step, next_url=next_url,
    )  # fmt: skip
    return PayOutcome(redirect_url=url)


def fund_from_payment(*, payment: Payment, **_kwargs) -> None:
    """escrow's `payment_credited` signal: a verified payment that was the shortfall of a funding funds its step
    now. If that is no longer possible (paid meanwhile), the money stays in the wallet and the payment's history
    says why. Runs inside the crediting transaction."""
    if not payment.milestone_id:
        return
    milestone = Milestone.objects.select_related("contract").get(pk=payment.milestone_id)
    # A payment started before steps were named pays the step that is due now (the old behaviour).
    due = funding_due(milestone)
    step = payment.fund_step or (due[0] if due else Payment.FundStep.UPFRONT)
    try:
        milestone_fund(milestone=milestone, by=payment.user, step=step)
    except DomainError as error:
        payment_event(payment, "funding_not_completed", reason=error.message)
    else:
        payment_event(payment, "milestone_funded", milestone=payment.milestone_id, amount=payment.fund_amount)


# --- paying back -----------------------------------------------------------------------------------------


def milestone_refund(contract: Contract, milestone: Milestone, *, actor: User, kind: str) -> None:
    """Refund whatever is in the milestone's escrow to the employer; the milestone ends refunded. The caller holds
    the milestone's lock."""
    refunded = milestone.in_escrow
    if refunded > 0:
        post_refund(
            escrow=escrow_account(milestone.escrow_key, contract.currency),
            employer=contract.employer,
            amount=refunded,
            key=f"refund:{milestone.pk}",
            actor=actor,
            milestone=milestone,
        )
    milestone.refunded += refunded
    before = milestone_set_status(milestone, Milestone.Status.REFUNDED)
    milestone.auto_release_at = milestone.remainder_due_at = None
    milestone.save(update_fields=["refunded", "status", "auto_release_at", "remainder_due_at"])
    record_event(milestone, kind, actor=actor, before=before, amount=refunded)


def contract_unwind(contract: Contract, milestone: Milestone, *, actor: User, kind: str) -> None:
    """Refund whatever is in escrow to the employer and wind the contract down (`contract_wind_down`). The caller
    holds the milestone's lock (and so the project's)."""
    milestone_refund(contract, milestone, actor=actor, kind=kind)
    contract_wind_down(contract)


def contract_wind_down(contract: Contract) -> None:
    """A contract that ends with nothing paid to the freelancer: cancelled, its proposal set aside, and the
    project reopened when no other contract runs on it. The caller holds the contract's lock."""
    contract_set_status(contract, Contract.Status.CANCELLED)
    if contract.proposal_id:
        proposal = Proposal.objects.select_for_update(of=("self",)).get(pk=contract.proposal_id)
        if proposal.status == Proposal.Status.SELECTED:
            proposal.project = contract.project
            proposal_set_aside(proposal=proposal)
    running = contract.project.contracts.exclude(pk=contract.pk).filter(
        status__in=[Contract.Status.AWAITING_ACCEPTANCE, Contract.Status.ACTIVE]
    )
    if not running.exists():
        project_reopen(project=contract.project)
