"""The whole contract machine as a Hypothesis state machine: both sides, staff and the clocks take random turns
on a few contracts, every action only through its public service, and after every step the books, the budgets
and the clocks are checked. `workspace/tests/test_machine.py` runs it briefly in CI; `bench/contract_machine.py`
runs it for a long time.

The walk. The rules of the machine are the people's actions: each party's (every entry of the Operations menu
and the contract's Changes and Bonus box), staff's resolution, an employer's top-up, and time passing. An action's
rule is drawn only when someone may take it now (its precondition reads the menu, `rules.refusal` over every
milestone and both parties) and acts as one of them, with a form that is sometimes out of range (an offer above
the escrow, a due date in the past, another side's dispute reason, the step not due); `anyone_tries_anything`
has any person, a stranger and staff too, try any action on any milestone, so the refusals are walked as well.

Each step checks two things.

- The rules agree with the services: an action succeeds exactly when `rules.refusal` (on the rows as the
  workspace page prefetches them) found nothing beforehand and what the person typed was valid; when the rules
  refuse, the service raises that same error.
- The invariants (`books_and_clocks_hold`): the ledger check is clean; money is conserved (every wallet, escrow,
  revenue and payout balance adds up to the deposits; each employer's wallet is what they deposited less what
  they funded and bonused plus what came back; the freelancers and the platform hold what was released plus the
  bonuses); each contract's budget adds up; no money sits in an open milestone without a clock that will move it
  or a case with staff; at most one open dispute, offer and change, each only where it can still be answered; a
  closed milestone holds nothing and a closed contract has nothing open. After the clock moves, the sweep has left
  nothing overdue and a second sweep does nothing.

The clock. The services read the time themselves (`timezone.now()` for a dispute's deadline, the review and
remainder clocks, the late-work and due-date checks, `auto_now_add`), so moving only the `now` given to the sweep
would let the deadlines it enforces and the deadlines the services set drift apart, and moving stored timestamps
back would have to know every one of them. Instead, for the length of a walk, `django.utils.timezone.now` (which
`localdate`, `localtime` and the date fields call too) is replaced by `SimulatedClock.now`: it starts at noon
today, moves a minute with every step and hours or days when `time_passes` runs; the sweep
(`clocks.enforce_deadlines(now=...)`) and `rules.refusal(..., now=...)` are given that same time. One clock for
everything is the simplest arrangement that is exactly right, and a walk replays the same way every time.

Each walk runs in a transaction rolled back at its end, with PostgreSQL's deferred ledger trigger made immediate,
so it checks every posting (the rollback never reaches a commit).
"""

from collections import Counter
from contextlib import ExitStack
from datetime import datetime, timedelta
from decimal import Decimal
from unittest import mock
from uuid import uuid4

from django.db import connection, transaction
from django.db.models import Prefetch, Q, Sum
from django.utils import timezone
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from accounts.tests.factories import UserFactory
from escrow.checks import ledger_check
from escrow.ledger import post_deposit, wallet_of
from escrow.models import Account, Entry, Payment, Transaction
from marketplace.currency import round_amount
from marketplace.errors import DomainError
from workspace.models import Contract, ContractChange, Dispute, Milestone, Offer
from workspace.selectors import contract_budget, milestones_budget
from workspace.services import changes, choosing, clocks, delivery, disputes, funding, rules, settling
from workspace.tests.factories import contract_in, phased_contract_in, zip_file

# What the runs did, for the test's and the bench's report: steps, walks, and per action how often it was tried,
# done, and refused (the rules and the service agreeing either way).
STATS: Counter = Counter()

# Where the single-delivery contract starts (contract_in's states): the first is what a failing walk shrinks
# towards; the others reach the deep states (disputes, offers, changes, lapsed clocks) in fewer steps.
START_STATES = (
    "in_progress", "review", "delivered", "disputed", "negotiating", "remainder_lapsed", "freelancer_disputed",
    "cancel_offered", "change_proposed", "late",
)  # fmt: skip
# How far the clock jumps: within and across the review clock (48 h), the remainder clock (3 days), a dispute's
# answer (4 days) and negotiation (5 days), the warnings before them, and past a due date plus its grace period.
HOURS = (1, 6, 23, 24, 47, 48, 49, 72, 96, 120, 24 * 10, 24 * 25)
PARTIES = ("employer", "freelancer")
ANYONE = ("employer", "freelancer", "stranger", "staff")
LOW_WALLET = Decimal(1_000_000)  # an employer tops up below this (each contract_in starts with twice its amount)
ACTIONS = rules.MENU + rules.CONTRACT_MENU + ("resolve",)

