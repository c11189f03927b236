from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from marketplace.errors import DomainError, InvalidTransition, NotAllowed
from reviews.models import Review
from reviews.services import review_reply, review_submit, reviews_publish_due
from workspace.tests.factories import contract_in


@pytest.fixture
def done(db):
    """A completed single-delivery contract (released by the employer)."""
    return contract_in("completed", title="Rug shop")


def test_reviews_are_double_blind_then_published_together(done):
    contract, employer, freelancer = done.contract, done.employer, done.freelancer
    first = review_submit(contract=contract, by=employer, rating=5, comment="Great work", quality=5, on_time=4)
    assert first.published_at is None  # the freelancer cannot see it yet
    second = review_submit(contract=contract, by=freelancer, rating=4, comment="Clear brief", payment=5)
    first.refresh_from_db()
    assert first.published_at is not None and first.published_at == second.published_at
    assert (first.subject, second.subject) == (freelancer, employer)


def test_a_lone_review_is_published_when_the_window_closes(done):
    review = review_submit(contract=done.contract, by=done.employer, rating=4)
    assert reviews_publish_due(now=timezone.now() + timedelta(days=13)) == 0
    assert reviews_publish_due(now=timezone.now() + timedelta(days=15)) == 1
    review.refresh_from_db()
    assert review.published_at is not None


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"rating": 0}, DomainError),
        ({"rating": 6}, DomainError),
        ({"rating": 4, "quality": 9}, DomainError),
        ({"rating": 4, "payment": 5}, DomainError),  # an employer-only aspect, written by the employer
    ],
)
def test_bad_ratings_are_refused_and_nothing_is_stored(done, kwargs, error):
    with pytest.raises(error):
        review_submit(contract=done.contract, by=done.employer, **kwargs)
    assert not Review.objects.exists()


def test_one_review_per_party_only_parties_and_only_within_the_window(done):
    contract = done.contract
    review_submit(contract=contract, by=done.employer, rating=5)
    with pytest.raises(InvalidTransition, match="already reviewed"):
        review_submit(contract=contract, by=done.employer, rating=1)
    with pytest.raises(NotAllowed):
        review_submit(contract=contract, by=UserFactory(), rating=5)
    with pytest.raises(InvalidTransition, match="14 days"):
        review_submit(contract=contract, by=done.freelancer, rating=5, now=timezone.now() + timedelta(days=15))
    assert Review.objects.count() == 1


def test_no_review_before_the_contract_ends(db):
    deal = contract_in("delivered", title="Rug shop")
    with pytest.raises(InvalidTransition):
        review_submit(contract=deal.contract, by=deal.employer, rating=5)


def test_only_the_reviewee_replies_once_after_publication(done):
    contract, employer, freelancer = done.contract, done.employer, done.freelancer
    review = review_submit(contract=contract, by=employer, rating=3, comment="Late but good")
    with pytest.raises(InvalidTransition):
        review_reply(review=review, by=freelancer, text="Thanks")  # not published yet
    review_submit(contract=contract, by=freelancer, rating=5)
    with pytest.raises(NotAllowed):
        review_reply(review=review, by=employer, text="Me again")
    review_reply(review=review, by=freelancer, text="The delay was the payment gateway's.")
    with pytest.raises(InvalidTransition):
        review_reply(review=review, by=freelancer, text="And another thing")
    review.refresh_from_db()
    assert review.reply == "The delay was the payment gateway's."
