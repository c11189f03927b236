"""Who may do what to a contract now, written once. The Operations menu offers an action exactly when `refusal`
finds nothing, and every service calls `ensure` on the rows it has locked, so a button is shown exactly when the
action would succeed and the server refuses exactly what is not shown (tests/test_rules.py walks every state).

`refusal` returns the error the service would raise (NotAllowed: not this person; InvalidTransition: not now),
without raising it, so a page can also say why an action is not there yet.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from escrow.models import Payment
from marketplace.currency import minor_unit
from marketplace.errors import DomainError, InvalidTransition, NotAllowed
from marketplace.templatetags.l10n_fa import money
from workspace.models import Contract, ContractChange, Dispute, Milestone, Offer

# How far ahead a due date may be set (a phase, a new milestone, an extension).
MAX_DUE_DAYS = 5 * 365

# The Operations menu of a milestone, in the order it lists them.
MENU = (
    "fund", "accept", "decline", "cancel", "upload", "done", "approve", "revise", "release_part", "dispute",
    "cancel_late", "answer", "offer", "accept_offer", "decline_offer", "withdraw_offer", "escalate",
    "withdraw_dispute", "propose_edit",
)  # fmt: skip
# What applies to the whole contract (its Changes and Bonus box).
CONTRACT_MENU = ("propose_add", "accept_change", "decline_change", "withdraw_change", "bonus")


def funding_due(milestone: Milestone) -> tuple[str, Decimal] | None:
    """The step the employer may pay now, and its amount: the upfront share until it is in; then, once the
    freelancer has accepted, the rest. None when nothing is due."""
    if milestone.status in Milestone.CLOSED:
        return None
    if milestone.funded < milestone.upfront_amount:
        return Payment.FundStep.UPFRONT, milestone.upfront_amount - milestone.funded
    if milestone.remaining_to_fund > 0 and milestone.contract.status != Contract.Status.AWAITING_ACCEPTANCE:
        return Payment.FundStep.REST, milestone.remaining_to_fund
    return None


def open_dispute(milestone: Milestone) -> Dispute | None:
    """The milestone's dispute still in progress (read from a prefetch when the page made one)."""
    return next((d for d in milestone.disputes.all() if d.status in Dispute.OPEN_STATUSES), None)


def open_offer(milestone: Milestone) -> Offer | None:
    """The milestone's offer waiting for an answer (read from a prefetch when the page made one)."""
    return next((o for o in milestone.offers.all() if o.status == Offer.Status.OPEN), None)


def open_change(contract: Contract) -> ContractChange | None:
    return next((c for c in contract.changes.all() if c.status == ContractChange.Status.OPEN), None)


def dispute_reasons(milestone: Milestone, side: str | None) -> list[str]:
    """The reasons a side may give (their list; a late cancellation is the employer's own action)."""
    if side == "employer":
        return [r for r in Dispute.EMPLOYER_REASONS if r != Dispute.Reason.LATE]
    if side == "freelancer":
        if milestone.status == Milestone.Status.FUNDED:
            return [Dispute.Reason.OUT_OF_SCOPE, Dispute.Reason.OTHER]
        return [Dispute.Reason.NOT_PAID, Dispute.Reason.NO_ANSWER, Dispute.Reason.OTHER]
    return []


def answer_deadline(now=None) -> datetime:
    """When the answer stage of a dispute opened now ends."""
    return (now or timezone.now()) + timedelta(days=settings.DISPUTE_ANSWER_DAYS)


def negotiation_deadline(now=None) -> datetime:
    """When the negotiation of a dispute answered now ends (then it goes to staff)."""
    return (now or timezone.now()) + timedelta(days=settings.DISPUTE_NEGOTIATION_DAYS)


def cancel_allowed_from(contract: Contract) -> datetime:
    """When the employer may cancel a contract the freelancer has not answered."""
    return contract.created_at + timedelta(days=settings.ACCEPTANCE_DAYS)


def _only(side: str, contract: Contract, user) -> DomainError | None:
    if contract.party(user) == side:
        return None
    if side == "employer":
        return NotAllowed(_("Only the employer can do this."))
    return NotAllowed(_("Only the freelancer can do this."))


def _not_now(milestone: Milestone) -> InvalidTransition:
    return InvalidTransition(
        _("This is no longer possible: the milestone is %(status)s.") % {"status": milestone.get_status_display()}
    )


def _fund(contract, milestone, user, step=None, **_kw):
    if error := _only("employer", contract, user):
        return error
    due = funding_due(milestone)
    if step is None:  # the menu: is anything due?
        return None if due else InvalidTransition(_("Nothing is due on this milestone."))
    if step not in Payment.FundStep.values:
        return DomainError(_("Choose what to pay."))
    target = milestone.upfront_amount if step == Payment.FundStep.UPFRONT else milestone.amount
    if milestone.funded >= target:
        return InvalidTransition(_("This payment is already paid."))
    if due is None or due[0] != step:
        return InvalidTransition(_("This payment is not due yet."))
    return None


