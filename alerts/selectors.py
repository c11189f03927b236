"""Read queries of the job alerts page."""

from urllib.parse import urlencode

from django.db.models import Prefetch, QuerySet

from accounts.models import User
from alerts.models import AlertSettings, SavedSearch
from alerts.services import PROFILE_ALERT_FREQUENCY
from projects.models import Skill


def saved_searches_of(*, user: User) -> QuerySet:
    """The user's saved searches with what their descriptions show (two queries)."""
    return (
        SavedSearch.objects.filter(user=user)
        .select_related("category")
        .prefetch_related(Prefetch("skills", queryset=Skill.objects.order_by("name_en")))
    )


def alert_settings_of(*, user: User) -> AlertSettings:
    """The user's alert on their profile's skills, as stored or as it is by default."""
    return AlertSettings.objects.filter(user=user).first() or AlertSettings(
        user=user, profile_frequency=PROFILE_ALERT_FREQUENCY
    )


def saved_search_listing_url(search: SavedSearch) -> str:
    """Active projects asked the saved question (the skills are prefetched)."""
    query = [("q", search.query)] if search.query else []
    if search.category_id:
        query.append(("category", search.category_id))
    query += [("skills", skill.slug) for skill in search.skills.all()]
    for name in ("budget_min", "budget_max"):
        value = getattr(search, name)
        if value is not None:
            query.append((name, f"{value.normalize():f}"))
    if search.kind:
        query.append(("kind", search.kind))
    return "/projects/?" + urlencode(query)
