"""The Operations menu and the services read one rule (workspace.services.rules): in every state of a contract and
for every person, an action is on the menu exactly when its service would do it."""

from datetime import timedelta
from uuid import uuid4

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.tests.factories import UserFactory
from escrow.models import Payment
from marketplace.errors import DomainError
from workspace.models import ContractChange, Milestone, Offer
from workspace.selectors import workspace_contract
from workspace.services import changes, choosing, delivery, disputes, funding, rules, settling
from workspace.tests.factories import STATES, contract_in, zip_file


class _RolledBack(Exception):
    pass


def _attempt(action: str, user, deal) -> bool:
    """Run the action's service as `user` on fresh rows; True when it succeeded. Whatever it did is rolled back."""
    milestone = Milestone.objects.select_related("contract").get(pk=deal.milestone.pk)
    contract = milestone.contract
    dispute = deal.dispute  # the factory's, not the code under test
    offer = Offer.objects.filter(milestone=milestone, status="open").first()
    change = ContractChange.objects.filter(contract=contract, status="open").first()
    later = timezone.localdate() + timedelta(days=50)
    calls = {
        "accept": lambda: choosing.contract_accept(contract=contract, by=user),
        "decline": lambda: choosing.contract_decline(contract=contract, by=user),
        "cancel": lambda: choosing.contract_cancel_unanswered(contract=contract, by=user),
        "upload": lambda: delivery.deliverable_upload(milestone=milestone, by=user, upload=zip_file()),
        "done": lambda: delivery.milestone_mark_delivered(milestone=milestone, by=user),
        "approve": lambda: delivery.milestone_approve(milestone=milestone, by=user),
        "dispute": lambda: disputes.dispute_open(milestone=milestone, by=user, reason="other", description="No."),
        "cancel_late": lambda: disputes.dispute_open(
            milestone=milestone, by=user, reason="late", description="Three weeks late."
        ),
        "answer": lambda: disputes.dispute_answer(dispute=dispute, by=user, message="Fixed in the new version."),
        "escalate": lambda: disputes.dispute_escalate(dispute=dispute, by=user),
        "withdraw_dispute": lambda: disputes.dispute_withdraw(dispute=dispute, by=user),
        "revise": lambda: delivery.milestone_request_changes(milestone=milestone, by=user, note="Bigger logo."),
        "release_part": lambda: settling.milestone_release_part(milestone=milestone, by=user, amount="1000"),
        "offer": lambda: settling.offer_make(milestone=milestone, by=user, to_freelancer="0"),
        "accept_offer": lambda: settling.offer_accept(offer=offer, by=user),
        "decline_offer": lambda: settling.offer_decline(offer=offer, by=user),
        "withdraw_offer": lambda: settling.offer_withdraw(offer=offer, by=user),
        "propose_edit": lambda: changes.change_propose(
            contract=contract, by=user, kind="edit", milestone=milestone, due_date=later
        ),
        "propose_add": lambda: changes.change_propose(
            contract=contract, by=user, kind="add", title="Logo", amount="200000", due_date=later
        ),
        "accept_change": lambda: changes.change_accept(change=change, by=user),
        "decline_change": lambda: changes.change_decline(change=change, by=user),
        "withdraw_change": lambda: changes.change_withdraw(change=change, by=user),
        "bonus": lambda: settling.contract_bonus(contract=contract, by=user, amount="10000", token=uuid4().hex),
    }
    if action == "fund":
        due = rules.funding_due(milestone)
        steps = [due[0]] if due else Payment.FundStep.values  # nothing due: every step must be refused
        return any(
            _succeeds(lambda s=step: funding.milestone_fund(milestone=milestone, by=user, step=s)) for step in steps
        )
    if action in ("answer", "escalate", "withdraw_dispute") and dispute is None:
        return False  # no dispute to act on: nothing to call
    if action in ("accept_offer", "decline_offer", "withdraw_offer") and offer is None:
        return False
    if action in ("accept_change", "decline_change", "withdraw_change") and change is None:
        return False
    return _succeeds(calls[action])


def _succeeds(call) -> bool:
    try:
        with transaction.atomic():
            call()
            raise _RolledBack
    except _RolledBack:
        return True
    except DomainError:
        return False


