"""Two-way reviews after a contract, double-blind: published together when both are written or the window closes."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import profile_refresh_stats
from marketplace.errors import DomainError, InvalidTransition, NotAllowed
from notifications.models import Notification
from notifications.services import notify
from reviews.models import Review
from reviews.selectors import reputations
from workspace.models import Contract

REVIEW_WINDOW = timedelta(days=14)
FREELANCER_ASPECTS = ("quality", "communication", "on_time")
EMPLOYER_ASPECTS = ("clarity", "payment")


def review_window_open(contract: Contract, now=None) -> bool:
    """Reviews are for contracts that ended after work started: completed, or closed by a dispute."""
    ended = contract.status in (Contract.Status.COMPLETED, Contract.Status.CANCELLED)
    if not ended or contract.closed_at is None or contract.accepted_at is None:
        return False
    return (now or timezone.now()) <= contract.closed_at + REVIEW_WINDOW


def _check_rating(value) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5):
        raise DomainError(_("Ratings are from 1 to 5."))


def review_submit(*, contract: Contract, by: User, rating: int, comment: str = "", now=None, **aspects) -> Review:
    """Write the one review this party may write on this contract. Both are published once both exist."""
    party = contract.party(by)
    if party is None:
        raise NotAllowed(_("Only the two parties can review each other."))
    if not review_window_open(contract, now):
        raise InvalidTransition(_("Reviews can be written within 14 days after the contract ends."))
    allowed = FREELANCER_ASPECTS if party == "employer" else EMPLOYER_ASPECTS
    unknown = set(aspects) - set(allowed)
    if unknown:
        raise DomainError(_("Unknown rating."))
    _check_rating(rating)
    if rating is None:
        raise DomainError(_("Ratings are from 1 to 5."))
    for value in aspects.values():
        _check_rating(value)
    try:
        with transaction.atomic():
            Contract.objects.select_for_update().get(pk=contract.pk)  # the two reviews of a contract, one at a time
            review = Review.objects.create(
                contract=contract,
                author=by,
                subject=contract.freelancer if party == "employer" else contract.employer,
                role=Review.Role.OF_FREELANCER if party == "employer" else Review.Role.OF_EMPLOYER,
                rating=rating,
                comment=comment.strip()[:2000],
                **aspects,
            )
            if Review.objects.filter(contract=contract).count() == 2:
                _publish(Review.objects.filter(contract=contract, published_at__isnull=True), timezone.now())
                review.refresh_from_db()
            return review
    except IntegrityError as error:
        raise InvalidTransition(_("You have already reviewed this contract.")) from error


_ANCHORS = {Review.Role.OF_FREELANCER: "#feedback", Review.Role.OF_EMPLOYER: "#employer-feedback"}


def _publish(reviews, now) -> int:
    """Publish these reviews, tell each person reviewed and store their new rating on their profile (the
    freelancer directory sorts by it). The caller is in a transaction."""
    published, subjects = 0, set()
    reviews = reviews.select_for_update(of=("self",)).select_related("author__profile", "subject", "contract__project")
    for review in reviews:
        review.published_at = now
        review.save(update_fields=["published_at"])
        notify(
            [review.subject], Notification.Kind.REVIEW_PUBLISHED, actor=review.author,
            url=reverse("profile_public", args=[review.subject.username]) + _ANCHORS[review.role],
            project=review.contract.project.title, rating=review.rating,
        )  # fmt: skip
        published += 1
        subjects.add(review.subject_id)
    if subjects:
        profile_refresh_stats(user_ids=subjects, reputations=reputations)
    return published


@transaction.atomic
def reviews_publish_due(*, now=None) -> int:
    """Publish the lone reviews whose window has closed (a daily beat task). Returns how many."""
    now = now or timezone.now()
    return _publish(Review.objects.filter(published_at__isnull=True, contract__closed_at__lt=now - REVIEW_WINDOW), now)


@transaction.atomic
def review_reply(*, review: Review, by: User, text: str) -> Review:
    """The reviewee's one public reply, once the review is published."""
    review = Review.objects.select_for_update().get(pk=review.pk)
    if review.subject_id != by.pk:
        raise NotAllowed(_("Only the person reviewed can reply."))
    if review.published_at is None:
        raise InvalidTransition(_("You can reply once the review is published."))
    if review.replied_at is not None:
        raise InvalidTransition(_("You have already replied to this review."))
    if not text.strip():
        raise DomainError(_("Write your reply."))
    review.reply, review.replied_at = text.strip()[:2000], timezone.now()
    review.save(update_fields=["reply", "replied_at"])
    return review
