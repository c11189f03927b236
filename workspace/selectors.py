from django.db.models import Prefetch

from escrow.contracts import milestone_funding_due
from escrow.models import Contract, Dispute, Milestone, MilestoneEvent
from workspace.models import Deliverable


def workspace_contract(*, pk: int) -> Contract | None:
    """The contract with everything its workspace shows, in a fixed number of queries."""
    return (
        Contract.objects.select_related("project", "employer__profile", "freelancer__profile", "proposal")
        .prefetch_related(
            Prefetch(
                "milestones",
                queryset=Milestone.objects.order_by("position").prefetch_related(
                    Prefetch("events", queryset=MilestoneEvent.objects.select_related("actor__profile")),
                    Prefetch("deliverables", queryset=Deliverable.objects.order_by("-version")),
                    Prefetch("disputes", queryset=Dispute.objects.order_by("-created_at")),
                ),
            )
        )
        .filter(pk=pk)
        .first()
    )


def available_operations(*, contract: Contract, milestone: Milestone, user) -> list[str]:
    """Exactly the actions this user may take now (the Operations menu)."""
    party = contract.party(user)
    status, ops = milestone.status, []
    open_dispute = next((d for d in milestone.disputes.all() if d.status in Dispute.OPEN_STATUSES), None)
    if party == "employer":
        # The same rule the service applies: the upfront share, then (once accepted) the rest.
        if milestone_funding_due(milestone) is not None:
            ops.append("fund")
        if contract.status == Contract.Status.AWAITING_ACCEPTANCE:
            ops.append("cancel")
        if status in (Milestone.Status.DELIVERED, Milestone.Status.DISPUTED) and milestone.fully_funded:
            ops.append("approve")
        if status == Milestone.Status.DELIVERED:
            ops.append("dispute")
    elif party == "freelancer":
        if contract.status == Contract.Status.AWAITING_ACCEPTANCE and milestone.work_may_start:
            ops += ["accept", "decline"]
        if contract.status == Contract.Status.ACTIVE and status in (Milestone.Status.FUNDED, Milestone.Status.DISPUTED):
            ops.append("upload")
        if (
            contract.status == Contract.Status.ACTIVE
            and status == Milestone.Status.FUNDED
            and milestone.deliverables.all()
        ):
            ops.append("done")
    if open_dispute and party:
        if party == "freelancer" and open_dispute.status in (Dispute.Status.OPEN, Dispute.Status.ANSWERED):
            ops.append("answer")
        if open_dispute.status in (Dispute.Status.OPEN, Dispute.Status.ANSWERED):
            ops.append("escalate")
    return ops
