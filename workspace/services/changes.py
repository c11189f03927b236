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
from workspace.services.rules import change_problem, ensure
from workspace.services.settling import lapse_open_offers, parse_amount


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
        locked = _last(contract)
    waiting = ContractChange.objects.select_for_update().filter(contract=contract, status="open").first()
    ensure("propose_edit" if kind == ContractChange.Kind.EDIT else "propose_add", user=by, milestone=locked,
           change=waiting)  # fmt: skip
    change = ContractChange(
        contract=contract, milestone=locked if kind == ContractChange.Kind.EDIT else None, kind=kind, proposed_by=by,
        title=title.strip()[:200], scope=scope.strip()[:2000],
        amount=parse_amount(amount, contract.currency) if amount not in (None, "") else None,
        due_date=due_date, note=note.strip()[:2000],
    )  # fmt: skip
    if error := change_problem(change, locked, timezone.localdate()):
        raise error
    change.save()
    record_event(locked, MilestoneEvent.Kind.CHANGE_PROPOSED, actor=by, before=locked.status, note=change.note)
    notify_parties(locked, Notification.Kind.CHANGE_PROPOSED, [contract.other_party(by)], actor=by)
    return change


@transaction.atomic
def change_accept(*, change: ContractChange, by: User) -> ContractChange:
    """The other side agrees: the change applies now."""
    change = lock_change(change.pk)
    contract = change.contract
    anchor = change.milestone or _last(contract)
    ensure("accept_change", user=by, milestone=anchor, change=change)  # with what change_problem finds now
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
        lapse_open_offers(milestone)
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
    """The milestone a contract-wide change is recorded on: the last one not cancelled (or, when every one was
    cancelled, the last)."""
    milestones = contract.milestones.order_by("-position")
    milestone = milestones.exclude(status=Milestone.Status.CANCELLED).first() or milestones.first()
    milestone.contract = contract
    return milestone


def _close_unapplied(change: ContractChange, by: User, *, action: str, to: str, kind: str) -> ContractChange:
    """Declined by the other side, or withdrawn by the proposer: nothing applies; a line on the timeline."""
    change = lock_change(change.pk)
    anchor = change.milestone or _last(change.contract)
    ensure(action, user=by, milestone=anchor, change=change)
    change_set_status(change, to)
    record_event(anchor, kind, actor=by, before=anchor.status)
    return change


@transaction.atomic
def change_decline(*, change: ContractChange, by: User) -> ContractChange:
    change = _close_unapplied(
        change, by, action="decline_change", to=ContractChange.Status.DECLINED,
        kind=MilestoneEvent.Kind.CHANGE_DECLINED,
    )  # fmt: skip
    anchor = change.milestone or _last(change.contract)
    notify_parties(anchor, Notification.Kind.CHANGE_DECLINED, [change.proposed_by], actor=by)
    return change


@transaction.atomic
def change_withdraw(*, change: ContractChange, by: User) -> ContractChange:
    return _close_unapplied(
        change, by, action="withdraw_change", to=ContractChange.Status.WITHDRAWN,
        kind=MilestoneEvent.Kind.CHANGE_WITHDRAWN,
    )  # fmt: skip
