from django.db.models import Avg, Count, QuerySet

from reviews.models import Review


def reputation(*, user) -> dict:
    """The average of the published reviews a user received, and how many."""
    return reputations(user_ids=[user.pk]).get(user.pk, {"average": None, "count": 0})


def reputations(*, user_ids) -> dict[int, dict]:
    """{user id: {"average", "count"}} for many users in one query (lists of proposals or projects)."""
    rows = (
        Review.objects.filter(subject_id__in=set(user_ids), published_at__isnull=False)
        .values("subject_id")
        .annotate(average=Avg("rating"), count=Count("id"))
    )
    return {row["subject_id"]: {"average": row["average"], "count": row["count"]} for row in rows}


def feedback_for(*, user, role: str = Review.Role.OF_FREELANCER) -> QuerySet:
    """Published reviews of the user as a freelancer (the seed's "Professional client feedback"), or, with
    role=OF_EMPLOYER, as an employer."""
    return (
        Review.objects.filter(subject=user, role=role, published_at__isnull=False)
        .select_related("author__profile")
        .order_by("-published_at")
    )
