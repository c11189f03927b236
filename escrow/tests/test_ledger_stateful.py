"""Random sequences of every money movement, checked after each step against an in-memory model.

Each Hypothesis example runs inside a savepoint that is rolled back at its end. On PostgreSQL the deferred
balance trigger is made immediate, so it checks every posting of every step, not just at a commit that a
rolled-back test never reaches.
"""

from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from accounts.models import Profile
from accounts.tests.factories import UserFactory
from escrow.checks import ledger_check
from escrow.ledger import (
    EscrowError,
    InsufficientFunds,
    escrow_account,
    post_deposit,
    post_funding,
    post_refund,
    post_release,
    post_split,
    split_commission,
)
from escrow.models import Account, Withdrawal
from escrow.services import withdrawal_mark_paid, withdrawal_reject, withdrawal_request

USERS = 3
ESCROWS = 3
STEPS = {"count": 0}
amounts = st.integers(min_value=1, max_value=2_000_000).map(Decimal)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        self.users = [UserFactory() for _ in range(USERS)]
        Profile.objects.filter(user__in=self.users).update(
            bank_sheba="IR820540102680020817909002", bank_account_holder="Holder"
        )
        self.staff = UserFactory()
        self.staff.is_staff = True
        self.escrows = [escrow_account(f"escrow:stateful-{n}", "IRT") for n in range(ESCROWS)]
        # The model: what every balance must be.
        self.wallet = defaultdict(Decimal)
        self.payout = defaultdict(Decimal)
        self.escrow = defaultdict(Decimal)
        self.revenue = Decimal(0)
        self.clearing = Decimal(0)
        self.pending: list[Withdrawal] = []
        self.keys: list[tuple] = []
        self.serial = 0

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _key(self, name: str) -> str:
        self.serial += 1
        return f"{name}:{self.serial}"

    def _step(self):
        STEPS["count"] += 1

    @rule(user=st.integers(0, USERS - 1), amount=amounts)
    def deposit(self, user, amount):
        self._step()
        key = self._key("deposit")
        post_deposit(user=self.users[user], amount=amount, currency="IRT", gateway="sandbox", key=key)
        self.keys.append(("deposit", key, user, amount))
        self.wallet[user] += amount
        self.clearing -= amount

    @rule(user=st.integers(0, USERS - 1), escrow=st.integers(0, ESCROWS - 1), amount=amounts)
    def fund(self, user, escrow, amount):
        self._step()
        key = self._key("fund")
        if amount > self.wallet[user]:
            with pytest.raises(InsufficientFunds):
                post_funding(payer=self.users[user], escrow=self.escrows[escrow], amount=amount, key=key)
            return
        post_funding(payer=self.users[user], escrow=self.escrows[escrow], amount=amount, key=key)
        self.wallet[user] -= amount
        self.escrow[escrow] += amount

    @rule(escrow=st.integers(0, ESCROWS - 1), freelancer=st.integers(0, USERS - 1), part=st.floats(0.01, 1))
    def release(self, escrow, freelancer, part):
        self._step()
        amount = (self.escrow[escrow] * Decimal(str(part))).quantize(Decimal(1))
        if amount <= 0:
            return
        post_release(escrow=self.escrows[escrow], freelancer=self.users[freelancer], amount=amount, key=self._key("r"))
        net, fee = split_commission(amount, "IRT")
        self.escrow[escrow] -= amount
        self.wallet[freelancer] += net
        self.revenue += fee

    @rule(escrow=st.integers(0, ESCROWS - 1), employer=st.integers(0, USERS - 1), part=st.floats(0.01, 1))
    def refund(self, escrow, employer, part):
        self._step()
        amount = (self.escrow[escrow] * Decimal(str(part))).quantize(Decimal(1))
        if amount <= 0:
            return
        post_refund(escrow=self.escrows[escrow], employer=self.users[employer], amount=amount, key=self._key("rf"))
        self.escrow[escrow] -= amount
        self.wallet[employer] += amount

    @rule(
        escrow=st.integers(0, ESCROWS - 1),
        employer=st.integers(0, USERS - 1),
        freelancer=st.integers(0, USERS - 1),
        share=st.floats(0, 1),
    )
    def split(self, escrow, employer, freelancer, share):
        self._step()
        total = self.escrow[escrow]
        if total <= 0:
            return
        to_freelancer = (total * Decimal(str(share))).quantize(Decimal(1))
        post_split(
            escrow=self.escrows[escrow],
            employer=self.users[employer],
            freelancer=self.users[freelancer],
            total=total,
            to_freelancer=to_freelancer,
            key=self._key("split"),
        )
        net, fee = split_commission(to_freelancer, "IRT")
        self.escrow[escrow] = Decimal(0)
        self.wallet[freelancer] += net
        self.revenue += fee
        self.wallet[employer] += total - to_freelancer

    @rule(user=st.integers(0, USERS - 1), amount=st.integers(50_000, 2_000_000).map(Decimal))
    def withdraw(self, user, amount):
        self._step()
        if amount < 100_000:
            with pytest.raises(EscrowError):
                withdrawal_request(user=self.users[user], amount=amount)
            return
        if amount > self.wallet[user]:
            with pytest.raises(InsufficientFunds):
                withdrawal_request(user=self.users[user], amount=amount)
            return
        self.pending.append(withdrawal_request(user=self.users[user], amount=amount))
        self.wallet[user] -= amount
        self.payout[user] += amount

    @precondition(lambda self: self.pending)
    @rule(pay=st.booleans(), twice=st.booleans())
    def process_withdrawal(self, pay, twice):
        self._step()
        withdrawal = self.pending.pop(0)
        user = self.users.index(withdrawal.user)
        for _ in range(2 if twice else 1):  # the second call must change nothing
            if pay:
                withdrawal_mark_paid(withdrawal=withdrawal, by=self.staff, bank_reference="REF-1")
            else:
                withdrawal_reject(withdrawal=withdrawal, by=self.staff, note="wrong Sheba")
        self.payout[user] -= withdrawal.amount
        if not pay:
            self.wallet[user] += withdrawal.amount

    @precondition(lambda self: self.keys)
    @rule(index=st.integers(0, 100))
    def replay_a_deposit(self, index):
        self._step()
        _kind, key, user, amount = self.keys[index % len(self.keys)]
        post_deposit(user=self.users[user], amount=amount, currency="IRT", gateway="sandbox", key=key)  # no effect

    @invariant()
    def balances_match_the_model_and_the_ledger_is_consistent(self):
        balances = {a.key: a.balance for a in Account.objects.filter(currency="IRT")}
        for n, user in enumerate(self.users):
            assert balances.get(f"wallet:{user.pk}", 0) == self.wallet[n]
            assert balances.get(f"payout:{user.pk}", 0) == self.payout[n]
        for n, escrow in enumerate(self.escrows):
            assert balances[escrow.key] == self.escrow[n]
        assert balances.get("revenue", 0) == self.revenue
        assert balances.get("clearing:sandbox", 0) == self.clearing
        report = ledger_check()
        assert report.clean, report.breaches


@pytest.mark.django_db
def test_every_sequence_of_movements_keeps_the_books(capsys):
    STEPS["count"] = 0
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=60,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    with capsys.disabled():
        print(f"\n[ledger stateful test] {STEPS['count']} steps over 60 examples, every invariant checked after each")
    assert STEPS["count"] > 500
