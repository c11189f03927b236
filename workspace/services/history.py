"""The contract's statuses change here and nowhere else, each through `marketplace.status.set_status` (its
model's transition table), and each milestone change writes a line on the workspace timeline (MilestoneEvent)."""

from functools import partial

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import profile_refresh_stats
from marketplace.status import set_status
from notifications.services import notify
from projects.services import project_mark_completed
from workspace.models import Contract, ContractChange, Dispute, Milestone, MilestoneEvent, Offer
from workspace.selectors import completed_project_counts


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
    before = set_status(milestone, to, refusal=refusal)
    if to in Milestone.CLOSED:  # what waited on an open milestone no longer can be answered
        now = timezone.now()
        Offer.objects.filter(milestone=milestone, status=Offer.Status.OPEN).update(
            status=Offer.Status.LAPSED, answered_at=now
        )
        ContractChange.objects.filter(milestone=milestone, status=ContractChange.Status.OPEN).update(
            status=ContractChange.Status.LAPSED, answered_at=now
        )
    if to == Milestone.Status.COMPLETED:  # the freelancer's count of completed projects, which the directory shows
        counts = partial(completed_project_counts, completing=milestone)  # the caller saves the status after this
        profile_refresh_stats(user_ids=[milestone.contract.freelancer_id], completed_projects=counts)
    return before


def contract_set_status(contract: Contract, to: str) -> None:
    """Accepted (active), completed or cancelled; `accepted_at` and `closed_at` say when."""
    set_status(contract, to, refusal=_("This contract is not waiting for an answer."))
    if to == Contract.Status.ACTIVE:
        contract.accepted_at = timezone.now()
    else:
        contract.closed_at = timezone.now()
        # A change still waiting (a new milestone) can no longer apply to a closed contract: accepted, it would add
        # a milestone that could be funded but never worked on, released or settled.
        ContractChange.objects.filter(contract=contract, status=ContractChange.Status.OPEN).update(
            status=ContractChange.Status.LAPSED, answered_at=contract.closed_at
        )
    contract.save(update_fields=["status", "accepted_at", "closed_at"])


def dispute_set_status(dispute: Dispute, to: str, *, by=None, resolution: str = "", deadline=None) -> None:
    """Move the dispute to its next stage with that stage's deadline (none once with staff or resolved)."""
    set_status(dispute, to, refusal=_("This dispute is already with the platform or resolved."))
    dispute.deadline = deadline
    fields = ["status", "deadline"]
    if to == Dispute.Status.ANSWERED:
        dispute.answered_at = timezone.now()
        fields.append("answered_at")
    if to == Dispute.Status.RESOLVED:
        dispute.resolved_by, dispute.resolved_at, dispute.resolution = by, timezone.now(), resolution[:255]
        fields += ["resolved_by", "resolved_at", "resolution"]
        Offer.objects.filter(dispute=dispute, status=Offer.Status.OPEN).update(
            status=Offer.Status.LAPSED, answered_at=timezone.now()
        )
    dispute.save(update_fields=fields)


def offer_set_status(offer: Offer, to: str) -> None:
    set_status(offer, to, refusal=_("This offer is no longer waiting for an answer."))
    offer.answered_at = timezone.now()
    offer.save(update_fields=["status", "answered_at"])


def change_set_status(change: ContractChange, to: str) -> None:
    set_status(change, to, refusal=_("This change is no longer waiting for an answer."))
    change.answered_at = timezone.now()
    change.save(update_fields=["status", "answered_at", "before"])


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