def _awaiting_answer(side, contract, user):
    if error := _only(side, contract, user):
        return error
    if contract.status != Contract.Status.AWAITING_ACCEPTANCE:
        return InvalidTransition(_("This contract is not waiting for an answer."))
    return None


def _accept(contract, milestone, user, **_kw):
    if error := _awaiting_answer("freelancer", contract, user):
        return error
    if not milestone.work_may_start:
        return InvalidTransition(_("The employer has not paid the guarantee yet."))
    return None


def _decline(contract, milestone, user, **_kw):
    return _awaiting_answer("freelancer", contract, user)


def _cancel(contract, milestone, user, now=None, **_kw):
    if error := _awaiting_answer("employer", contract, user):
        return error
    if (now or timezone.now()) < cancel_allowed_from(contract):
        return InvalidTransition(_("The freelancer has %(days)s days to answer.") % {"days": settings.ACCEPTANCE_DAYS})
    return None


def _upload(contract, milestone, user, **_kw):
    if error := _only("freelancer", contract, user):
        return error
    if contract.status != Contract.Status.ACTIVE or milestone.status not in (
        Milestone.Status.FUNDED,
        Milestone.Status.DISPUTED,
    ):
        return InvalidTransition(_("Files can be uploaded while the work is in progress or in dispute."))
    return None


def _done(contract, milestone, user, **_kw):
    if error := _only("freelancer", contract, user):
        return error
    if contract.status != Contract.Status.ACTIVE or milestone.status != Milestone.Status.FUNDED:
        return _not_now(milestone)
    if not milestone.deliverables.exists():  # answered from the page's prefetch when there is one
        return InvalidTransition(_("Upload the work as a zip file first."))
    return None


def _approve(contract, milestone, user, **_kw):
    if error := _only("employer", contract, user):
        return error
    if milestone.status not in (Milestone.Status.DELIVERED, Milestone.Status.DISPUTED):
        return _not_now(milestone)
    if not milestone.fully_funded:
        return InvalidTransition(_("Pay the rest of the amount into escrow first."))
    return None


def _revise(contract, milestone, user, **_kw):
    if error := _only("employer", contract, user):
        return error
    if milestone.status != Milestone.Status.DELIVERED:
        return _not_now(milestone)
    if milestone.revisions_requested >= settings.REVISION_LIMIT:
        return InvalidTransition(
            _("Changes were requested %(count)s times already: approve the work or create a dispute.")
            % {"count": milestone.revisions_requested}
        )
    return None


def _dispute(contract, milestone, user, reason=None, now=None, **_kw):
    side = contract.party(user)
    if side is None:
        return NotAllowed(_("Only the two parties can do this."))
    if contract.status != Contract.Status.ACTIVE:
        return _not_now(milestone)
    if side == "employer" and milestone.status != Milestone.Status.DELIVERED:
        return _not_now(milestone)
    if side == "freelancer":
        if milestone.status == Milestone.Status.DELIVERED:
            if milestone.fully_funded:
                return InvalidTransition(_("The review clock will release the payment; no dispute is needed."))
            if not milestone.remainder_due_at or (now or timezone.now()) < milestone.remainder_due_at:
                return InvalidTransition(
                    _("The employer has until the end of the remainder clock to pay the rest or answer.")
                )
        elif not (milestone.status == Milestone.Status.FUNDED and milestone.revisions_requested):
            return _not_now(milestone)
    if reason is not None and reason not in dispute_reasons(milestone, side):
        return DomainError(_("Choose one of the reasons listed."))
    return None


def _cancel_late(contract, milestone, user, now=None, **_kw):
    if error := _only("employer", contract, user):
        return error
    if contract.status != Contract.Status.ACTIVE or milestone.status != Milestone.Status.FUNDED:
        return _not_now(milestone)
    today = timezone.localdate(now or timezone.now())
    if not milestone.late_cancel_from() or today < milestone.late_cancel_from():
        return InvalidTransition(
            _("Late work may be cancelled %(days)s days after its due date.")
            % {"days": settings.MILESTONE_LATE_GRACE_DAYS}
        )
    return None


def _answer(contract, milestone, user, dispute=None, **_kw):
    dispute = dispute or open_dispute(milestone)
    if contract.party(user) is None:
        return NotAllowed(_("Only the two parties can do this."))
    if dispute is None or dispute.status not in (Dispute.Status.OPEN, Dispute.Status.ANSWERED):
        return InvalidTransition(_("Write your answer to an open dispute."))
    if dispute.opened_by_id == user.pk:
        return NotAllowed(_("The other side answers this dispute."))
    return None


