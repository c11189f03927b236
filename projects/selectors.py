"""Read queries the project views share. Each returns a bounded number of SQL queries, whatever the data."""

from dataclasses import dataclass, field
from decimal import Decimal
from math import ceil

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import BooleanField, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.functional import cached_property

from accounts.models import User
from projects.models import Category, Project, Skill
from projects.search import sql_literal, terms, tsquery

SORTS = {
    "newest": ["-published_at", "-id"],
    "budget_high": ["-budget_max", "-id"],
    "budget_low": ["budget_min", "-id"],
    "fewest_proposals": ["proposal_count", "-published_at", "-id"],
}


@dataclass
class ProjectFilters:
    query: str = ""
    category: Category | None = None
    skills: list[Skill] = field(default_factory=list)
    budget_min: Decimal | None = None
    budget_max: Decimal | None = None
    kind: str = ""
    sort: str = "newest"


def _with_card_data(projects: QuerySet) -> QuerySet:
    return projects.select_related("category", "owner__profile").prefetch_related(
        Prefetch("skills", queryset=Skill.objects.order_by("name_en"))
    )


def _search(projects: QuerySet, query: str) -> QuerySet:
    if not terms(query):
        return projects
    if connection.vendor == "postgresql":
        # The stored tsvector column of migration 0002, GIN-indexed; every word matches as a prefix. The words are
        # a literal, not a parameter: a prepared statement's generic plan cannot know how common they are, and
        # planned blind a search took 2.8 times as long (settings, DATABASE_PREPARED_STATEMENTS); as a literal
        # each search is planned for its own words. tsquery() lets only \w characters, "&", ":" and "*" through.
        matches = RawSQL(  # noqa: S611 — the only value in it is sql_literal's, of tsquery()'s \w-only text
            f"projects_project.search_vector @@ to_tsquery('simple'::regconfig, {sql_literal(tsquery(query))})",
            (),
            output_field=BooleanField(),
        )
        return projects.alias(matches=matches).filter(matches=True)
    # SQLite (development without PostgreSQL): every word must appear somewhere.
    for term in terms(query):
        projects = projects.filter(search_document__contains=term)
    return projects


def project_list_open(*, filters: ProjectFilters) -> QuerySet:
    projects = Project.objects.filter(status=Project.Status.OPEN)
    if filters.category:
        projects = projects.filter(category=filters.category)
    for skill in filters.skills:
        projects = projects.filter(skills=skill)
    if filters.budget_min is not None:
        projects = projects.filter(budget_max__gte=filters.budget_min)
    if filters.budget_max is not None:
        projects = projects.filter(budget_min__lte=filters.budget_max)
    if filters.kind:
        projects = projects.filter(kind=filters.kind)
    projects = _search(projects, filters.query)
    # Results keep the chosen order, newest first by default, as Persian marketplaces list them; ranking by
    # relevance would read every match's vector to show twenty.
    return _with_card_data(projects.order_by(*SORTS.get(filters.sort, SORTS["newest"])))


def project_visible_to(*, user: User) -> QuerySet:
    """Projects a user may open: everything published, and their own drafts and cancelled ones."""
    public = ~Q(status__in=[Project.Status.DRAFT, Project.Status.CANCELLED])
    if user.is_authenticated:
        return Project.objects.filter(public | Q(owner=user))
    return Project.objects.filter(public)


def project_detail(*, pk: int, user: User) -> Project | None:
    return (
        _with_card_data(project_visible_to(user=user))
        .prefetch_related("attachments", "contracts")
        .filter(pk=pk)
        .first()
    )


def employer_projects(*, user: User) -> QuerySet:
    """The employer's table in My activities: its own columns only, one query."""
    return Project.objects.filter(owner=user).order_by("-created_at")


def categories_with_skills() -> list[Category]:
    return list(Category.objects.prefetch_related(Prefetch("skills", queryset=Skill.objects.order_by("name_en"))))


class CappedPaginator(Paginator):
    """Pages of a listing that counts no further than `cap` rows: "more than 1,000 projects" costs as much to
    find out with a million matches as with two thousand, and nobody pages past the fiftieth page."""

    def __init__(self, object_list, per_page: int, cap: int):
        super().__init__(object_list, per_page)
        self.cap = cap

    @cached_property
    def count(self) -> int:
        """The number of rows, or cap + 1 if there are more than cap: one COUNT over a LIMIT, without the order (any
        cap + 1 rows will do), so PostgreSQL stops at the cap + 1st match instead of sorting every match."""
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @cached_property
    def num_pages(self) -> int:
        return max(1, ceil(min(self.count, self.cap) / self.per_page))

    def page(self, number):
        """The page's rows, never past the cap's row (the last page may hold fewer)."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count, self.cap)
        return self._get_page(self.object_list[bottom:top], number, self)
