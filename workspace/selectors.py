"""Read queries for the contract's pages; each runs a fixed number of queries whatever the data size."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, Count, F, Prefetch, Q, QuerySet, Sum, When
from djmoney.money import Money

from projects.models import Project
from workspace.models import Contract, ContractChange, Deliverable, Dispute, Milestone, MilestoneEvent


def workspace_contract(*, pk: int) -> Contract | None:
    """The contract with everything its workspace shows, in a fixed number of queries."""
    found = (
        Contract.objects.select_related("project", "employer__profile", "freelancer__profile")
        .prefetch_related(
            Prefetch(
                "milestones",
                queryset=Milestone.objects.order_by("position").prefetch_related(
                    Prefetch("events", queryset=MilestoneEvent.objects.select_related("actor__profile")),
                    Prefetch("deliverables", queryset=Deliverable.objects.order_by("-version")),
                    Prefetch("disputes", queryset=Dispute.objects.order_by("-created_at")),
                    "offers",
                ),
            ),
            Prefetch("changes", queryset=ContractChange.objects.select_related("milestone")),
        )
        .filter(pk=pk)
        .order_by()[:1]  # one row by its key: no ORDER BY to compile
    )
    return found[0] if found else None


def project_phases(*, project: Project) -> QuerySet:
    """The project's phases over all its contracts (cancelled ones left out), in due order."""
    return (
        Milestone.objects.filter(contract__project=project)
        .exclude(status=Milestone.Status.CANCELLED)
        .select_related("contract__freelancer__profile")
        .order_by("due_date", "position")
    )


def reassignable_phases(*, project: Project) -> QuerySet:
    """Phases nobody has paid for yet: the employer may offer them to another bidder."""
    return Milestone.objects.filter(contract__project=project, status=Milestone.Status.PENDING, funded=0)


def completed_projects(*, user) -> QuerySet:
    """Projects in which the user, as freelancer, completed (was paid for) work, newest first."""
    return (
        Project.objects.filter(contracts__freelancer=user, contracts__milestones__status=Milestone.Status.COMPLETED)
        .distinct()
        .select_related("owner__profile", "category")
        .order_by("-updated_at")
    )


def completed_project_counts(*, user_ids, completing: Milestone | None = None) -> dict[int, int]:
    """{user id: how many projects completed_projects(user) lists} for many users, in one query. `completing`,
    a milestone whose completed status is not saved yet, counts as completed already."""
    done = Q(milestones__status=Milestone.Status.COMPLETED)
    if completing is not None:
        done |= Q(pk=completing.contract_id)
    rows = (
        Contract.objects.filter(done, freelancer_id__in=user_ids)
        .order_by()
        .values("freelancer_id")
        .annotate(count=Count("project_id", distinct=True))
    )
    return {row["freelancer_id"]: row["count"] for row in rows}


@dataclass(frozen=True)
class Budget:
    total: Decimal
    in_escrow: Decimal
    paid: Decimal
    remaining: Decimal
    refunded: Decimal


def project_budget(*, project: Project) -> Budget:
    """Total budget = in escrow + paid in phases + remaining + refunded, always (cancelled phases count nowhere)."""
    return _budget(Milestone.objects.filter(contract__project=project))


def contract_budget(*, contract: Contract) -> Budget:
    """The same figures for one contract: what its workspace shows (a later freelancer sees their own phases,
    not what was paid to someone else)."""
    return _budget(Milestone.objects.filter(contract=contract))


def milestones_budget(milestones) -> Budget:
    """contract_budget from milestones already loaded (the workspace's prefetch), without a query: the same sums
    as _budget_sums, added up in Python."""
    counted = [m for m in milestones if m.status != Milestone.Status.CANCELLED]
    return _budget_from(
        {
            "total": sum((m.funded if m.status in Milestone.CLOSED else m.amount for m in counted), Decimal(0)),
            "funded": sum((m.funded for m in counted), Decimal(0)),
            "released": sum((m.released for m in counted), Decimal(0)),
            "refunded": sum((m.refunded for m in counted), Decimal(0)),
        }
    )


@dataclass(frozen=True)
class HeldInEscrow:
    """One contract's money in escrow now: the In escrow figure of its workspace's budget."""

    contract: Contract
    amount: Money


@dataclass(frozen=True)
class EscrowOfUser:
    as_employer: list[HeldInEscrow]  # paid in by the user for their projects
    as_freelancer: list[HeldInEscrow]  # held for the user's work, not released yet


def escrow_held(*, user) -> EscrowOfUser:
    """The user's contracts, as employer and as freelancer, that have money in escrow now, newest first, each with
    its contract_budget's in_escrow (the same sums, grouped by contract): two queries whatever their number."""
    rows = (
        Milestone.objects.filter(Q(contract__employer=user) | Q(contract__freelancer=user))
        .exclude(status=Milestone.Status.CANCELLED)
        .order_by()  # group by the contract alone, not by the model's ordering too
        .values("contract")
        .annotate(**_budget_sums())
    )
    in_escrow = {row["contract"]: _budget_from(row).in_escrow for row in rows}
    contracts = (
        Contract.objects.filter(pk__in=[pk for pk, amount in in_escrow.items() if amount])
        .select_related("project", "employer__profile", "freelancer__profile")
        .order_by("-created_at", "-pk")
    )
    held = [HeldInEscrow(contract, Money(in_escrow[contract.pk], contract.currency)) for contract in contracts]
    return EscrowOfUser(
        as_employer=[h for h in held if h.contract.employer_id == user.pk],
        as_freelancer=[h for h in held if h.contract.freelancer_id == user.pk],
    )


def _budget(milestones) -> Budget:
    return _budget_from(milestones.exclude(status=Milestone.Status.CANCELLED).aggregate(**_budget_sums()))


def _budget_sums() -> dict:
    """The sums a budget is made of, over milestones that are not cancelled. A milestone closed before it was paid
    in full (settled on what was in escrow) counts for what it became, its funded amount: nothing of it is still to
    be paid."""
    closed = Q(status__in=Milestone.CLOSED)
    return {
        "total": Sum(Case(When(closed, then=F("funded")), default=F("amount"))),
        "funded": Sum("funded"),
        "released": Sum("released"),
        "refunded": Sum("refunded"),
    }


def _budget_from(sums: dict) -> Budget:
    total, funded = sums["total"] or Decimal(0), sums["funded"] or Decimal(0)
    released, refunded = sums["released"] or Decimal(0), sums["refunded"] or Decimal(0)
    return Budget(
        total=total,
        in_escrow=funded - released - refunded,
        paid=released,
        remaining=total - funded,
        refunded=refunded,
    )
