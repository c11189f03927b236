"""The one function that moves money, and the helpers around it.

Invariants (checked by `python manage.py check_ledger`, enforced by the database on PostgreSQL):
- every transaction's entries sum to zero per currency;
- an account's cached balance equals the sum of its entries;
- no wallet, escrow, payout or revenue account goes below zero.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from escrow.models import Account, Entry, Transaction
from marketplace.currency import round_amount
from marketplace.errors import DomainError


class EscrowError(DomainError):
    """A money movement was refused."""


class InsufficientFunds(EscrowError):
    pass


class UnbalancedTransaction(EscrowError):
    pass


# --- accounts ------------------------------------------------------------------------------------------


def _account(*, kind: str, key: str, currency: str, owner=None) -> Account:
    account, _created = Account.objects.get_or_create(
        key=key, currency=currency, defaults={"kind": kind, "owner": owner}
    )
    return account


def wallet_of(user, currency: str | None = None) -> Account:
    return _account(kind=Account.Kind.WALLET, key=f"wallet:{user.pk}", currency=currency or _default(), owner=user)


def payout_of(user, currency: str | None = None) -> Account:
    return _account(kind=Account.Kind.PAYOUT, key=f"payout:{user.pk}", currency=currency or _default(), owner=user)


def escrow_account(key: str, currency: str) -> Account:
    """The escrow account of one milestone (key: "escrow:<milestone id>")."""
    return _account(kind=Account.Kind.ESCROW, key=key, currency=currency)


def revenue_account(currency: str | None = None) -> Account:
    return _account(kind=Account.Kind.REVENUE, key="revenue", currency=currency or _default())


def clearing_account(gateway: str, currency: str | None = None) -> Account:
    return _account(kind=Account.Kind.CLEARING, key=f"clearing:{gateway}", currency=currency or _default())


def _default() -> str:
    return settings.DEFAULT_CURRENCY


# --- commission ----------------------------------------------------------------------------------------


def split_commission(gross: Decimal, currency: str, rate: Decimal | None = None) -> tuple[Decimal, Decimal]:
    """(net, fee) of a gross amount: the fee rounded half-up to the currency's minor unit, and
    net + fee == gross exactly, always."""
    rate = settings.COMMISSION_RATE if rate is None else rate
    gross = round_amount(gross, currency)
    fee = round_amount(gross * rate, currency)
    fee = min(max(fee, Decimal(0)), gross)
    return gross - fee, fee


# --- posting -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leg:
    account: Account
    amount: Decimal  # signed: positive credits the account, negative debits it


def ledger_post(
    *,
    kind: str,
    idempotency_key: str,
    legs: list[Leg],
    memo: str = "",
    actor=None,
    payment=None,
    withdrawal=None,
    milestone=None,
) -> Transaction:
    """Write one balanced transaction and update the touched balances, atomically.

    A repeated idempotency key returns the first transaction and moves nothing, even when the two calls race:
    the key is claimed (a unique row) before any balance is touched. Accounts are locked in primary-key order,
    so two postings touching the same accounts never deadlock. Raises InsufficientFunds (nothing written) if a
    non-negative account would go below zero, UnbalancedTransaction if the legs do not sum to zero.
    """
    legs = [Leg(leg.account, round_amount(leg.amount, leg.account.currency)) for leg in legs]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for leg in legs:
        if leg.amount == 0:
            raise UnbalancedTransaction(_("A ledger entry cannot be zero."))
        totals[leg.account.currency] += leg.amount
    if not legs or any(total != 0 for total in totals.values()):
        raise UnbalancedTransaction(_("The entries of a transaction must add up to zero."))

    with transaction.atomic():
        try:
            with transaction.atomic():
                posted = Transaction.objects.create(
                    kind=kind,
                    idempotency_key=idempotency_key,
                    memo=memo[:255],
                    actor=actor,
                    payment=payment,
                    withdrawal=withdrawal,
                    milestone=milestone,
                )
        except IntegrityError:
            # Claimed already (now, or by a concurrent call that has since committed): nothing moves.
            first = Transaction.objects.get(idempotency_key=idempotency_key)
            if first.kind != kind:
                raise EscrowError(f"idempotency key {idempotency_key!r} was used for a {first.kind}") from None
            return first

        ids = sorted({leg.account.pk for leg in legs})
        locked = {
            account.pk: account for account in Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        }
        changes: dict[int, Decimal] = defaultdict(Decimal)
        for leg in legs:
            changes[leg.account.pk] += leg.amount
        for pk, change in changes.items():
            account = locked[pk]
            if account.kind in Account.NON_NEGATIVE and account.balance + change < 0:
                raise InsufficientFunds(_("There is not enough money in the account for this."))
        Entry.objects.bulk_create(
            [
                Entry(transaction=posted, account_id=leg.account.pk, amount=leg.amount, currency=leg.account.currency)
                for leg in legs
            ]
        )
        for pk, change in changes.items():
            account = locked[pk]
            account.balance += change
            account.save(update_fields=["balance"])
        return posted


# --- the movements of DESIGN.md's table, each one balanced transaction ------------------------------------


def post_deposit(*, user, amount: Decimal, currency: str, gateway: str, key: str, payment=None) -> Transaction:
    """Money arrived from the gateway: clearing −X, wallet +X."""
    return ledger_post(
        kind=Transaction.Kind.DEPOSIT,
        idempotency_key=key,
        legs=[Leg(clearing_account(gateway, currency), -amount), Leg(wallet_of(user, currency), amount)],
        memo=_("Top-up"),
        actor=user,
        payment=payment,
    )


def post_funding(*, payer, escrow: Account, amount: Decimal, key: str, memo: str = "", milestone=None) -> Transaction:
    """Employer's wallet −X, escrow +X."""
    return ledger_post(
        kind=Transaction.Kind.FUND,
        idempotency_key=key,
        legs=[Leg(wallet_of(payer, escrow.currency), -amount), Leg(escrow, amount)],
        memo=memo,
        actor=payer,
        milestone=milestone,
    )