def _escalate(contract, milestone, user, dispute=None, **_kw):
    if contract.party(user) is None:
        return NotAllowed(_("Only the two parties can do this."))
    dispute = dispute or open_dispute(milestone)
    if dispute is None or Dispute.Status.ESCALATED not in Dispute.ALLOWED_TRANSITIONS[dispute.status]:
        return InvalidTransition(_("This dispute is already with the platform or resolved."))
    return None


def _withdraw_dispute(contract, milestone, user, dispute=None, **_kw):
    dispute = dispute or open_dispute(milestone)
    if dispute is None or dispute.status not in Dispute.OPEN_STATUSES:  # a stale form's, resolved since
        return InvalidTransition(_("There is no dispute in progress."))
    if dispute.opened_by_id != user.pk:
        return NotAllowed(_("Only the side who opened the dispute can withdraw it."))
    return None


def _offer(contract, milestone, user, offer=None, **_kw):
    """Either side offers a split of the escrow: to settle the dispute, or to end the milestone by agreement.
    Offering while the other side's offer waits is a counter-offer."""
    if contract.party(user) is None:
        return NotAllowed(_("Only the two parties can do this."))
    if contract.status != Contract.Status.ACTIVE or not milestone.is_open:
        return _not_now(milestone)
    waiting = offer or open_offer(milestone)
    if waiting is not None and waiting.made_by_id == user.pk:
        return InvalidTransition(_("Your offer is waiting for an answer; withdraw it to make another."))
    return None


def _answer_offer(contract, milestone, user, offer=None, **_kw):
    if contract.party(user) is None:
        return NotAllowed(_("Only the two parties can do this."))
    offer = offer or open_offer(milestone)
    if offer is None or not offer.is_open:
        return InvalidTransition(_("This offer is no longer waiting for an answer."))
    if offer.made_by_id == user.pk:
        return NotAllowed(_("The other side answers your offer."))
    return None


def _accept_offer(contract, milestone, user, offer=None, **_kw):
    offer = offer or open_offer(milestone)
    if error := _answer_offer(contract, milestone, user, offer=offer):
        return error
    if offer.to_freelancer > milestone.in_escrow:  # part was released, or the amount lowered, since it was made
        return InvalidTransition(_("The amount in secure payment has changed since this offer; make a new one."))
    return None


def _withdraw_offer(contract, milestone, user, offer=None, **_kw):
    offer = offer or open_offer(milestone)
    if offer is None or not offer.is_open:
        return InvalidTransition(_("This offer is no longer waiting for an answer."))
    if offer.made_by_id != user.pk:
        return NotAllowed(_("Only the side who made the offer can withdraw it."))
    return None


def _release_part(contract, milestone, user, **_kw):
    if error := _only("employer", contract, user):
        return error
    if contract.status != Contract.Status.ACTIVE or milestone.status not in (
        Milestone.Status.FUNDED,
        Milestone.Status.DELIVERED,
    ):
        return _not_now(milestone)
    if milestone.in_escrow <= Decimal(1).scaleb(-minor_unit(contract.currency)):  # some must stay in escrow
        return InvalidTransition(_("Nothing of this milestone is in secure payment."))
    return None


def _change_open(contract, user, change=None):
    if contract.party(user) is None:
        return NotAllowed(_("Only the two parties can do this."))
    if contract.status != Contract.Status.ACTIVE:
        return InvalidTransition(_("Only a running contract can be changed."))
    if (change or open_change(contract)) is not None:
        return InvalidTransition(_("A change is already waiting for an answer."))
    return None


def _propose_edit(contract, milestone, user, change=None, **_kw):
    if error := _change_open(contract, user, change):
        return error
    if milestone.status not in (Milestone.Status.PENDING, Milestone.Status.FUNDED):
        return InvalidTransition(_("A milestone can be changed until its work is delivered."))
    return None


def _propose_add(contract, milestone, user, change=None, **_kw):
    return _change_open(contract, user, change)


def _answer_change(contract, milestone, user, change=None, **_kw):
    if contract.party(user) is None:
        return NotAllowed(_("Only the two parties can do this."))
    change = change or open_change(contract)
    if change is None or change.status != ContractChange.Status.OPEN:
        return InvalidTransition(_("This change is no longer waiting for an answer."))
    if change.proposed_by_id == user.pk:
        return NotAllowed(_("The other side answers your change."))
    return None


