"""The one order in which contract actions lock rows:

    project → proposal → phasing offer → contract → milestone → dispute → offer → contract change
    → ledger accounts (by key, escrow.ledger) → profiles (by id: the directory's figures,
    accounts.services.profile_refresh_stats)

Every action that locks more than one of them goes through these helpers, so two actions racing on one contract
(an approve and a staff resolution, say) queue behind each other instead of each holding what the other waits
for ("deadlock detected"). The project comes first because closing a contract writes it (reopened, completed),
and phasing writes the project, the proposal and an earlier contract's milestones.

`of=("self",)` keeps each statement to its own table: a join locks the joined rows in whatever order the
planner reads them.
"""

from projects.models import Project
from proposals.models import Proposal
from workspace.models import Contract, ContractChange, Dispute, Milestone, Offer, PhasingOffer


def lock_project(pk: int) -> Project:
    return Project.objects.select_for_update(of=("self",)).get(pk=pk)


def lock_proposal(pk: int) -> Proposal:
    """The proposal and, first, its project."""
    project = lock_project(Proposal.objects.values_list("project_id", flat=True).get(pk=pk))
    proposal = Proposal.objects.select_for_update(of=("self",)).get(pk=pk)
    proposal.project = project
    return proposal


def lock_phasing_offer(pk: int) -> PhasingOffer:
    """The offer and, first, its project and proposal."""
    proposal = lock_proposal(PhasingOffer.objects.values_list("proposal_id", flat=True).get(pk=pk))
    offer = PhasingOffer.objects.select_for_update(of=("self",)).get(pk=pk)
    offer.proposal = proposal
    return offer


def lock_contract(pk: int) -> Contract:
    """The contract and, first, its project."""
    project = lock_project(Contract.objects.values_list("project_id", flat=True).get(pk=pk))
    contract = Contract.objects.select_for_update(of=("self",)).get(pk=pk)
    contract.project = project
    return contract


def lock_milestone(pk: int) -> Milestone:
    """The milestone and, first, its project and contract."""
    contract = lock_contract(Milestone.objects.values_list("contract_id", flat=True).get(pk=pk))
    milestone = Milestone.objects.select_for_update(of=("self",)).get(pk=pk)
    milestone.contract = contract
    return milestone


def lock_dispute(pk: int) -> Dispute:
    """The dispute and, first, its project, contract and milestone."""
    milestone = lock_milestone(Dispute.objects.values_list("milestone_id", flat=True).get(pk=pk))
    dispute = Dispute.objects.select_for_update(of=("self",)).get(pk=pk)
    dispute.milestone = milestone
    return dispute


def lock_offer(pk: int) -> Offer:
    """The offer and, first, its project, contract, milestone and dispute."""
    milestone_id, dispute_id = Offer.objects.values_list("milestone_id", "dispute_id").get(pk=pk)
    milestone = lock_dispute(dispute_id).milestone if dispute_id else lock_milestone(milestone_id)
    offer = Offer.objects.select_for_update(of=("self",)).get(pk=pk)
    offer.milestone = milestone
    return offer


def lock_change(pk: int) -> ContractChange:
    """The change and, first, its project, contract and (for a change of one) milestone."""
    contract_id, milestone_id = ContractChange.objects.values_list("contract_id", "milestone_id").get(pk=pk)
    if milestone_id:
        milestone = lock_milestone(milestone_id)
        contract = milestone.contract
    else:
        contract, milestone = lock_contract(contract_id), None
    change = ContractChange.objects.select_for_update(of=("self",)).get(pk=pk)
    change.contract = contract
    if milestone is not None:
        change.milestone = milestone
    return change
