from datetime import UTC, datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from accounts.tests.factories import UserFactory
from escrow.checks import ledger_check
from escrow.ledger import (
    EscrowError,
    InsufficientFunds,
    Leg,
    UnbalancedTransaction,
    escrow_account,
    ledger_post,
    post_deposit,
    post_funding,
    post_release,
    post_split,
    revenue_account,
    split_commission,
    wallet_of,
)
from escrow.models import Account, Entry, Transaction
from marketplace.testing import run_in_threads


def _deposit(user, amount, key=None):
    return post_deposit(
        user=user, amount=Decimal(amount), currency="IRT", gateway="sandbox", key=key or f"d:{amount}:{user.pk}"
    )


def _balance(account):
    return Account.objects.get(pk=account.pk).balance


@pytest.mark.django_db
def test_a_deposit_moves_money_from_clearing_to_the_wallet_and_balances():
    user = UserFactory()
    _deposit(user, "500000")
    assert _balance(wallet_of(user)) == 500000
    assert Account.objects.get(key="clearing:sandbox").balance == -500000
    assert ledger_check().clean


@pytest.mark.django_db
def test_release_pays_the_freelancer_less_commission():
    employer, freelancer = UserFactory(), UserFactory()
    _deposit(employer, "1000000")
    escrow = escrow_account("escrow:test-1", "IRT")
    post_funding(payer=employer, escrow=escrow, amount=Decimal("1000000"), key="fund:1")
    post_release(escrow=escrow, freelancer=freelancer, amount=Decimal("1000000"), key="release:1")
    assert _balance(wallet_of(freelancer)) == 900000
    assert _balance(revenue_account()) == 100000
    assert _balance(escrow) == 0
    assert ledger_check().clean


@pytest.mark.django_db
def test_a_dispute_split_pays_both_sides():
    employer, freelancer = UserFactory(), UserFactory()
    _deposit(employer, "1000000")
    escrow = escrow_account("escrow:test-2", "IRT")
    post_funding(payer=employer, escrow=escrow, amount=Decimal("1000000"), key="fund:2")
    post_split(
        escrow=escrow, employer=employer, freelancer=freelancer, total=Decimal("1000000"),
        to_freelancer=Decimal("600000"), key="split:2",
    )  # fmt: skip
    assert _balance(wallet_of(freelancer)) == 540000
    assert _balance(revenue_account()) == 60000
    assert _balance(wallet_of(employer)) == 400000
    assert ledger_check().clean


@pytest.mark.django_db
def test_a_repeated_key_returns_the_first_transaction_and_moves_nothing():
    user = UserFactory()
    first = _deposit(user, "1000", key="same")
    second = _deposit(user, "1000", key="same")
    assert first.pk == second.pk
    assert _balance(wallet_of(user)) == 1000
    assert Transaction.objects.count() == 1


@pytest.mark.django_db
def test_a_key_reused_for_another_kind_of_movement_is_an_error():
    user = UserFactory()
    _deposit(user, "1000", key="shared")
    with pytest.raises(EscrowError):
        post_funding(payer=user, escrow=escrow_account("escrow:x", "IRT"), amount=Decimal(1), key="shared")


@pytest.mark.django_db
def test_a_posting_writes_what_the_orm_would_and_returns_the_stored_transaction():
    employer, freelancer = UserFactory(), UserFactory()
    _deposit(employer, "1000000")
    escrow = escrow_account("escrow:fields", "IRT")
    post_funding(payer=employer, escrow=escrow, amount=Decimal("1000000"), key="fund:fields")
    stopped = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    with mock.patch.object(timezone, "now", return_value=stopped):
        posted = post_release(
            escrow=escrow, freelancer=freelancer, amount=Decimal("1000000"), key="release:fields", actor=employer,
            memo="m" * 300,
        )  # fmt: skip
    stored = Transaction.objects.get(pk=posted.pk)
    assert (stored.kind, stored.idempotency_key, stored.memo, stored.actor, stored.created_at) == (
        "release", "release:fields", "m" * 255, employer, stopped,
    )  # fmt: skip
    assert (posted.kind, posted.memo, posted.actor, posted.created_at) == ("release", "m" * 255, employer, stopped)
    # The entries in the order of the legs, each in its account's currency.
    assert list(stored.entries.order_by("pk").values_list("account_id", "amount", "currency")) == [
        (escrow.pk, Decimal("-1000000"), "IRT"),
        (wallet_of(freelancer).pk, Decimal("900000"), "IRT"),
        (revenue_account().pk, Decimal("100000"), "IRT"),
    ]
    assert ledger_check().clean


