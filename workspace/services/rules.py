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

from escrow.models import Payment
from marketplace.errors import DomainError, InvalidTransition, NotAllowed
from workspace.models import Contract, Dispute, Milestone

# The Operations menu, in the order it lists them.
MENU = (
    "fund", "accept", "decline", "cancel", "upload", "done", "approve", "revise", "dispute", "answer", "escalate"
)  # fmt: skip


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


def _fund(contract, milestone, user, step, **_kw):
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


def _dispute(contract, milestone, user, **_kw):
    if error := _only("employer", contract, user):
        return error
    if milestone.status != Milestone.Status.DELIVERED:
        return _not_now(milestone)
    return None


def _answer(contract, milestone, user, dispute=None, **_kw):
    if error := _only("freelancer", contract, user):
        return error
    dispute = dispute or open_dispute(milestone)
    if dispute is None or dispute.status not in (Dispute.Status.OPEN, Dispute.Status.ANSWERED):
        return InvalidTransition(_("Write your answer to an open dispute."))
    return None


def _escalate(contract, milestone, user, dispute=None, **_kw):
    if contract.party(user) is None:
        return NotAllowed(_("Only the two parties can do this."))
    dispute = dispute or open_dispute(milestone)
    if dispute is None or Dispute.Status.ESCALATED not in Dispute.ALLOWED_TRANSITIONS[dispute.status]:
        return InvalidTransition(_("This dispute is already with the platform or resolved."))
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
    "answer": _answer,
    "escalate": _escalate,
    "download": _download,
}


def refusal(action: str, *, user, milestone: Milestone, dispute=None, step=None, now=None) -> DomainError | None:
    """Why `user` may not take `action` on `milestone` now, or None when they may."""
    return _RULES[action](milestone.contract, milestone, user, dispute=dispute, step=step, now=now)


def ensure(action: str, *, user, milestone: Milestone, dispute=None, step=None, now=None) -> None:
    """Raise what `refusal` finds (the services call this on the rows they locked)."""
    if error := refusal(action, user=user, milestone=milestone, dispute=dispute, step=step, now=now):
        raise error


def available_operations(*, milestone: Milestone, user) -> list[str]:
    """Exactly the actions this user may take now (the Operations menu)."""
    return [action for action in MENU if refusal(action, user=user, milestone=milestone) is None]
