from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, Exists, FloatField, OuterRef, Prefetch, QuerySet
from django.db.models.expressions import RawSQL

from accounts.models import PortfolioImage, PortfolioItem, Profile, User
from projects.models import Category, Skill
from projects.search import sql_literal, terms, tsquery

# The directory's orders; each but relevance has its partial index (accounts.models.Profile.Meta.indexes).
DIRECTORY_SORTS = {
    "relevance": ["-rank", "-rating_average", "-rating_count", "-id"],
    "rating": ["-rating_average", "-rating_count", "-id"],
    "completed": ["-completed_projects", "-rating_average", "-id"],
}


@dataclass
class FreelancerFilters:
    query: str = ""
    category: Category | None = None
    skills: list[Skill] = field(default_factory=list)
    min_rating: Decimal | None = None
    min_completed: int | None = None
    sort: str = ""  # empty: by relevance when words are given, else by rating

    @property
    def order(self) -> str:
        if self.sort == "relevance" or not self.sort:
            return "relevance" if terms(self.query) else "rating"
        return self.sort if self.sort in DIRECTORY_SORTS else "rating"


def _with_skill(profiles: QuerySet, **skill) -> QuerySet:
    """Profiles listing a skill that matches (`skill=...` or `skill_id__in=...`): a semi-join, no duplicates."""
    links = Profile.skills.through.objects.filter(profile_id=OuterRef("pk"), **skill)
    return profiles.filter(Exists(links))


def _tsquery_sql(query: str) -> str:
    """The query's words as a to_tsquery() of a literal, not of a parameter, as project search does: statements
    are prepared (marketplace.settings, DATABASE_PREPARED_STATEMENTS), and after five runs on a connection
    PostgreSQL may keep a generic plan, made without knowing how many profiles the words match: for a common word
    it read every match (bench/directory_bench.py: 30 ms, then 210 ms)."""
    return f"to_tsquery('simple'::regconfig, {sql_literal(tsquery(query))})"


def _matching(profiles: QuerySet, query: str) -> QuerySet:
    """Profiles whose words contain every word of the query, each as a prefix, as in project search."""
    if connection.vendor == "postgresql":
        # The weighted tsvector column of migration 0003 and its GIN index (not a model field: SQLite has none),
        # named without its table: Django renames the table inside a subquery (U0, see _best_matches_first), and
        # no other table these queries read has such a column.
        matches = RawSQL(  # noqa: S611 — the only value in it is sql_literal's, of tsquery()'s \w-only text
            f"search_vector @@ {_tsquery_sql(query)}", (), output_field=BooleanField()
        )
        return profiles.alias(matches=matches).filter(matches=True)
    # SQLite (development without PostgreSQL): every word must appear somewhere.
    for term in terms(query):
        profiles = profiles.filter(search_document__contains=term)
    return profiles


def _best_matches_first(profiles: QuerySet, query: str) -> QuerySet:
    """The matches by relevance (ts_rank: a word in the name, headline or skills weighs more than one in the bio
    or a portfolio title), then by rating. Ranking reads each candidate's vector, so the candidates are bounded:
    the first cap + 1 matches by rating, i.e. every match when there are no more than the cap (the listing shows
    no further than the cap anyway) and, when there are, the best rated of them, the page asking for more words."""
    cap = settings.FREELANCER_DIRECTORY_COUNT_CAP
    candidates = profiles.order_by(*DIRECTORY_SORTS["rating"]).values("pk")[: cap + 1]
    rank = RawSQL(  # noqa: S611 — as in _matching
        f"ts_rank(search_vector, {_tsquery_sql(query)})", (), output_field=FloatField()
    )
    return Profile.objects.filter(pk__in=candidates).alias(rank=rank).order_by(*DIRECTORY_SORTS["relevance"])


def freelancer_directory(*, filters: FreelancerFilters) -> QuerySet:
    """People listed in the freelancer directory (active, with a skill on their profile or completed work:
    Profile.listed), matching the filters, in the chosen order, each with its user and skills: three queries for
    a page with its count, whatever the number of profiles."""
    profiles = Profile.objects.filter(listed=True)
    if filters.category:
        # The category's skills as values (one small query): PostgreSQL then reads their links by the index on
        # skill_id; given a subquery instead, it read every link (bench/directory_bench.py: 90 ms).
        skill_ids = list(Skill.objects.filter(category=filters.category).values_list("pk", flat=True))
        profiles = _with_skill(profiles, skill_id__in=skill_ids)
    for skill in filters.skills:
        profiles = _with_skill(profiles, skill=skill)
    if filters.min_rating is not None:
        profiles = profiles.filter(rating_average__gte=filters.min_rating)
    if filters.min_completed is not None:
        profiles = profiles.filter(completed_projects__gte=filters.min_completed)
    if terms(filters.query):
        profiles = _matching(profiles, filters.query)
    if filters.order == "relevance" and connection.vendor == "postgresql":
        profiles = _best_matches_first(profiles, filters.query)
    else:  # best match is by rating on SQLite, which has no ranking
        profiles = profiles.order_by(*DIRECTORY_SORTS["rating" if filters.order == "relevance" else filters.order])
    return profiles.select_related("user").prefetch_related("skills")  # skills in the catalogue's order


def profile_public(*, username: str) -> User | None:
    """Everything the public profile page shows, in a fixed number of queries."""
    return (
        User.objects.filter(username=username, is_active=True)
        .select_related("profile")
        .prefetch_related(
            "profile__skills",  # in the catalogue's order: by category, then name
            "profile__experiences",
            "profile__educations",
            Prefetch(
                "profile__portfolio_items",
                queryset=PortfolioItem.objects.prefetch_related(
                    Prefetch("images", queryset=PortfolioImage.objects.order_by("position", "id"))
                ),
            ),
        )
        .first()
    )


def profile_for_editing(*, user: User) -> Profile:
    return (
        Profile.objects.select_related("user")
        .prefetch_related("skills", "experiences", "educations", "portfolio_items__images")
        .get(user=user)
    )
