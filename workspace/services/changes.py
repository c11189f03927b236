"""Changes to a running contract, agreed by both: either side proposes a new milestone, or a milestone's new
amount, title, scope or due date (an extension); the other accepts (it applies at once, its history on the
timeline) or declines. A new milestone, or an increase, is funded like any milestone; a decrease of what is
already funded pays the difference back to the employer through the ledger."""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from escrow.ledger import escrow_account, post_refund
from marketplace.errors import DomainError
from notifications.models import Notification
from workspace.models import Contract, ContractChange, Milestone, MilestoneEvent
from workspace.services.funding import after_funding
from workspace.services.history import change_set_status, notify_parties, record_event
from workspace.services.locks import lock_change, lock_contract, lock_milestone
from workspace.services.rules import ensure
from workspace.services.settling import parse_amount, shown


def _other_side(contract: Contract, user: User) -> User:
    return contract.freelancer if user.pk == contract.employer_id else contract.employer


def _check(change: ContractChange, milestone: Milestone | None, today: date) -> None:
    """What a change must be, when proposed and again when accepted (the milestone may have moved meanwhile)."""
    if change.amount is not None and change.amount <= 0:
        raise DomainError(_("Enter an amount greater than zero."))
    if change.due_date and change.due_date < today:
        raise DomainError(_("The due date cannot be in the past."))
    if change.kind == ContractChange.Kind.ADD:
        if not change.title.strip() or change.amount is None or change.due_date is None:
            raise DomainError(_("A new milestone needs a title, an amount and a due date."))
        return
    if milestone.status not in (Milestone.Status.PENDING, Milestone.Status.FUNDED):
        raise DomainError(_("A milestone can be changed until its work is delivered."))
    if change.amount is not None and change.amount < milestone.released + milestone.refunded:
        raise DomainError(
            _("The amount cannot be less than what was already paid out of this milestone (%(paid)s).")
            % {"paid": shown(milestone.released + milestone.refunded, milestone.contract.currency)}
        )
    same = (
        (not change.title or change.title == milestone.title)
        and (not change.scope or change.scope == milestone.scope)
        and (change.amount is None or change.amount == milestone.amount)
        and (change.due_date is None or change.due_date == milestone.due_date)
    )
    if same:
        raise DomainError(_("Change at least one thing."))


@transaction.atomic
def change_propose(
    *, contract: Contract, by: User, kind: str, milestone: Milestone | None = None, title: str = "",
    scope: str = "", amount=None, due_date: date | None = None, note: str = "",
) -> ContractChange:  # fmt: skip
    if kind not in ContractChange.Kind.values:
        raise DomainError(_("Choose what to change."))
    if kind == ContractChange.Kind.EDIT:
        if milestone is None:
            raise DomainError(_("Choose the milestone to change."))
        locked = lock_milestone(milestone.pk)
        contract = locked.contract
    else:
        contract = lock_contract(contract.pk)
        locked = contract.milestones.exclude(status=Milestone.Status.CANCELLED).order_by("-position").first()
        locked.contract = contract
    waiting = ContractChange.objects.select_for_update().filter(contract=contract, status="open").first()
    ensure("propose_edit" if kind == ContractChange.Kind.EDIT else "propose_add", user=by, milestone=locked,
           change=waiting)  # fmt: skip
    change = ContractChange(
        contract=contract, milestone=locked if kind == ContractChange.Kind.EDIT else None, kind=kind, proposed_by=by,
        title=title.strip()[:200], scope=scope.strip()[:2000],
        amount=parse_amount(amount, contract.currency) if amount not in (None, "") else None,
        due_date=due_date, note=note.strip()[:2000],
    )  # fmt: skip
    _check(change, locked, timezone.localdate())
    change.save()
    record_event(locked, MilestoneEvent.Kind.CHANGE_PROPOSED, actor=by, before=locked.status, note=change.note)
    notify_parties(locked, Notification.Kind.CHANGE_PROPOSED, [_other_side(contract, by)], actor=by)
    return change


