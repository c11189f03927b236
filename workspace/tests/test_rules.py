"""The Operations menu and the services read one rule (workspace.services.rules): in every state of a contract and
for every person, an action is on the menu exactly when its service would do it."""

import pytest
from django.db import transaction

from accounts.tests.factories import UserFactory
from escrow.models import Payment
from marketplace.errors import DomainError
from workspace.models import Milestone
from workspace.selectors import workspace_contract
from workspace.services import choosing, delivery, disputes, funding, rules
from workspace.tests.factories import STATES, contract_in, zip_file


class _RolledBack(Exception):
    pass


def _attempt(action: str, user, deal) -> bool:
    """Run the action's service as `user` on fresh rows; True when it succeeded. Whatever it did is rolled back."""
    milestone = Milestone.objects.select_related("contract").get(pk=deal.milestone.pk)
    contract = milestone.contract
    dispute = deal.dispute  # the factory's, not the code under test
    calls = {
        "accept": lambda: choosing.contract_accept(contract=contract, by=user),
        "decline": lambda: choosing.contract_decline(contract=contract, by=user),
        "cancel": lambda: choosing.contract_cancel_unanswered(contract=contract, by=user),
        "upload": lambda: delivery.deliverable_upload(milestone=milestone, by=user, upload=zip_file()),
        "done": lambda: delivery.milestone_mark_delivered(milestone=milestone, by=user),
        "approve": lambda: delivery.milestone_approve(milestone=milestone, by=user),
        "dispute": lambda: disputes.dispute_open(
            milestone=milestone, by=user, reason="incomplete", description="Not finished."
        ),
        "answer": lambda: disputes.dispute_answer(dispute=dispute, by=user, message="Fixed in the new version."),
        "escalate": lambda: disputes.dispute_escalate(dispute=dispute, by=user),
        "revise": lambda: delivery.milestone_request_changes(milestone=milestone, by=user, note="Bigger logo."),
    }
    if action == "fund":
        due = rules.funding_due(milestone)
        steps = [due[0]] if due else Payment.FundStep.values  # nothing due: every step must be refused
        return any(
            _succeeds(lambda s=step: funding.milestone_fund(milestone=milestone, by=user, step=s)) for step in steps
        )
    if action in ("answer", "escalate") and dispute is None:
        return False  # no dispute to act on: nothing to call
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
        offered_somewhere |= set(menu)
        for action in rules.MENU:
            assert _attempt(action, user, deal) == (action in menu), (
                f"{state}: {role} {'sees' if action in menu else 'does not see'} {action!r}, "
                f"but the service {'refuses' if action in menu else 'allows'} it"
            )
    if state not in ("cancelled", "declined", "completed"):
        assert offered_somewhere, f"{state}: nobody may do anything, a state with no way out"


def test_states_offer_what_the_story_expects(db, media_dirs):
    """The menu in words: who does what next, in the main states."""
    expected = {
        "unpaid": ({"fund"}, {"decline"}),
        "awaiting": (set(), {"accept", "decline"}),
        "awaiting_overdue": ({"cancel"}, {"accept", "decline"}),
        "in_progress": ({"fund"}, {"upload"}),  # the rest may be paid any time after the freelancer accepted
        "uploaded": ({"fund"}, {"upload", "done"}),
        "delivered": ({"fund", "revise", "dispute"}, set()),
        "review": ({"approve", "revise", "dispute"}, set()),
        "disputed": ({"approve", "escalate"}, {"upload", "answer", "escalate"}),
        "escalated": ({"approve"}, {"upload"}),
        "completed": (set(), set()),
    }
    for state, (employer_menu, freelancer_menu) in expected.items():
        deal = contract_in(state)
        milestone = workspace_contract(pk=deal.contract.pk).milestones.all()[0]
        assert set(rules.available_operations(milestone=milestone, user=deal.employer)) == employer_menu, state
        assert set(rules.available_operations(milestone=milestone, user=deal.freelancer)) == freelancer_menu, state
