"""Read queries the project views share. Each returns a bounded number of SQL queries, whatever the data."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from math import ceil

from django.core.paginator import Paginator
from django.db import connection, connections
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


def _search(projects: QuerySet, query: str, *, prefixes: bool = True) -> QuerySet:
    if not terms(query):
        return projects
    if connection.vendor == "postgresql":
        # The stored tsvector column of migration 0002, GIN-indexed (open projects only, migration 0005); every
        # word matches as a prefix (as a whole word with prefixes=False). The words are a literal, not a
        # parameter: a prepared statement's generic plan cannot know how common they are, and planned blind a
        # search took 2.8 times as long (settings, DATABASE_PREPARED_STATEMENTS); as a literal each search is
        # planned for its own words. tsquery() lets only \w characters, "&", ":" and "*" through.
        text = tsquery(query, prefixes=prefixes)
        matches = RawSQL(  # noqa: S611 — the only value in it is sql_literal's, of tsquery()'s \w-only text
            f"projects_project.search_vector @@ to_tsquery('simple'::regconfig, {sql_literal(text)})",
            (),
            output_field=BooleanField(),
        )
        return projects.alias(matches=matches).filter(matches=True)
    # SQLite (development without PostgreSQL): every word must appear somewhere.
    for term in terms(query):
        projects = projects.filter(search_document__contains=term)
    return projects


def project_list_open(*, filters: ProjectFilters) -> QuerySet:
    # Results keep the chosen order, newest first by default, as Persian marketplaces list them; ranking by
    # relevance would read every match's vector to show twenty.
    return _with_card_data(_open_matching(filters).order_by(*SORTS.get(filters.sort, SORTS["newest"])))


# One open project in 64, and one in 8 (by id), each with a GIN index of its own (migration 0005): samples in which
# a search's words are counted before they are counted in every project. A sample settles a count from about eight
# times the cap of matches at most while there are no more than 64 * 8 * cap open projects (half a million); past
# that, a word in nearly every project has more in the smaller sample (13,000 of 850,000 open projects: a 4 ms
# count, where reading the table in order took 1.5), and a sample of one in 512 would be the next step.
COUNT_SAMPLES = (64, 8)


def project_list_open_subsets(*, filters: ProjectFilters) -> list[QuerySet]:
    """Queries for some of project_list_open's rows, cheapest to count first, for CappedPaginator: the open
    projects with every word of the question as a whole word (what matches a whole word matches it as a prefix
    too) in one project in 64, then in one in 8, then in all. None without words, or without PostgreSQL.

    Counting is what a search costs: the GIN index hands over a bitmap of every match before the first is
    counted, so a count takes as long as there are matches, however few it needs; and a word matched as a prefix
    adds every project of every word it begins, gathered in full, where a whole word is read from its posting
    list, skipping what the other words rule out. A sample with more than the cap settles the count from an
    eighth (a sixty-fourth) of the matches; one with no more than the cap leaves about eight times the cap at
    most to the next query. At a million projects, for the crawler's pairs of words (bench/load_bench.py), the
    count took a median of 53 ms with prefixes in all projects, 8 ms so (at 10,000 projects, 1.3 and 1.9 ms)."""
    if connection.vendor != "postgresql" or not terms(filters.query):
        return []
    whole_words = _open_matching(filters, prefixes=False)
    samples = [whole_words.alias(in_sample=_in_sample(size)).filter(in_sample=True) for size in COUNT_SAMPLES]
    return [*samples, whole_words]


def _in_sample(size: int) -> RawSQL:
    """One open project in `size`, by id. The size is written into the statement as in the sample's index
    definition, not passed as a parameter: the planner uses a partial index only when the statement's own
    conditions imply the index's, which a prepared statement's generic plan, blind to its parameters, cannot
    show."""
    return RawSQL(f"projects_project.id %% {int(size)} = 0", (), output_field=BooleanField())  # noqa: S611 — a number


def _open_matching(filters: ProjectFilters, *, prefixes: bool = True) -> QuerySet:
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
    return _search(projects, filters.query, prefixes=prefixes)


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
    find out with a million matches as with two thousand, and nobody pages past the fiftieth page.

    `subsets`, if given, are queries for some of object_list's rows each (every row of one is one of
    object_list's), cheaper to count: the first that has more than cap rows settles the count, and only when
    none has is object_list counted."""

    def __init__(self, object_list, per_page: int, cap: int, subsets: Sequence[QuerySet] = ()):
        super().__init__(object_list, per_page)
        self.cap = cap
        self.subsets = list(subsets)

    @cached_property
    def count(self) -> int:
        """The number of rows, or cap + 1 if there are more than cap: one COUNT over a LIMIT, without the order (any
        cap + 1 rows will do), so PostgreSQL stops at the cap + 1st match instead of sorting every match."""
        if not self.subsets:
            return self.object_list.order_by()[: self.cap + 1].count()
        # One statement still: a CASE runs the subquery of a branch only when it reaches that branch.
        cap, sql, params = int(self.cap), ["SELECT CASE"], []
        for subset in self.subsets:
            counted, counted_params = _capped_count_sql(subset, cap)
            sql.append(f"WHEN ({counted}) > {cap} THEN {cap + 1}")
            params += counted_params
        counted, counted_params = _capped_count_sql(self.object_list, cap)
        sql.append(f"ELSE ({counted}) END")
        with connections[self.object_list.db].cursor() as cursor:
            cursor.execute(" ".join(sql), [*params, *counted_params])
            return cursor.fetchone()[0]

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


def _capped_count_sql(rows: QuerySet, cap: int) -> tuple[str, tuple]:
    """SQL counting the query's rows up to cap + 1, as a sliced queryset's count() does, and its parameters."""
    sql, params = rows.order_by().values("pk")[: cap + 1].query.sql_with_params()
    return f"SELECT COUNT(*) FROM ({sql}) AS counted", params  # noqa: S608 — Django's SQL, values as parameters
