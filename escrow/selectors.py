from django.db.models import QuerySet

from escrow.ledger import payout_of, wallet_of
from escrow.models import Entry, Withdrawal


def wallet_summary(*, user, currency: str | None = None) -> dict:
    wallet, payout = wallet_of(user, currency), payout_of(user, currency)
    return {"wallet": wallet, "payout": payout}


def movements_of(*, user) -> QuerySet:
    """Every entry on the user's wallet and payout accounts, newest first, with its transaction."""
    return (
        Entry.objects.filter(account__owner=user)
        .select_related("transaction", "account", "transaction__withdrawal", "transaction__payment")
        .order_by("-transaction__created_at", "-id")
    )


def withdrawals_of(*, user) -> QuerySet:
    return Withdrawal.objects.filter(user=user).order_by("-created_at")
