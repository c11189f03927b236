"""Recompute every ledger invariant from the entries themselves (the management command check_ledger).

Apps above escrow add what only they know (workspace: each milestone's escrow account holds what its figures say)
with `register_check`, from their AppConfig.ready(); escrow imports none of them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import F, Sum

from escrow.models import Account, Entry, Transaction


@dataclass
class LedgerReport:
    accounts: int = 0
    transactions: int = 0
    entries: int = 0
    breaches: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.breaches


_EXTRA_CHECKS: list[Callable[[LedgerReport], None]] = []


def register_check(check: Callable[[LedgerReport], None]) -> None:
    """Run `check(report)` as part of every ledger check; it appends to `report.breaches`."""
    if check not in _EXTRA_CHECKS:
        _EXTRA_CHECKS.append(check)


def ledger_check() -> LedgerReport:
    report = LedgerReport(
        accounts=Account.objects.count(), transactions=Transaction.objects.count(), entries=Entry.objects.count()
    )
    # 1. Per currency, all entries sum to zero.
    for row in Entry.objects.values("currency").annotate(total=Sum("amount")).exclude(total=0):
        report.breaches.append(f"entries in {row['currency']} sum to {row['total']}, not 0")
    # 2. Each transaction is balanced per currency, and has entries at all.
    for row in Entry.objects.values("transaction_id", "currency").annotate(total=Sum("amount")).exclude(total=0):
        report.breaches.append(f"transaction {row['transaction_id']} is off by {row['total']} {row['currency']}")
    for pk in Transaction.objects.filter(entries__isnull=True).values_list("pk", flat=True):
        report.breaches.append(f"transaction {pk} has no entries")
    # 3. Each cached balance equals the sum of its entries; 4. constrained balances are not negative.
    sums = dict(Entry.objects.values("account_id").annotate(total=Sum("amount")).values_list("account_id", "total"))
    for account in Account.objects.all().iterator():
        expected = sums.get(account.pk) or 0
        if account.balance != expected:
            report.breaches.append(f"account {account} caches {account.balance}, its entries sum to {expected}")
        if account.kind in Account.NON_NEGATIVE and account.balance < 0:
            report.breaches.append(f"account {account} is negative: {account.balance}")
    # 6. An entry's currency is its account's.
    for entry in Entry.objects.select_related("account").exclude(currency=F("account__currency")):
        report.breaches.append(f"entry {entry.pk} is in {entry.currency}, its account in {entry.account.currency}")
    # 7. What the apps above add.
    for check in _EXTRA_CHECKS:
        check(report)
    return report