def change_problem(change: ContractChange, milestone: Milestone | None, today) -> DomainError | None:
    """What is wrong with a change, when proposed and again when accepted: since it was proposed the milestone may
    have been delivered or partly paid out, or the new due date may have passed. The service raises it; the menu
    offers Accept only without it."""
    if change.amount is not None and change.amount <= 0:
        return DomainError(_("Enter an amount greater than zero."))
    if change.due_date and change.due_date < today:
        return DomainError(_("The due date cannot be in the past."))
    if change.due_date and (change.due_date - today).days > MAX_DUE_DAYS:
        return DomainError(_("A due date can be at most %(years)s years away.") % {"years": MAX_DUE_DAYS // 365})
    if change.kind == ContractChange.Kind.ADD:
        if not change.title.strip() or change.amount is None or change.due_date is None:
            return DomainError(_("A new milestone needs a title, an amount and a due date."))
        return None
    if milestone.status not in (Milestone.Status.PENDING, Milestone.Status.FUNDED):
        return DomainError(_("A milestone can be changed until its work is delivered."))
    paid = milestone.released + milestone.refunded
    if change.amount is not None and change.amount < paid:
        return DomainError(
            _("The amount cannot be less than what was already paid out of this milestone (%(paid)s).")
            % {"paid": money(Money(paid, milestone.contract.currency))}
        )
    same = (
        (not change.title or change.title == milestone.title)
        and (not change.scope or change.scope == milestone.scope)
        and (change.amount is None or change.amount == milestone.amount)
        and (change.due_date is None or change.due_date == milestone.due_date)
    )
    if same:
        return DomainError(_("Change at least one thing."))
    return None


def _accept_change(contract, milestone, user, change=None, now=None, **_kw):
    change = change or open_change(contract)
    if error := _answer_change(contract, milestone, user, change=change):
        return error
    return change_problem(change, change.milestone, timezone.localdate(now or timezone.now()))


def _withdraw_change(contract, milestone, user, change=None, **_kw):
    change = change or open_change(contract)
    if change is None or change.status != ContractChange.Status.OPEN:
        return InvalidTransition(_("This change is no longer waiting for an answer."))
    if change.proposed_by_id != user.pk:
        return NotAllowed(_("Only the side who proposed the change can withdraw it."))
    return None


def _bonus(contract, milestone, user, **_kw):
    if error := _only("employer", contract, user):
        return error
    if contract.status not in (Contract.Status.ACTIVE, Contract.Status.COMPLETED):
        return InvalidTransition(_("A bonus can be paid on a running or completed contract."))
    return None


def _download(contract, milestone, user, **_kw):
    if contract.party(user) is None and not user.is_staff:
        return NotAllowed(_("Only the two parties can do this."))
    if not milestone.fully_funded:
        return NotAllowed(_("The files can be downloaded once the whole amount is in secure payment."))
    return None


_RULES = {
    "fund": _fund,
    "accept": _accept,
    "decline": _decline,
    "cancel": _cancel,
    "upload": _upload,
    "done": _done,
    "approve": _approve,
    "revise": _revise,
    "dispute": _dispute,
    "cancel_late": _cancel_late,
    "answer": _answer,
    "offer": _offer,
    "accept_offer": _accept_offer,
    "decline_offer": _answer_offer,
    "withdraw_offer": _withdraw_offer,
    "escalate": _escalate,
    "withdraw_dispute": _withdraw_dispute,
    "release_part": _release_part,
    "propose_edit": _propose_edit,
    "propose_add": _propose_add,
    "accept_change": _accept_change,
    "decline_change": _answer_change,
    "withdraw_change": _withdraw_change,
    "bonus": _bonus,
    "download": _download,
}


def refusal(action: str, *, user, milestone: Milestone, now=None, **params) -> DomainError | None:
    """Why `user` may not take `action` on `milestone` now, or None when they may. `params` are what the
    action names (dispute, offer, change, step, reason), read from the page's prefetch when not given."""
    return _RULES[action](milestone.contract, milestone, user, now=now, **params)


def ensure(action: str, *, user, milestone: Milestone, now=None, **params) -> None:
    """Raise what `refusal` finds (the services call this on the rows they locked)."""
    if error := refusal(action, user=user, milestone=milestone, now=now, **params):
        raise error


def available_operations(*, milestone: Milestone, user, now=None) -> list[str]:
    """Exactly the actions this user may take on this milestone now (its Operations menu)."""
    return [action for action in MENU if refusal(action, user=user, milestone=milestone, now=now) is None]


def contract_operations(*, contract: Contract, user, now=None) -> list[str]:
    """Exactly the contract-wide actions this user may take now (changes, bonus). Read on its first milestone,
    which carries the contract."""
    milestones = list(contract.milestones.all())
    if not milestones:
        return []
    first = milestones[0]
    first.contract = contract
    return [action for action in CONTRACT_MENU if refusal(action, user=user, milestone=first, now=now) is None]
