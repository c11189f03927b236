from decimal import Decimal

from accounts.tests.factories import UserFactory
from proposals.services import proposal_submit


def make_proposal(*, project, freelancer=None, amount="1500000", delivery_days=10, cover_letter=None):
    return proposal_submit(
        project=project,
        freelancer=freelancer or UserFactory(),
        amount=Decimal(amount),
        delivery_days=delivery_days,
        cover_letter=cover_letter or "I have built three shops like this one; here is how I would do it.",
    )