@pytest.mark.django_db
def test_an_account_is_made_once_on_first_use_with_its_kind_and_owner():
    user = UserFactory()
    wallet = wallet_of(user, "USD")
    assert (wallet.kind, wallet.owner, wallet.key, wallet.currency, wallet.balance) == (
        "wallet", user, f"wallet:{user.pk}", "USD", 0,
    )  # fmt: skip
    assert wallet_of(user, "USD").pk == wallet.pk
    assert wallet_of(user, "IRT").pk != wallet.pk
    assert Account.objects.filter(key=f"wallet:{user.pk}").count() == 2


@pytest.mark.django_db
def test_overdrawing_a_wallet_is_refused_and_writes_nothing():
    user = UserFactory()
    _deposit(user, "1000")
    with pytest.raises(InsufficientFunds):
        post_funding(payer=user, escrow=escrow_account("escrow:y", "IRT"), amount=Decimal("1001"), key="too-much")
    assert _balance(wallet_of(user)) == 1000
    assert not Transaction.objects.filter(idempotency_key="too-much").exists()
    assert ledger_check().clean


@pytest.mark.django_db
def test_unbalanced_or_zero_legs_are_refused():
    user = UserFactory()
    with pytest.raises(UnbalancedTransaction):
        ledger_post(kind="deposit", idempotency_key="u1", legs=[Leg(wallet_of(user), Decimal(5))])
    with pytest.raises(UnbalancedTransaction):
        ledger_post(kind="deposit", idempotency_key="u2", legs=[Leg(wallet_of(user), Decimal(0))])
    assert not Transaction.objects.exists()


@pytest.mark.django_db
def test_the_database_refuses_a_negative_wallet_even_without_the_python_check():
    account = wallet_of(UserFactory())
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(balance=-1)


@given(
    gross=st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False),
    rate=st.decimals(min_value=0, max_value=1, places=4, allow_nan=False, allow_infinity=False),
    currency=st.sampled_from(["IRT", "IRR", "USD", "EUR"]),
)
def test_net_plus_fee_is_the_gross_exactly(gross, rate, currency):
    net, fee = split_commission(gross, currency, rate)
    from marketplace.currency import round_amount

    assert net + fee == round_amount(gross, currency)
    assert net >= 0 and fee >= 0
    assert fee == round_amount(fee, currency)


# --- the database's own guard (PostgreSQL, committed transactions) ------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_raw_unbalanced_insert_fails_at_commit(require_postgres):
    user = UserFactory()
    account = wallet_of(user)
    with pytest.raises(IntegrityError, match="unbalanced"), transaction.atomic():
        posted = Transaction.objects.create(kind="deposit", idempotency_key="raw")
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO escrow_entry (transaction_id, account_id, amount, currency) VALUES (%s, %s, %s, %s)",
                [posted.pk, account.pk, Decimal("100"), "IRT"],
            )
        # Nothing complains yet: the check is deferred to the commit at the end of this block.
    assert not Transaction.objects.filter(idempotency_key="raw").exists()


@pytest.mark.django_db(transaction=True)
def test_the_posting_function_cannot_commit_an_unbalanced_transaction_either(require_postgres):
    account = wallet_of(UserFactory())
    with pytest.raises(IntegrityError, match="unbalanced"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT ledger_post('deposit', 'raw-fn', '', now(), NULL, NULL, NULL, NULL, %s::bigint[], %s::varchar[],"
            " %s::varchar[], %s::numeric[], %s::varchar[])",
            [[account.pk], [account.key], [account.currency], [Decimal("100")], [str(k) for k in Account.NON_NEGATIVE]],
        )
    assert not Transaction.objects.filter(idempotency_key="raw-fn").exists()
    assert _balance(account) == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE escrow_entry SET amount = amount * 2",
        "DELETE FROM escrow_entry",
        "UPDATE escrow_transaction SET memo = 'changed'",
        "DELETE FROM escrow_transaction",
    ],
)
def test_raw_updates_and_deletes_of_ledger_rows_fail(require_postgres, statement):
    _deposit(UserFactory(), "1000")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert Entry.objects.count() == 2
    assert ledger_check().clean


