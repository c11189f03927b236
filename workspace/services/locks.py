"""The one order in which contract actions lock rows: contract → milestone → dispute → ledger accounts (by key,
in escrow.ledger). Every action that locks more than one of them goes through these helpers, so two actions
racing on one contract (an approve and a staff resolution, say) queue behind each other instead of each holding
what the other waits for ("deadlock detected").

`of=("self",)` keeps each statement to its own table: a join locks the joined rows in whatever order the
planner reads them.
"""

from escrow.models import Contract, Dispute, Milestone


def lock_contract(pk: int) -> Contract:
    return Contract.objects.select_for_update(of=("self",)).get(pk=pk)


def lock_milestone(pk: int) -> Milestone:
    """The milestone and, first, its contract."""
    contract_id = Milestone.objects.values_list("contract_id", flat=True).get(pk=pk)
    contract = lock_contract(contract_id)
    milestone = Milestone.objects.select_for_update(of=("self",)).get(pk=pk)
    milestone.contract = contract
    return milestone


def lock_dispute(pk: int) -> Dispute:
    """The dispute and, first, its contract and milestone."""
    milestone_id = Dispute.objects.values_list("milestone_id", flat=True).get(pk=pk)
    milestone = lock_milestone(milestone_id)
    dispute = Dispute.objects.select_for_update(of=("self",)).get(pk=pk)
    dispute.milestone = milestone
    return dispute