@transaction.atomic
def change_accept(*, change: ContractChange, by: User) -> ContractChange:
    """The other side agrees: the change applies now."""
    change = lock_change(change.pk)
    contract = change.contract
    anchor = change.milestone or _last(contract)
    ensure("accept_change", user=by, milestone=anchor, change=change)
    _check(change, change.milestone, timezone.localdate())
    if change.kind == ContractChange.Kind.ADD:
        position = (contract.milestones.aggregate(top=Max("position"))["top"] or 0) + 1
        added = Milestone.objects.create(
            contract=contract, position=position, title=change.title, scope=change.scope, due_date=change.due_date,
            amount=change.amount, upfront_share=Decimal(1),
        )  # fmt: skip
        added.contract = contract
        record_event(added, MilestoneEvent.Kind.MILESTONE_ADDED, actor=by, amount=added.amount, note=added.title)
        target = added
    else:
        target = _apply_edit(change, by)
    change_set_status(change, ContractChange.Status.ACCEPTED)
    record_event(target, MilestoneEvent.Kind.CHANGE_ACCEPTED, actor=by, before=target.status)
    notify_parties(target, Notification.Kind.CHANGE_ACCEPTED, [change.proposed_by], actor=by)
    return change


def _apply_edit(change: ContractChange, by: User) -> Milestone:
    milestone = change.milestone
    contract = milestone.contract
    change.before = {
        "title": milestone.title, "scope": milestone.scope, "amount": str(milestone.amount),
        "due_date": milestone.due_date.isoformat() if milestone.due_date else "",
    }  # fmt: skip
    milestone.title = change.title or milestone.title
    milestone.scope = change.scope or milestone.scope
    milestone.due_date = change.due_date or milestone.due_date
    if change.amount is not None and change.amount != milestone.amount:
        milestone.amount = change.amount
        milestone.amount_changes += 1
        excess = milestone.funded - change.amount
        if excess > 0:  # less than is funded: the difference goes back to the employer
            post_refund(
                escrow=escrow_account(milestone.escrow_key, contract.currency), employer=contract.employer,
                amount=excess, key=f"refund:{milestone.pk}:change:{change.pk}", actor=by, milestone=milestone,
            )  # fmt: skip
            milestone.funded = change.amount
        before = milestone.status
        after_funding(milestone, timezone.now())  # a smaller upfront share may now be covered
        if before != milestone.status:
            record_event(milestone, MilestoneEvent.Kind.FUNDED, actor=by, before=before, amount=Decimal(0))
    milestone.save()
    return milestone


def _last(contract: Contract) -> Milestone:
    milestone = contract.milestones.exclude(status=Milestone.Status.CANCELLED).order_by("-position").first()
    milestone.contract = contract
    return milestone


@transaction.atomic
def change_decline(*, change: ContractChange, by: User) -> ContractChange:
    change = lock_change(change.pk)
    anchor = change.milestone or _last(change.contract)
    ensure("decline_change", user=by, milestone=anchor, change=change)
    change_set_status(change, ContractChange.Status.DECLINED)
    record_event(anchor, MilestoneEvent.Kind.CHANGE_DECLINED, actor=by, before=anchor.status)
    notify_parties(anchor, Notification.Kind.CHANGE_DECLINED, [change.proposed_by], actor=by)
    return change


@transaction.atomic
def change_withdraw(*, change: ContractChange, by: User) -> ContractChange:
    change = lock_change(change.pk)
    anchor = change.milestone or _last(change.contract)
    ensure("withdraw_change", user=by, milestone=anchor, change=change)
    change_set_status(change, ContractChange.Status.WITHDRAWN)
    record_event(anchor, MilestoneEvent.Kind.CHANGE_WITHDRAWN, actor=by, before=anchor.status)
    return change