@pytest.mark.django_db
@pytest.mark.parametrize("state", STATES)
def test_the_menu_offers_exactly_what_the_services_allow(state, media_dirs):
    deal = contract_in(state)
    staff = UserFactory(is_staff=True)
    stranger = UserFactory()
    people = {"employer": deal.employer, "freelancer": deal.freelancer, "staff": staff, "stranger": stranger}
    offered_somewhere = set()
    for role, user in people.items():
        page_contract = workspace_contract(pk=deal.contract.pk)  # as the page reads it
        menu = rules.available_operations(milestone=page_contract.milestones.all()[0], user=user)
        menu += rules.contract_operations(contract=page_contract, user=user)
        offered_somewhere |= set(menu)
        for action in rules.MENU + rules.CONTRACT_MENU:
            assert _attempt(action, user, deal) == (action in menu), (
                f"{state}: {role} {'sees' if action in menu else 'does not see'} {action!r}, "
                f"but the service {'refuses' if action in menu else 'allows'} it"
            )
    if state not in ("cancelled", "declined", "completed"):
        assert offered_somewhere, f"{state}: nobody may do anything, a state with no way out"


def test_states_offer_what_the_story_expects(db, media_dirs):
    """The menu in words: who does what next, in the main states."""
    running = {"offer", "propose_add"}  # either side, while the contract runs
    employer_running = running | {"bonus"}
    expected = {
        "unpaid": ({"fund"}, {"decline"}),
        "awaiting": (set(), {"accept", "decline"}),
        "awaiting_overdue": ({"cancel"}, {"accept", "decline"}),
        # the rest may be paid any time after the freelancer accepted; part of the escrow released early
        "in_progress": (
            employer_running | {"fund", "propose_edit", "release_part"},
            running | {"upload", "propose_edit"},
        ),
        "uploaded": (
            employer_running | {"fund", "propose_edit", "release_part"},
            running | {"upload", "propose_edit", "done"},
        ),
        "delivered": (employer_running | {"fund", "revise", "dispute", "release_part"}, running),
        "review": (employer_running | {"approve", "revise", "dispute", "release_part"}, running),
        "disputed": (
            employer_running | {"approve", "escalate", "withdraw_dispute"},
            running | {"upload", "answer", "escalate"},
        ),
        "answered": (
            employer_running | {"approve", "escalate", "withdraw_dispute"},
            running | {"upload", "answer", "escalate"},
        ),
        "escalated": (employer_running | {"approve", "withdraw_dispute"}, running | {"upload"}),
        "completed": ({"bonus"}, set()),
        # the remainder clock ran out: now the freelancer may dispute too
        "remainder_lapsed": (employer_running | {"fund", "revise", "dispute", "release_part"}, running | {"dispute"}),
        "freelancer_disputed": (
            employer_running | {"fund", "answer", "escalate"},
            running | {"upload", "escalate", "withdraw_dispute"},
        ),
        "negotiating": (
            employer_running | {"approve", "accept_offer", "decline_offer", "escalate", "withdraw_dispute"},
            {"propose_add", "upload", "answer", "escalate", "withdraw_offer"},  # their own offer waits
        ),
        "late": (
            employer_running | {"fund", "propose_edit", "release_part", "cancel_late"},
            running | {"upload", "propose_edit"},
        ),
        "cancel_offered": (
            {"bonus", "propose_add", "fund", "propose_edit", "release_part", "withdraw_offer"},
            running | {"upload", "propose_edit", "accept_offer", "decline_offer"},
        ),
        "change_proposed": (  # one change waits at a time
            {"bonus", "fund", "offer", "release_part", "accept_change", "decline_change"},
            {"upload", "offer", "withdraw_change"},
        ),
    }
    for state, (employer_menu, freelancer_menu) in expected.items():
        deal = contract_in(state)
        milestone = workspace_contract(pk=deal.contract.pk).milestones.all()[0]
        contract = milestone.contract
        for user, menu in ((deal.employer, employer_menu), (deal.freelancer, freelancer_menu)):
            offered = rules.available_operations(milestone=milestone, user=user)
            offered += rules.contract_operations(contract=contract, user=user)
            assert set(offered) == menu, (state, contract.party(user))
