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
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
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


@dataclass(frozen=True)
class AccountRef:
    """An account named by its key and currency, not looked up: on PostgreSQL the posting finds it in its own
    statement, so the post_* helpers below name their accounts without a query each (the kind and owner are what
    the account is made with on first use)."""

    kind: str
    key: str
    currency: str
    owner_id: int | None = None


def _account(ref: AccountRef) -> Account:
    account, _created = Account.objects.get_or_create(
        key=ref.key, currency=ref.currency, defaults={"kind": ref.kind, "owner_id": ref.owner_id}
    )
    return account


def _wallet(user, currency: str | None = None) -> AccountRef:
    return AccountRef(Account.Kind.WALLET, f"wallet:{user.pk}", currency or _default(), user.pk)


def _payout(user, currency: str | None = None) -> AccountRef:
    return AccountRef(Account.Kind.PAYOUT, f"payout:{user.pk}", currency or _default(), user.pk)


def _revenue(currency: str | None = None) -> AccountRef:
    return AccountRef(Account.Kind.REVENUE, "revenue", currency or _default())


def _clearing(gateway: str, currency: str | None = None) -> AccountRef:
    return AccountRef(Account.Kind.CLEARING, f"clearing:{gateway}", currency or _default())


def wallet_of(user, currency: str | None = None) -> Account:
    return _account(_wallet(user, currency))


def payout_of(user, currency: str | None = None) -> Account:
    return _account(_payout(user, currency))


def escrow_account(key: str, currency: str) -> Account:
    """The escrow account of one milestone (key: "escrow:<milestone id>")."""
    return _account(AccountRef(Account.Kind.ESCROW, key, currency))


def revenue_account(currency: str | None = None) -> Account:
    return _account(_revenue(currency))


def clearing_account(gateway: str, currency: str | None = None) -> Account:
    return _account(_clearing(gateway, currency))


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
    account: Account | AccountRef
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

    On PostgreSQL one statement does it (the database function of migration 0014); the ORM code below is the same
    steps, for SQLite.
    """
    legs = [Leg(leg.account, round_amount(leg.amount, leg.account.currency)) for leg in legs]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for leg in legs:
        if leg.amount == 0:
            raise UnbalancedTransaction(_("A ledger entry cannot be zero."))
        totals[leg.account.currency] += leg.amount
    if not legs or any(total != 0 for total in totals.values()):
        raise UnbalancedTransaction(_("The entries of a transaction must add up to zero."))

    if connection.vendor == "postgresql":
        return _post_in_the_database(
            kind=kind, idempotency_key=idempotency_key, legs=legs, memo=memo, actor=actor, payment=payment,
            withdrawal=withdrawal, milestone=milestone,
        )  # fmt: skip
    legs = [Leg(_account(leg.account), leg.amount) if isinstance(leg.account, AccountRef) else leg for leg in legs]
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


# SQLSTATEs of the database function's refusals (migration 0014): an account would go below zero; a leg names an
# account (AccountRef) that does not exist yet.
_BELOW_ZERO = "HMK01"
_NO_SUCH_ACCOUNT = "HMK02"


def _post_in_the_database(*, kind, idempotency_key, legs, memo, actor, payment, withdrawal, milestone) -> Transaction:
    """ledger_post on PostgreSQL: the database function `ledger_post` (migration 0014) claims the key, finds the
    accounts named by reference, locks them in primary-key order, refuses an overdraft and writes the entries and
    balances, in one statement.

    Outside a transaction that statement is a transaction of its own; inside one it runs in a savepoint, so a
    refusal leaves the caller's transaction as it was (as the ORM code's atomic block does)."""
    created_at = timezone.now()  # what auto_now_add would set (tests may stop the clock)
    memo = str(memo)[:255]
    fields = (kind, idempotency_key, memo, created_at, actor, payment, withdrawal, milestone)
    try:
        txn_id, first_kind, claimed = _call_ledger_post(*fields, legs)
    except _AccountMissing:
        # The first use of an account: it is made as wallet_of() makes it (and stays, as wallet_of's would), then
        # the posting is sent again, by id.
        legs = [Leg(_account(leg.account), leg.amount) if isinstance(leg.account, AccountRef) else leg for leg in legs]
        txn_id, first_kind, claimed = _call_ledger_post(*fields, legs)
    if not claimed:
        if first_kind != kind:
            raise EscrowError(f"idempotency key {idempotency_key!r} was used for a {first_kind}")
        return Transaction.objects.get(pk=txn_id)
    posted = Transaction(
        id=txn_id, kind=kind, idempotency_key=idempotency_key, memo=memo, actor=actor, payment=payment,
        withdrawal=withdrawal, milestone=milestone, created_at=created_at,
    )  # fmt: skip
    posted._state.adding, posted._state.db = False, connection.alias  # as if loaded: it is in the database
    return posted


class _AccountMissing(Exception):
    pass


def _call_ledger_post(kind, key, memo, created_at, actor, payment, withdrawal, milestone, legs) -> tuple:
    """(transaction id, its kind, whether this call made it), or the function's refusal as an exception."""
    accounts = [leg.account for leg in legs]
    arguments = [
        str(kind), key, memo, created_at, _pk(actor), _pk(payment), _pk(withdrawal), _pk(milestone),
        # An Account by its id; an AccountRef by key and currency.
        [account.pk if isinstance(account, Account) else None for account in accounts],
        [account.key for account in accounts], [account.currency for account in accounts],
        [leg.amount for leg in legs], [str(each) for each in Account.NON_NEGATIVE],
    ]  # fmt: skip
    sql = (
        "SELECT * FROM ledger_post(%s, %s, %s, %s, %s, %s, %s, %s,"
        " %s::bigint[], %s::varchar[], %s::varchar[], %s::numeric[], %s::varchar[])"
    )
    try:
        if connection.get_autocommit() and not connection.in_atomic_block:
            return _fetch_one(sql, arguments)
        with transaction.atomic():
            return _fetch_one(sql, arguments)
    except DatabaseError as error:
        sqlstate = getattr(error.__cause__, "sqlstate", None)
        if sqlstate == _BELOW_ZERO:
            raise InsufficientFunds(_("There is not enough money in the account for this.")) from None
        if sqlstate == _NO_SUCH_ACCOUNT:
            raise _AccountMissing from None
        raise


