"""The contract's statuses change here and nowhere else, each through `marketplace.status.set_status` (its
model's transition table), and each milestone change writes a line on the workspace timeline (MilestoneEvent)."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.status import set_status
from notifications.services import notify
from projects.services import project_mark_completed
from workspace.models import Contract, Dispute, Milestone, MilestoneEvent


def record_event(milestone: Milestone, kind: str, *, actor=None, before="", amount=None, note="") -> None:
    """A line on the workspace timeline, ending in the milestone's current status."""
    MilestoneEvent.objects.create(
        milestone=milestone, kind=kind, actor=actor, from_status=before, to_status=milestone.status,
        amount=amount, note=note[:2000],
    )  # fmt: skip


def milestone_set_status(milestone: Milestone, to: str) -> str:
    """Change the milestone's status as its table allows; returns the status it had. The caller saves it and
    records the event (whose kind says why: released by hand or by the clock, refunded, split, ...)."""
    refusal = _("This is no longer possible: the milestone is %(status)s.") % {"status": milestone.get_status_display()}
    return set_status(milestone, to, refusal=refusal)


def contract_set_status(contract: Contract, to: str) -> None:
    """Accepted (active), completed or cancelled; `accepted_at` and `closed_at` say when."""
    set_status(contract, to, refusal=_("This contract is not waiting for an answer."))
    if to == Contract.Status.ACTIVE:
        contract.accepted_at = timezone.now()
    else:
        contract.closed_at = timezone.now()
    contract.save(update_fields=["status", "accepted_at", "closed_at"])


def dispute_set_status(dispute: Dispute, to: str, *, by=None, resolution: str = "") -> None:
    set_status(dispute, to, refusal=_("This dispute is already with the platform or resolved."))
    fields = ["status"]
    if to == Dispute.Status.RESOLVED:
        dispute.resolved_by, dispute.resolved_at, dispute.resolution = by, timezone.now(), resolution[:255]
        fields += ["resolved_by", "resolved_at", "resolution"]
    dispute.save(update_fields=fields)


def contract_close_if_done(contract: Contract) -> None:
    """A running contract is completed when all its milestones are closed; the project when every contract's are.
    The caller holds the contract's lock (and so the project's, workspace.services.locks)."""
    if contract.status != Contract.Status.ACTIVE or contract.milestones.exclude(status__in=Milestone.CLOSED).exists():
        return
    contract_set_status(contract, Contract.Status.COMPLETED)
    if (
        not Milestone.objects.filter(contract__project_id=contract.project_id)
        .exclude(status__in=Milestone.CLOSED)
        .exists()
    ):
        project_mark_completed(project=contract.project)


def notify_parties(milestone: Milestone, kind: str, recipients, *, actor=None, **params) -> None:
    """Notify about a milestone's event, linking to its workspace; `role` tells each side's text apart."""
    contract = milestone.contract
    url = reverse("workspace", args=[contract.pk])
    details = {"project": contract.project.title, "phase": milestone.title, "currency": contract.currency, **params}
    for user in recipients:
        role = contract.party(user) or ""
        notify([user], kind, actor=actor, url=url, role=role, **details)
