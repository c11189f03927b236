"""What the ledger check cannot know by itself (escrow.checks.register_check, from WorkspaceConfig.ready)."""

from escrow.checks import LedgerReport
from escrow.models import Account
from workspace.models import Milestone


def escrow_matches_milestones(report: LedgerReport) -> None:
    """Each milestone's escrow account holds exactly funded − released − refunded."""
    balances = dict(Account.objects.filter(kind=Account.Kind.ESCROW).values_list("key", "balance"))
    for milestone in Milestone.objects.all().iterator():
        held = balances.get(milestone.escrow_key, 0)
        if held != milestone.in_escrow:
            report.breaches.append(f"milestone {milestone.pk} escrow holds {held}, expected {milestone.in_escrow}")
