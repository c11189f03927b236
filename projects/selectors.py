"""Read queries the project views share. Each returns a bounded number of SQL queries, whatever the data."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import BooleanField, FloatField, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL

from accounts.models import User
from projects.models import Category, Project, Skill
from projects.search import terms, tsquery

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
        # Matches the GIN index of migration 0002 (the same expression), prefix match on every word.
        document = "to_tsvector('simple'::regconfig, projects_project.search_document)"
        matches = RawSQL(  # noqa: S611 — the query text is a bound parameter
            f"{document} @@ to_tsquery('simple'::regconfig, %s)", (tsquery(query),), output_field=BooleanField()
        )
        rank = RawSQL(  # noqa: S611 — the query text is a bound parameter
            f"ts_rank({document}, to_tsquery('simple'::regconfig, %s))", (tsquery(query),)
        )
        return projects.alias(matches=matches).filter(matches=True).annotate(rank=rank)
    # SQLite (development without PostgreSQL): every word must appear somewhere.
    for term in terms(query):
        projects = projects.filter(search_document__contains=term)
    return projects.annotate(rank=RawSQL("0", (), output_field=FloatField()))


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
    order = SORTS.get(filters.sort, SORTS["newest"])
    if filters.query and filters.sort == "newest":
        order = ["-rank", *order]
    return _with_card_data(projects.order_by(*order))


def project_visible_to(*, user: User) -> QuerySet:
    """Projects a user may open: everything published, and their own drafts and cancelled ones."""
    public = ~Q(status__in=[Project.Status.DRAFT, Project.Status.CANCELLED])
    if user.is_authenticated:
        return Project.objects.filter(public | Q(owner=user))
    return Project.objects.filter(public)


def project_detail(*, pk: int, user: User) -> Project | None:
    return (
        _with_card_data(project_visible_to(user=user))
        .select_related("owner")
        .prefetch_related("attachments")
        .filter(pk=pk)
        .first()
    )


def employer_projects(*, user: User) -> QuerySet:
    return _with_card_data(Project.objects.filter(owner=user)).order_by("-created_at")


def categories_with_skills() -> list[Category]:
    return list(Category.objects.prefetch_related(Prefetch("skills", queryset=Skill.objects.order_by("name_en"))))


def skill_choices() -> QuerySet:
    return Skill.objects.select_related("category")