# --- concurrency (PostgreSQL, real threads) ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_identical_releases_post_exactly_one_transaction(require_postgres):
    employer, freelancer = UserFactory(), UserFactory()
    _deposit(employer, "1000000")
    escrow = escrow_account("escrow:race", "IRT")
    post_funding(payer=employer, escrow=escrow, amount=Decimal("1000000"), key="fund:race")

    outcomes = run_in_threads(
        50, lambda: post_release(escrow=escrow, freelancer=freelancer, amount=Decimal("1000000"), key="release:race")
    )
    assert all(isinstance(outcome, Transaction) for outcome in outcomes), outcomes
    assert len({outcome.pk for outcome in outcomes}) == 1
    assert Transaction.objects.filter(kind="release").count() == 1
    assert _balance(wallet_of(freelancer)) == 900000
    assert _balance(escrow) == 0
    assert ledger_check().clean


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_withdrawals_of_sixty_percent_exactly_one_succeeds(require_postgres):
    from accounts.models import Profile
    from escrow.services import withdrawal_request

    user = UserFactory()
    Profile.objects.filter(user=user).update(bank_sheba="IR820540102680020817909002", bank_account_holder="Reza")
    _deposit(user, "1000000")

    outcomes = run_in_threads(10, lambda: withdrawal_request(user=user, amount=Decimal("600000")))
    succeeded = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, InsufficientFunds)]
    assert len(succeeded) == 1 and len(refused) == 9, outcomes
    assert _balance(wallet_of(user)) == 400000
    assert ledger_check().clean


@pytest.mark.django_db(transaction=True)
def test_an_overdraft_is_refused_alone_and_inside_a_transaction_that_goes_on(require_postgres):
    user = UserFactory()
    _deposit(user, "1000")
    escrow = escrow_account("escrow:over", "IRT")
    # Outside a transaction the posting is one statement, its own transaction: refused, it leaves nothing.
    with pytest.raises(InsufficientFunds):
        post_funding(payer=user, escrow=escrow, amount=Decimal("1001"), key="over:alone")
    # Inside one it is a savepoint: the refusal leaves the caller's transaction usable, and what follows commits.
    with transaction.atomic():
        with pytest.raises(InsufficientFunds):
            post_funding(payer=user, escrow=escrow, amount=Decimal("1001"), key="over:inside")
        post_funding(payer=user, escrow=escrow, amount=Decimal("400"), key="over:then")
    assert not Transaction.objects.filter(idempotency_key__in=["over:alone", "over:inside"]).exists()
    assert (_balance(wallet_of(user)), _balance(escrow)) == (600, 400)
    assert ledger_check().clean


@pytest.mark.django_db(transaction=True)
def test_postings_that_list_the_same_accounts_in_opposite_orders_do_not_deadlock(require_postgres):
    first, second = UserFactory(), UserFactory()
    _deposit(first, "1000000")
    _deposit(second, "1000000")
    wallets = [wallet_of(first), wallet_of(second)]
    count = iter(range(1000))

    def move():
        n = next(count)
        payer, payee = (wallets[0], wallets[1]) if n % 2 else (wallets[1], wallets[0])
        return ledger_post(
            kind="bonus", idempotency_key=f"swap:{n}", legs=[Leg(payer, Decimal(-100)), Leg(payee, Decimal(100))]
        )

    outcomes = run_in_threads(20, move)
    assert all(isinstance(outcome, Transaction) for outcome in outcomes), outcomes
    assert (_balance(wallets[0]), _balance(wallets[1])) == (1000000, 1000000)  # ten each way
    assert ledger_check().clean


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_postings_to_a_new_wallet_make_one_account(require_postgres):
    user = UserFactory()
    count = iter(range(1000))
    outcomes = run_in_threads(20, lambda: _deposit(user, "1000", key=f"first:{next(count)}"))
    assert all(isinstance(outcome, Transaction) for outcome in outcomes), outcomes
    wallet = Account.objects.get(key=f"wallet:{user.pk}", currency="IRT")
    assert (wallet.kind, wallet.owner, wallet.balance) == ("wallet", user, 20000)
    assert Account.objects.filter(key="clearing:sandbox").count() == 1
    assert ledger_check().clean


def test_check_ledger_command_reports_a_breach(db, capsys):
    user = UserFactory()
    _deposit(user, "1000")
    call_command("check_ledger")
    assert "Ledger is consistent." in capsys.readouterr().out
    Account.objects.filter(pk=wallet_of(user).pk).update(balance=999)  # a cache that lies
    with pytest.raises(CommandError):
        call_command("check_ledger")
    assert "caches 999.00" in capsys.readouterr().err