def _fetch_one(sql: str, arguments: list) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(sql, arguments)
        return cursor.fetchone()


def _pk(instance) -> int | None:
    return None if instance is None else instance.pk


# --- the movements of DESIGN.md's table, each one balanced transaction ------------------------------------


def post_deposit(*, user, amount: Decimal, currency: str, gateway: str, key: str, payment=None) -> Transaction:
    """Money arrived from the gateway: clearing −X, wallet +X."""
    return ledger_post(
        kind=Transaction.Kind.DEPOSIT,
        idempotency_key=key,
        legs=[Leg(_clearing(gateway, currency), -amount), Leg(_wallet(user, currency), amount)],
        memo=_("Top-up"),
        actor=user,
        payment=payment,
    )


def post_funding(*, payer, escrow: Account, amount: Decimal, key: str, memo: str = "", milestone=None) -> Transaction:
    """Employer's wallet −X, escrow +X."""
    return ledger_post(
        kind=Transaction.Kind.FUND,
        idempotency_key=key,
        legs=[Leg(_wallet(payer, escrow.currency), -amount), Leg(escrow, amount)],
        memo=memo,
        actor=payer,
        milestone=milestone,
    )


def post_release(
    *, escrow: Account, freelancer, amount: Decimal, key: str, actor=None, memo: str = "", milestone=None
) -> Transaction:
    """Escrow −X, freelancer's wallet +(X − fee), revenue +fee."""
    net, fee = split_commission(amount, escrow.currency)
    legs = [Leg(escrow, -amount), Leg(_wallet(freelancer, escrow.currency), net)]
    if fee:
        legs.append(Leg(_revenue(escrow.currency), fee))
    return ledger_post(
        kind=Transaction.Kind.RELEASE, idempotency_key=key, legs=legs, memo=memo, actor=actor, milestone=milestone
    )


def post_bonus(*, payer, freelancer, amount: Decimal, currency: str, key: str, memo: str = "", milestone=None):
    """A bonus: employer's wallet −X, freelancer's wallet +(X − fee), revenue +fee (commission as for a release)."""
    net, fee = split_commission(amount, currency)
    legs = [Leg(_wallet(payer, currency), -amount), Leg(_wallet(freelancer, currency), net)]
    if fee:
        legs.append(Leg(_revenue(currency), fee))
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
        legs=[Leg(escrow, -amount), Leg(_wallet(employer, escrow.currency), amount)],
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
        legs.append(Leg(_wallet(freelancer, escrow.currency), net))
    if fee:
        legs.append(Leg(_revenue(escrow.currency), fee))
    if total - to_freelancer:
        legs.append(Leg(_wallet(employer, escrow.currency), total - to_freelancer))
    return ledger_post(
        kind=Transaction.Kind.SPLIT, idempotency_key=key, legs=legs, memo=memo, actor=actor, milestone=milestone
    )