picks = st.integers(min_value=0, max_value=10_000)
percents = st.integers(min_value=0, max_value=130)  # of what is in escrow: above 100 the form is out of range
# What a person fills in for each action (the same forms whether the rules allow it or not).
FORMS = {
    "fund": st.fixed_dictionaries({"due_step": st.sampled_from([True, True, True, False])}),
    "dispute": st.fixed_dictionaries({"reason": picks, "listed": st.sampled_from([True, True, True, False])}),
    "offer": st.fixed_dictionaries({"percent": percents}),
    "release_part": st.fixed_dictionaries({"percent": percents}),
    "propose_edit": st.fixed_dictionaries(
        {
            "what": st.sampled_from(["amount", "due_date", "title"]),
            "percent": st.integers(0, 200),
            "days": st.integers(-5, 40),
        }
    ),
    "propose_add": st.fixed_dictionaries({"amount": st.integers(0, 3_000_000), "days": st.integers(-2, 60)}),
    "bonus": st.fixed_dictionaries({"amount": st.integers(0, 500_000), "repeat": st.booleans()}),
    "resolve": st.fixed_dictionaries({"outcome": st.sampled_from(["split", "release", "refund"]), "percent": percents}),
}
NO_FORM = st.just({})


def form(action: str):
    return FORMS.get(action, NO_FORM)


class SimulatedClock:
    """The one time every service, rule and sweep reads during a walk (see the module's docstring)."""

    def __init__(self, start: datetime):
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


class Breach(AssertionError):
    """An invariant, or the rules' agreement with the services, did not hold."""


def expect(condition, message: str) -> None:
    if not condition:
        raise Breach(message)


def possible(action: str):
    """A precondition: someone may take `action` now (by the rules, read as the page reads them)."""
    return precondition(lambda self: bool(self.menu().get(action)))


class ContractMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        STATS["walks"] += 1
        self._stack = ExitStack()
        self.clock = SimulatedClock(timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0))
        self._stack.enter_context(mock.patch.object(timezone, "now", self.clock.now))
        self._stack.enter_context(transaction.atomic())
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        self.contract_ids: list[int] = []
        self.bonus_paid: Counter = Counter()  # contract → gross bonuses paid
        self.tokens: dict[int, set[str]] = {}  # contract → the bonus tokens that paid
        self.tried_tokens: list[str] = []
        self.steps = 0
        self.since_the_clock_moved = 0
        self._read: list[Contract] | None = None  # the pages as last read; None once something was done since
        self._menu: tuple[int, dict] | None = None
        self.serial = 0

    def teardown(self):
        try:
            transaction.set_rollback(True)
        finally:
            self._stack.close()

    # --- set-up -----------------------------------------------------------------------------------------------

    @initialize(start=st.sampled_from(START_STATES), phased=st.booleans(), awaiting=st.booleans())
    def contracts(self, start, phased, awaiting):
        """A single delivery in `start`; perhaps a three-phase contract (its first phase funded) and a single
        delivery waiting for the freelancer's answer. Each has its own employer and freelancer."""
        self.staff = UserFactory(is_staff=True)
        self.stranger = UserFactory()
        self.contract_ids.append(contract_in(start).contract.pk)
        if phased:
            self.contract_ids.append(phased_contract_in(2, 3, 2, states=("funded",)).contract.pk)
        if awaiting:
            self.contract_ids.append(contract_in("awaiting").contract.pk)

    # --- reading state as the page does -----------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def _tick(self, action: str) -> None:
        """A step begins: counted, and a minute passes (between two clicks)."""
        self.steps += 1
        self.since_the_clock_moved += 1
        STATS["steps"] += 1
        STATS[f"tried {action}"] += 1
        self.clock.advance(timedelta(minutes=1))

    def _pages(self, *, fresh: bool = False) -> list[Contract]:
        """The contracts with what the rules read, prefetched as the workspace page does
        (selectors.workspace_contract, less the timeline, which no rule reads), all in one go. Read again only
        after something was done (`_changed`): a minute passing changes what the rules say, not the rows."""
        if fresh or self._read is None:
            milestones = Milestone.objects.order_by("position").prefetch_related("deliverables", "disputes", "offers")
            self._read = list(
                Contract.objects.filter(pk__in=self.contract_ids)
                .order_by("pk")
                .select_related("employer", "freelancer")
                .prefetch_related(Prefetch("milestones", queryset=milestones), "changes")
            )
            self._menu = None
        return self._read

    def _changed(self) -> None:
        self._read = self._menu = None

    def _person(self, contract: Contract, who: str):
        return {"employer": contract.employer, "freelancer": contract.freelancer, "staff": self.staff}.get(
            who, self.stranger
        )

    def _allowed(self, action: str, pages: list[Contract]) -> list[tuple[Milestone, object]]:
        if action == "resolve":  # staff, in the admin: any dispute in progress
            return [(m, self.staff) for c in pages for m in c.milestones.all() if rules.open_dispute(m)]
        return [
            (milestone, self._person(contract, who))
            for contract in pages
            for milestone in contract.milestones.all()
            for who in PARTIES
            if rules.refusal(action, user=self._person(contract, who), milestone=milestone, now=self.now) is None
        ]

    def menu(self) -> dict[str, list]:
        """Who may do what now, over every contract (the preconditions read it; computed once a step). `top_up`:
        the employers whose wallet runs low."""
        if self._menu is None or self._menu[0] != self.steps:
            pages = self._pages()
            menu = {action: self._allowed(action, pages) for action in ACTIONS}
            low = set(
                Account.objects.filter(
                    kind=Account.Kind.WALLET, owner__in=[c.employer_id for c in pages], balance__lt=LOW_WALLET
                ).values_list("owner", flat=True)
            )
            menu["top_up"] = [contract for contract in pages if contract.employer_id in low]
            self._menu = (self.steps, menu)
        return self._menu[1]

    def _choose(self, action: str, pick: int):
        """A milestone and a person the rules allow `action` to now (read after this step's minute passed);
        if the minute took the last chance away, any party, and the service must refuse."""
        pages = self._pages()
        options = self._allowed(action, pages) or [
            (m, self._person(c, who)) for c in pages for m in c.milestones.all() for who in PARTIES
        ]
        return options[pick % len(options)]

    def _refusal(self, action: str, milestone: Milestone, user, **params):
        return rules.refusal(action, user=user, milestone=milestone, now=self.now, **params)

    def _attempt(self, action: str, refusal: DomainError | None, call, *, valid: bool = True, typed: str = ""):
        """Run the service. It must succeed exactly when the rules allowed it and the form was valid; when the
        rules refused, it must raise the same error. Returns what the service returned (None when refused)."""
        expected = refusal is None and valid
        self._changed()
        try:
            result = call()
        except DomainError as error:
            expect(
                not expected,
                f"{action}: the rules allow it ({typed or 'a valid form'}) but the service refused: "
                f"{type(error).__name__}({error.message!r})",
            )
            if refusal is not None:
                expect(
                    (type(error), str(error.message)) == (type(refusal), str(refusal.message)),
                    f"{action}: the rules refuse with {type(refusal).__name__}({refusal.message!r}), "
                    f"the service with {type(error).__name__}({error.message!r})",
                )
            STATS[f"refused {action}"] += 1
            return None
        expect(
            expected,
            f"{action}: the service did it, but "
            + (
                f"the rules refuse it: {refusal.message!r}" if refusal is not None else f"the form was invalid: {typed}"
            ),
        )
        STATS[f"done {action}"] += 1
        return result

    @staticmethod
    def _latest(rows, is_open):
        """The row a page would name: the open one, else the latest (a stale form's)."""
        rows = sorted(rows, key=lambda row: row.pk, reverse=True)
        return next((row for row in rows if is_open(row)), rows[0] if rows else None)

    def _dispute_of(self, milestone: Milestone) -> Dispute | None:
        return self._latest(milestone.disputes.all(), lambda d: d.status in Dispute.OPEN_STATUSES)

    def _offer_of(self, milestone: Milestone) -> Offer | None:
        return self._latest(milestone.offers.all(), lambda o: o.is_open)

    def _change_of(self, contract: Contract) -> ContractChange | None:
        return self._latest(contract.changes.all(), lambda c: c.status == ContractChange.Status.OPEN)

    @staticmethod
    def _percent_of(amount: Decimal, percent: int, currency: str) -> Decimal:
        amount = round_amount(amount * percent / 100, currency)
        return amount + 1 if percent > 100 else amount  # out of range even when the escrow holds nothing

    # --- the rules: each action when someone may take it, and anyone trying anything ----------------------------

    def _act(self, action: str, pick: int, typed: dict) -> None:
        self._tick(action)
        milestone, user = self._choose(action, pick)
        getattr(self, f"_do_{action}")(milestone, user, **typed)

    @rule(action=st.sampled_from(ACTIONS), who=st.sampled_from(ANYONE), pick=picks, data=st.data())
    def anyone_tries_anything(self, action, who, pick, data):
        """Any person (a stranger and staff too) on any milestone: mostly refusals, each checked against the
        rules."""
        self._tick(action)
        milestones = [(c, m) for c in self._pages() for m in c.milestones.all()]
        contract, milestone = milestones[pick % len(milestones)]
        getattr(self, f"_do_{action}")(milestone, self._person(contract, who), **data.draw(form(action), "form"))

    @possible("top_up")
    @rule(pick=picks, amount=st.integers(min_value=1, max_value=5_000_000))
    def employer_tops_up(self, pick, amount):
        """An employer whose wallet runs low pays into it (through the gateway: a ledger deposit)."""
        low = self.menu()["top_up"]
        self._tick("top_up")
        contract = low[pick % len(low)]
        self._changed()
        post_deposit(
            user=contract.employer, amount=Decimal(amount), currency=contract.currency, gateway="sandbox",
            key=f"machine:{uuid4().hex}",
        )  # fmt: skip

    @possible("fund")
    @rule(pick=picks, typed=form("fund"))
    def fund(self, pick, typed):
        self._act("fund", pick, typed)

    @possible("accept")
    @rule(pick=picks)
    def freelancer_accepts(self, pick):
        self._act("accept", pick, {})

    @possible("decline")
    @rule(pick=picks)
    def freelancer_declines(self, pick):
        self._act("decline", pick, {})

    @possible("cancel")
    @rule(pick=picks)
    def employer_cancels_unanswered(self, pick):
        self._act("cancel", pick, {})

    @possible("upload")
    @rule(pick=picks)
    def upload(self, pick):
        self._act("upload", pick, {})

    @possible("done")
    @rule(pick=picks)
    def mark_done(self, pick):
        self._act("done", pick, {})

    @possible("approve")
    @rule(pick=picks)
    def approve(self, pick):
        self._act("approve", pick, {})

    @possible("revise")
    @rule(pick=picks)
    def request_changes(self, pick):
        self._act("revise", pick, {})

    @possible("dispute")
    @rule(pick=picks, typed=form("dispute"))
    def open_dispute(self, pick, typed):
        self._act("dispute", pick, typed)

    @possible("cancel_late")
    @rule(pick=picks)
    def cancel_late(self, pick):
        self._act("cancel_late", pick, {})

    @possible("answer")
    @rule(pick=picks)
    def answer_dispute(self, pick):
        self._act("answer", pick, {})

    @possible("escalate")
    @rule(pick=picks)
    def escalate(self, pick):
        self._act("escalate", pick, {})

    @possible("withdraw_dispute")
    @rule(pick=picks)
    def withdraw_dispute(self, pick):
        self._act("withdraw_dispute", pick, {})

    @possible("resolve")
    @rule(pick=picks, typed=form("resolve"))
    def staff_resolve(self, pick, typed):
        self._act("resolve", pick, typed)

    @possible("offer")
    @rule(pick=picks, typed=form("offer"))
    def make_offer(self, pick, typed):
        self._act("offer", pick, typed)

    @possible("accept_offer")
    @rule(pick=picks)
    def accept_offer(self, pick):
        self._act("accept_offer", pick, {})

    @possible("decline_offer")
    @rule(pick=picks)
    def decline_offer(self, pick):
        self._act("decline_offer", pick, {})

    @possible("withdraw_offer")
    @rule(pick=picks)
    def withdraw_offer(self, pick):
        self._act("withdraw_offer", pick, {})

    @possible("release_part")
    @rule(pick=picks, typed=form("release_part"))
    def release_part(self, pick, typed):
        self._act("release_part", pick, typed)

    @possible("bonus")
    @rule(pick=picks, typed=form("bonus"))
    def bonus(self, pick, typed):
        self._act("bonus", pick, typed)

    @possible("propose_add")
    @rule(pick=picks, typed=form("propose_add"))
    def propose_milestone(self, pick, typed):
        self._act("propose_add", pick, typed)

    @possible("propose_edit")
    @rule(pick=picks, typed=form("propose_edit"))
    def propose_edit(self, pick, typed):
        self._act("propose_edit", pick, typed)

    @possible("accept_change")
    @rule(pick=picks)
    def accept_change(self, pick):
        self._act("accept_change", pick, {})

    @possible("decline_change")
    @rule(pick=picks)
    def decline_change(self, pick):
        self._act("decline_change", pick, {})

    @possible("withdraw_change")
    @rule(pick=picks)
    def withdraw_change(self, pick):
        self._act("withdraw_change", pick, {})

    # --- the actions: the service called, checked against the rules ------------------------------------------------

    def _simple(self, action: str, milestone: Milestone, user, call, **params) -> None:
        self._attempt(action, self._refusal(action, milestone, user, **params), call)

    def _do_fund(self, milestone, user, *, due_step=True):
        """The step due (or the other one); more than the wallet holds is refused (the page sends the
        shortfall to the gateway)."""
        due = rules.funding_due(milestone)
        step = due[0] if due and due_step else Payment.FundStep.values[self.steps % 2]
        wallet = wallet_of(milestone.contract.employer, milestone.contract.currency).balance
        self._attempt(
            "fund", self._refusal("fund", milestone, user, step=step),
            lambda: funding.milestone_fund(milestone=milestone, by=user, step=step),
            valid=due is not None and wallet >= due[1], typed=f"{step}, {due} due, the wallet holds {wallet}",
        )  # fmt: skip

    def _answer_contract(self, action, service, milestone, user):
        first = milestone.contract.milestones.all()[0]  # the service acts on the contract's first milestone
        self._simple(action, first, user, lambda: service(contract=first.contract, by=user))

    def _do_accept(self, milestone, user):
        self._answer_contract("accept", choosing.contract_accept, milestone, user)

    def _do_decline(self, milestone, user):
        self._answer_contract("decline", choosing.contract_decline, milestone, user)

    def _do_cancel(self, milestone, user):
        self._answer_contract("cancel", choosing.contract_cancel_unanswered, milestone, user)

    def _do_upload(self, milestone, user):
        self._simple(
            "upload",
            milestone,
            user,
            lambda: delivery.deliverable_upload(milestone=milestone, by=user, upload=zip_file()),
        )

    def _do_done(self, milestone, user):
        self._simple("done", milestone, user, lambda: delivery.milestone_mark_delivered(milestone=milestone, by=user))

    def _do_approve(self, milestone, user):
        self._simple("approve", milestone, user, lambda: delivery.milestone_approve(milestone=milestone, by=user))

    def _do_revise(self, milestone, user):
        self._simple(
            "revise", milestone, user,
            lambda: delivery.milestone_request_changes(milestone=milestone, by=user, note="The logo is too small."),
        )  # fmt: skip

    def _do_dispute(self, milestone, user, *, reason=0, listed=True):
        """A reason from the side's list, or any (another side's is refused)."""
        offered = rules.dispute_reasons(milestone, milestone.contract.party(user))
        reasons = offered if listed and offered else [r for r in Dispute.Reason.values if r != Dispute.Reason.LATE]
        reason = reasons[reason % len(reasons)]
        self._simple(
            "dispute", milestone, user,
            lambda: disputes.dispute_open(milestone=milestone, by=user, reason=reason, description="Not as agreed."),
            reason=reason,
        )  # fmt: skip

    def _do_cancel_late(self, milestone, user):
        self._simple(
            "cancel_late", milestone, user,
            lambda: disputes.dispute_open(
                milestone=milestone, by=user, reason=Dispute.Reason.LATE, description="Three weeks late."
            ),
        )  # fmt: skip

    def _on_dispute(self, action, milestone, user, service):
        dispute = self._dispute_of(milestone)
        if dispute is None:
            STATS[f"nothing to {action}"] += 1
            return
        self._simple(action, milestone, user, lambda: service(dispute=dispute, by=user), dispute=dispute)

    def _do_answer(self, milestone, user):
        def answer(dispute, by):
            return disputes.dispute_answer(dispute=dispute, by=by, message="Both screens are in the new version.")

        self._on_dispute("answer", milestone, user, answer)

    def _do_escalate(self, milestone, user):
        self._on_dispute("escalate", milestone, user, disputes.dispute_escalate)

    def _do_withdraw_dispute(self, milestone, user):
        self._on_dispute("withdraw_dispute", milestone, user, disputes.dispute_withdraw)

    def _do_resolve(self, milestone, user, *, outcome="split", percent=50):
        """Staff decide in the admin (the rules do not cover it): done exactly when the one deciding is staff,
        the dispute is still in progress, and a split's share is within what is in escrow."""
        dispute = self._dispute_of(milestone)
        if dispute is None:
            STATS["nothing to resolve"] += 1
            return
        share = self._percent_of(milestone.in_escrow, percent, milestone.contract.currency)
        valid = user.is_staff and dispute.status != Dispute.Status.RESOLVED
        who = "staff" if user.is_staff else "a party"
        if outcome == "split":
            valid = valid and share <= milestone.in_escrow
        self._attempt(
            "resolve", None,
            lambda: disputes.dispute_resolve(dispute=dispute, by=user, outcome=outcome, to_freelancer=share),
            valid=valid, typed=f"{outcome} {share} of {milestone.in_escrow} by {who} on a dispute {dispute.status}",
        )  # fmt: skip

    def _do_offer(self, milestone, user, *, percent=50):
        amount = self._percent_of(milestone.in_escrow, percent, milestone.contract.currency)
        self._attempt(
            "offer", self._refusal("offer", milestone, user),
            lambda: settling.offer_make(milestone=milestone, by=user, to_freelancer=amount, note="A fair share."),
            valid=amount <= milestone.in_escrow, typed=f"{amount} of {milestone.in_escrow}",
        )  # fmt: skip

    def _on_offer(self, action, milestone, user, service):
        offer = self._offer_of(milestone)
        if offer is None:
            STATS[f"nothing to {action}"] += 1
            return
        self._simple(action, milestone, user, lambda: service(offer=offer, by=user), offer=offer)

    def _do_accept_offer(self, milestone, user):
        self._on_offer("accept_offer", milestone, user, settling.offer_accept)

    def _do_decline_offer(self, milestone, user):
        self._on_offer("decline_offer", milestone, user, settling.offer_decline)

    def _do_withdraw_offer(self, milestone, user):
        self._on_offer("withdraw_offer", milestone, user, settling.offer_withdraw)

    def _do_release_part(self, milestone, user, *, percent=50):
        amount = self._percent_of(milestone.in_escrow, percent, milestone.contract.currency)
        self._attempt(
            "release_part", self._refusal("release_part", milestone, user),
            lambda: settling.milestone_release_part(milestone=milestone, by=user, amount=amount),
            valid=0 < amount < milestone.in_escrow, typed=f"{amount} of {milestone.in_escrow}",
        )  # fmt: skip

    def _do_bonus(self, milestone, user, *, amount=10_000, repeat=False):
        """A bonus; sometimes the same form sent again (its token repeated), which pays once."""
        contract = milestone.contract
        token = self.tried_tokens[self.steps % len(self.tried_tokens)] if repeat and self.tried_tokens else uuid4().hex
        self.tried_tokens.append(token)
        paid = self.tokens.setdefault(contract.pk, set())
        wallet = wallet_of(contract.employer, contract.currency).balance
        repeated = token in paid
        done = self._attempt(
            "bonus", self._refusal("bonus", milestone, user),
            lambda: settling.contract_bonus(contract=contract, by=user, amount=amount, note="Thanks!", token=token),
            valid=amount > 0 and (repeated or wallet >= amount),
            typed=f"{amount} from a wallet of {wallet}{', sent again' if repeated else ''}",
        )  # fmt: skip
        if done is not None and not repeated:
            paid.add(token)
            self.bonus_paid[contract.pk] += Decimal(amount)

    def _do_propose_add(self, milestone, user, *, amount=200_000, days=10):
        due = timezone.localdate() + timedelta(days=days)
        self._attempt(
            "propose_add", self._refusal("propose_add", milestone, user),
            lambda: changes.change_propose(
                contract=milestone.contract, by=user, kind="add", title="Admin panel", amount=amount, due_date=due
            ),
            valid=amount > 0 and days >= 0, typed=f"{amount} due in {days} days",
        )  # fmt: skip

    def _do_propose_edit(self, milestone, user, *, what="due_date", percent=100, days=7):
        """A milestone's amount up or down (below what was paid out of it is refused), its due date moved (into
        the past is refused), or its title."""
        today = timezone.localdate()
        if what == "amount":
            amount = round_amount(milestone.amount * percent / 100, milestone.contract.currency)
            change = {"amount": amount}
            valid = 0 < amount != milestone.amount and amount >= milestone.released + milestone.refunded
        elif what == "due_date":
            due = (milestone.due_date or today) + timedelta(days=days)
            change = {"due_date": due}
            valid = due >= today and due != milestone.due_date
        else:
            self.serial += 1
            change = {"title": f"Phase, revised ({self.serial})"}
            valid = True
        self._attempt(
            "propose_edit", self._refusal("propose_edit", milestone, user),
            lambda: changes.change_propose(contract=milestone.contract, by=user, kind="edit", milestone=milestone,
                                           **change),
            valid=valid, typed=f"{change} on {milestone.amount} due {milestone.due_date}, paid out "
                               f"{milestone.released + milestone.refunded}",
        )  # fmt: skip

    def _on_change(self, action, milestone, user, service):
        change = self._change_of(milestone.contract)
        if change is None:
            STATS[f"nothing to {action}"] += 1
            return
        self._simple(action, milestone, user, lambda: service(change=change, by=user), change=change)

    def _do_accept_change(self, milestone, user):
        self._on_change("accept_change", milestone, user, changes.change_accept)

    def _do_decline_change(self, milestone, user):
        self._on_change("decline_change", milestone, user, changes.change_decline)

    def _do_withdraw_change(self, milestone, user):
        self._on_change("withdraw_change", milestone, user, changes.change_withdraw)

    # --- the clock --------------------------------------------------------------------------------------------

    @precondition(lambda self: self.since_the_clock_moved >= 2)
    @rule(hours=st.sampled_from(HOURS))
    def time_passes(self, hours):
        """The clock moves and the sweep runs: afterwards nothing it should have done is left, and a second
        sweep at the same time does nothing. At most once in three steps, so that the people get to act."""
        self._tick("time_passes")
        self.since_the_clock_moved = 0
        self.clock.advance(timedelta(hours=hours))
        now = self.now
        self._changed()
        done = clocks.enforce_deadlines(now=now)
        for key, count in done.items():
            STATS[f"sweep {key}"] += count
        mine = Milestone.objects.filter(contract__in=self.contract_ids)
        overdue = mine.filter(status=Milestone.Status.DELIVERED).filter(
            Q(auto_release_at__lte=now) | Q(remainder_due_at__lte=now, remainder_lapsed=False)
        )
        expect(not overdue.exists(), f"after the sweep, delivered milestones still overdue: {list(overdue.values())}")
        passed = Dispute.objects.filter(
            milestone__in=mine, status__in=[Dispute.Status.OPEN, Dispute.Status.ANSWERED], deadline__lte=now
        )
        expect(not passed.exists(), f"after the sweep, disputes past their deadline: {list(passed.values())}")
        again = clocks.enforce_deadlines(now=now)
        expect(not any(again.values()), f"a second sweep at the same time did something: {again}")

    # --- the invariants ---------------------------------------------------------------------------------------

    @invariant()
    def books_and_clocks_hold(self):
        if not self.contract_ids:
            return
        report = ledger_check()
        expect(report.clean, f"ledger check: {report.breaches}")
        pages = self._pages(fresh=True)
        self._money_is_conserved(pages)
        for contract in pages:
            self._contract_holds(contract)

    def _money_is_conserved(self, pages: list[Contract]):
        """Every balance adds up to the deposits; each employer's wallet (each is in one contract) is what they
        deposited less what they funded and bonused plus what came back; the freelancers and the platform hold
        what was released plus the bonuses."""
        balances = dict(Account.objects.values_list("kind").annotate(total=Sum("balance")))
        wallets = dict(Account.objects.filter(kind=Account.Kind.WALLET).values_list("owner", "balance"))
        deposits = dict(
            Entry.objects.filter(transaction__kind=Transaction.Kind.DEPOSIT, account__kind=Account.Kind.WALLET)
            .values_list("account__owner")
            .annotate(total=Sum("amount"))
        )
        held = sum(balances.get(kind, Decimal(0)) for kind in Account.NON_NEGATIVE)
        expect(
            held == sum(deposits.values(), Decimal(0)),
            f"wallets, escrow, payouts and revenue hold {held}, the deposits were {sum(deposits.values())}",
        )
        released = bonuses = earned = Decimal(0)
        for contract in pages:
            milestones = list(contract.milestones.all())
            funded = sum((m.funded for m in milestones), Decimal(0))
            refunded = sum((m.refunded for m in milestones), Decimal(0))
            wallet = wallets.get(contract.employer_id, Decimal(0))
            expected = deposits.get(contract.employer_id, Decimal(0)) - funded + refunded - self.bonus_paid[contract.pk]
            expect(
                wallet == expected,
                f"contract {contract.pk}: the employer's wallet holds {wallet}, its figures say {expected}",
            )
            released += sum((m.released for m in milestones), Decimal(0))
            bonuses += self.bonus_paid[contract.pk]
            earned += wallets.get(contract.freelancer_id, Decimal(0))
        revenue = balances.get(Account.Kind.REVENUE, Decimal(0))
        expect(
            earned + revenue == released + bonuses,
            f"freelancers hold {earned} and the platform {revenue}, but {released} was released and {bonuses} "
            "paid in bonuses",
        )

    def _contract_holds(self, contract: Contract):
        where = f"contract {contract.pk} ({contract.status})"
        milestones = list(contract.milestones.all())
        budget = contract_budget(contract=contract)
        counted = [m for m in milestones if m.status != Milestone.Status.CANCELLED]
        # A milestone closed before it was paid in full counts for what was funded (nothing of it is still due).
        counts_for = [m.funded if m.status in Milestone.CLOSED else m.amount for m in counted]
        expect(
            budget.total
            == sum(counts_for, Decimal(0))
            == budget.in_escrow + budget.paid + budget.remaining + budget.refunded,
            f"{where}: the budget does not add up: {budget}",
        )
        expect(
            min(budget.in_escrow, budget.paid, budget.remaining, budget.refunded) >= 0,
            f"{where}: a negative budget figure: {budget}",
        )
        expect(
            milestones_budget(milestones) == budget,
            f"{where}: the workspace's budget (from its milestones) {milestones_budget(milestones)} is not {budget}",
        )
        open_milestones = [m for m in milestones if m.is_open]
        open_changes = [c for c in contract.changes.all() if c.status == ContractChange.Status.OPEN]
        if contract.status == Contract.Status.ACTIVE:
            expect(open_milestones, f"{where}: running, with every milestone closed")
        if contract.status in (Contract.Status.COMPLETED, Contract.Status.CANCELLED):
            expect(not open_milestones, f"{where}: closed, with milestones still open: {open_milestones}")
            expect(not open_changes, f"{where}: closed, with a change still waiting for an answer: {open_changes}")
        expect(len(open_changes) <= 1, f"{where}: {len(open_changes)} changes waiting")
        for change in open_changes:
            if change.milestone_id:
                target = next(m for m in milestones if m.pk == change.milestone_id)
                expect(target.is_open, f"{where}: a change waits on closed milestone {target.pk}")
        for milestone in milestones:
            self._milestone_holds(contract, milestone)

    def _milestone_holds(self, contract: Contract, milestone: Milestone):
        where = f"milestone {milestone.pk} ({milestone.status}) of contract {contract.pk} ({contract.status})"
        status = Milestone.Status
        in_escrow = milestone.in_escrow
        expect(
            0 <= milestone.released + milestone.refunded <= milestone.funded <= milestone.amount,
            f"{where}: funded {milestone.funded}, released {milestone.released}, refunded {milestone.refunded}, "
            f"amount {milestone.amount}",
        )
        open_disputes = [d for d in milestone.disputes.all() if d.status in Dispute.OPEN_STATUSES]
        open_offers = [o for o in milestone.offers.all() if o.status == Offer.Status.OPEN]
        expect(len(open_disputes) <= 1, f"{where}: {len(open_disputes)} open disputes")
        expect(len(open_offers) <= 1, f"{where}: {len(open_offers)} open offers")
        expect(
            (milestone.status == status.DISPUTED) == bool(open_disputes),
            f"{where}: in dispute exactly when a dispute is open; open: {open_disputes}",
        )
        for dispute in open_disputes:
            expect(
                (dispute.deadline is None) == (dispute.status == Dispute.Status.ESCALATED),
                f"{where}: dispute {dispute.pk} is {dispute.status} with deadline {dispute.deadline}",
            )
        if not milestone.is_open:
            expect(in_escrow == 0, f"{where}: closed with {in_escrow} in escrow")
            expect(not open_offers, f"{where}: closed with an offer waiting: {open_offers}")
            return
        if in_escrow <= 0:
            return
        # Money in an open milestone always has a clock that will move it, or a case with staff.
        if contract.status == Contract.Status.AWAITING_ACCEPTANCE:
            clock = "the acceptance clock (the employer may cancel)"
        elif milestone.status == status.FUNDED:
            clock = milestone.due_date and f"due {milestone.due_date} (then late cancellation)"
        elif milestone.status == status.DELIVERED:
            clock = milestone.auto_release_at if milestone.fully_funded else milestone.remainder_due_at
        elif milestone.status == status.DISPUTED:
            staff = [d for d in open_disputes if d.status == Dispute.Status.ESCALATED]
            clock = next((d.deadline for d in open_disputes if d.deadline), None) or (staff and "with staff")
        else:
            clock = None
        expect(
            bool(clock),
            f"{where}: {in_escrow} in escrow with no clock (funded {milestone.funded} of {milestone.amount}, "
            f"auto release {milestone.auto_release_at}, remainder due {milestone.remainder_due_at}, "
            f"due date {milestone.due_date}, disputes {[(d.status, d.deadline) for d in open_disputes]})",
        )