def post_release(
    *, escrow: Account, freelancer, amount: Decimal, key: str, actor=None, memo: str = "", milestone=None
) -> Transaction:
    """Escrow −X, freelancer's wallet +(X − fee), revenue +fee."""
    net, fee = split_commission(amount, escrow.currency)
    legs = [Leg(escrow, -amount), Leg(wallet_of(freelancer, escrow.currency), net)]
    if fee:
        legs.append(Leg(revenue_account(escrow.currency), fee))
    return ledger_post(
        kind=Transaction.Kind.RELEASE, idempotency_key=key, legs=legs, memo=memo, actor=actor, milestone=milestone
    )


def post_bonus(*, payer, freelancer, amount: Decimal, currency: str, key: str, memo: str = "", milestone=None):
    """A bonus: employer's wallet −X, freelancer's wallet +(X − fee), revenue +fee (commission as for a release)."""
    net, fee = split_commission(amount, currency)
    legs = [Leg(wallet_of(payer, currency), -amount), Leg(wallet_of(freelancer, currency), net)]
    if fee:
        legs.append(Leg(revenue_account(currency), fee))
    return ledger_post(
        kind=Transaction.Kind.BONUS, idempotency_key=key, legs=legs, memo=memo, actor=payer, milestone=milestone
    )


def post_refund(
    *, escrow: Account, employer, amount: Decimal, key: str, actor=None, memo: str = "", milestone=None
) -> Transaction:
    """Escrow −X, employer's wallet +X."""
    return ledger_post(
        kind=Transaction.Kind.REFUND,
        idempotency_key=key,
        legs=[Leg(escrow, -amount), Leg(wallet_of(employer, escrow.currency), amount)],
        memo=memo,
        actor=actor,
        milestone=milestone,
    )


def post_split(
    *,
    escrow: Account,
    employer,
    freelancer,
    total: Decimal,
    to_freelancer: Decimal,
    key: str,
    actor=None,
    memo="",
    milestone=None,
) -> Transaction:
    """A dispute settled: escrow −X, freelancer +(A − fee(A)), revenue +fee(A), employer +(X − A)."""
    if not 0 <= to_freelancer <= total:
        raise EscrowError(_("The freelancer's share must be between zero and the amount in escrow."))
    net, fee = split_commission(to_freelancer, escrow.currency)
    legs = [Leg(escrow, -total)]
    if net:
        legs.append(Leg(wallet_of(freelancer, escrow.currency), net))
    if fee:
        legs.append(Leg(revenue_account(escrow.currency), fee))
    if total - to_freelancer:
        legs.append(Leg(wallet_of(employer, escrow.currency), total - to_freelancer))
    return ledger_post(
        kind=Transaction.Kind.SPLIT, idempotency_key=key, legs=legs, memo=memo, actor=actor, milestone=milestone
    )
