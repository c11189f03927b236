from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from marketplace.testing import queries_beyond_the_cache
from projects.models import Category, Project
from projects.search import normalize, sql_literal, terms, tsquery
from projects.selectors import (
    COUNT_SAMPLES,
    CappedPaginator,
    ProjectFilters,
    project_list_open,
    project_list_open_subsets,
)
from projects.tests.factories import make_project, skill


@pytest.mark.parametrize(
    ("typed", "indexed"),
    [
        ("طراحي سايت", "طراحی سایت"),  # Arabic yeh
        ("كتاب", "کتاب"),  # Arabic kaf
        ("می‌خواهم", "میخواهم"),  # zero-width non-joiner
        ("مَدرِسه", "مدرسه"),  # diacritics
        ("طـــراحی", "طراحی"),  # tatweel
        ("نسخه ۲ و ٣", "نسخه 2 و 3"),  # Persian and Arabic-Indic digits
        ("Django, REST-API!", "django rest api"),
    ],
)
def test_normalize_makes_every_way_of_typing_one_form(typed, indexed):
    assert normalize(typed) == normalize(indexed)


def test_tsquery_keeps_only_words():
    assert tsquery("طراحي  'سایت' | !foo & bar:*") == "طراحی:* & سایت:* & foo:* & bar:*"
    assert tsquery("  ") == ""


def _titles(response):
    return [project.title for project in response.context["page"]]


def _search(client, **params):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client.get(reverse("project_list"), params)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    ["فروشگاه", "اينترنتي", "اینترنتی فرش", "دستباف", "فرش ۱۲", "فرش 12", "Rug", "rugs shop"],
)
def test_search_finds_a_project_by_words_of_its_title_or_description_however_typed(client, query):
    make_project(
        title="فروشگاه اینترنتی فرش",
        description="برای فروش فرش‌های دستبافِ ۱۲ متری یک فروشگاه می‌خواهیم. Handmade rugs shop.",
    )
    make_project(title="Logo design for a bakery", description="A friendly logo for a small bakery in Shiraz.")
    assert _titles(_search(client, q=query)) == ["فروشگاه اینترنتی فرش"]


@pytest.mark.django_db
def test_search_needs_every_word(client):
    make_project(title="Django shop", description="An online shop written in Django and Python.")
    assert _titles(_search(client, q="django shop")) == ["Django shop"]
    assert _titles(_search(client, q="django flutter")) == []


@pytest.mark.django_db
def test_search_on_postgresql_uses_the_full_text_expression(client, require_postgres):
    make_project(title="Django shop", description="An online shop written in Django and Python.")
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        _search(client, q="django")
    assert any("search_vector @@ to_tsquery" in query["sql"] for query in queries.captured_queries)


@pytest.mark.django_db
def test_each_search_is_planned_for_its_own_words(require_postgres):
    """The words are written into the statement, not passed as a parameter, so a prepared statement's generic
    plan, blind to how common the words are, never serves a search (projects.selectors._search)."""
    sql, params = project_list_open(filters=ProjectFilters(query="Django shop")).query.sql_with_params()
    assert "to_tsquery('simple'::regconfig, 'django:* & shop:*')" in sql
    assert not any("django" in str(param) for param in params)


@pytest.mark.django_db
def test_a_search_literal_is_its_text_whatever_the_text(require_postgres):
    text = "it's 100% «طراحی» \\ '); DROP TABLE projects_project; --"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql_literal(text)}", [])
        assert cursor.fetchone() == (text,)


@pytest.mark.django_db
def test_the_gin_index_exists_on_postgresql(require_postgres):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'projects_project_search_gin'")
        (definition,) = cursor.fetchone()
    assert "gin (search_vector)" in definition


@pytest.mark.django_db
def test_the_stored_search_vector_follows_edits(client, require_postgres):
    project = make_project(title="Django shop", description="An online shop written in Django and Python.")
    assert _titles(_search(client, q="django")) == ["Django shop"]
    from projects.services import project_update

    project_update(project=project, by=project.owner, skills=[skill("flutter")], title="Flutter app",
                   description="A mobile application written in Flutter, for Android and iOS.")  # fmt: skip
    assert _titles(_search(client, q="django")) == []
    assert _titles(_search(client, q="flutter")) == ["Flutter app"]


@pytest.mark.django_db
def test_filters_by_skill_category_budget_and_kind(client):
    web = Category.objects.get(slug="web-development")
    translation = Category.objects.get(slug="translation")
    make_project(title="Django API", category=web, skills=[skill("django")], budget_min=5_000_000, budget_max=9_000_000)
    make_project(
        title="Laravel site", category=web, skills=[skill("laravel")], budget_min=1_000_000, budget_max=2_000_000
    )
    make_project(
        title="Translate a manual",
        category=translation,
        skills=[skill("english-to-persian-translation")],
        kind=Project.Kind.PHASED,
    )

    assert _titles(_search(client, skills="django")) == ["Django API"]
    assert sorted(_titles(_search(client, category=web.pk))) == ["Django API", "Laravel site"]
    assert _titles(_search(client, budget_min="4000000")) == ["Django API"]
    assert _titles(_search(client, budget_max="۱٬۵۰۰٬۰۰۰", category=web.pk)) == ["Laravel site"]
    assert _titles(_search(client, kind="phased")) == ["Translate a manual"]
    assert _titles(_search(client, skills=["django", "laravel"])) == []


@pytest.mark.django_db
def test_sorting(client):
    make_project(title="Cheap", budget_min=1_000_000, budget_max=1_000_000)
    make_project(title="Dear", budget_min=9_000_000, budget_max=9_000_000)
    busy = make_project(title="Busy", budget_min=5_000_000, budget_max=5_000_000)
    Project.objects.filter(pk=busy.pk).update(proposal_count=7)

    assert _titles(_search(client, sort="budget_high")) == ["Dear", "Busy", "Cheap"]
    assert _titles(_search(client, sort="budget_low")) == ["Cheap", "Busy", "Dear"]
    assert _titles(_search(client, sort="fewest_proposals"))[-1] == "Busy"
    assert _titles(_search(client))[0] == "Busy"  # newest first


@pytest.mark.django_db
def test_only_open_projects_are_listed(client):
    make_project(title="Open one")
    make_project(title="A draft", publish=False)
    closed = make_project(title="Closed one")
    Project.objects.filter(pk=closed.pk).update(status=Project.Status.CLOSED)
    assert _titles(_search(client)) == ["Open one"]


@pytest.mark.django_db
def test_bad_filter_values_are_ignored_with_a_message_not_an_error(client):
    make_project(title="Still listed")
    response = _search(client, budget_min="lots", category="nope", skills="no-such-skill", sort="sideways", page="x")
    assert response.status_code == 200
    assert _titles(response) == ["Still listed"]
    assert "Enter a number." in response.content.decode()


@pytest.mark.django_db
def test_pages_of_twenty(client):
    owner = UserFactory()
    for number in range(25):
        make_project(owner=owner, title=f"Project number {number}")
    first, second = _search(client), _search(client, page=2)
    assert len(_titles(first)) == 20
    assert len(_titles(second)) == 5
    assert set(_titles(first)).isdisjoint(_titles(second))
    assert _search(client, page=99).status_code == 200


def _fill(count: int):
    owner = UserFactory()
    skills = list(Category.objects.get(slug="web-development").skills.all()[:5])
    for number in range(count):
        make_project(owner=owner, title=f"Shop number {number}", skills=skills)


@pytest.mark.django_db
@pytest.mark.parametrize("count", [5, 200])
def test_active_projects_runs_a_bounded_number_of_queries(client, count):
    _fill(count)
    client.force_login(UserFactory())
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with CaptureQueriesContext(connection) as searched:
        response = client.get(reverse("project_list"), {"q": "shop", "skills": "django"})
    assert response.status_code == 200
    with CaptureQueriesContext(connection) as listed:
        client.get(reverse("project_list"))
    # The cache's own statements aside (a table when Redis is absent; then the session is read from its table too).
    assert len(queries_beyond_the_cache(searched)) <= 13
    assert len(queries_beyond_the_cache(listed)) <= 13


@pytest.mark.django_db
@pytest.mark.parametrize("count", [5, 200])
def test_project_page_runs_a_bounded_number_of_queries(client, django_assert_max_num_queries, count):
    _fill(count)
    project = make_project(skills=list(Category.objects.get(slug="web-development").skills.all()))
    client.force_login(UserFactory())
    with django_assert_max_num_queries(11):  # 10 + the notification bell's unread count
        assert client.get(reverse("project_detail", args=[project.pk])).status_code == 200


@pytest.mark.django_db
def test_persian_listing_counts_in_persian_digits(client):
    make_project(title="یک پروژه")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"
    html = client.get(reverse("project_list")).content.decode()
    assert "۱ پروژه در حال دریافت پیشنهاد" in html
    assert "۰ پیشنهاد" in html


FIRST_ID = 64 * 1000  # so that the project numbered n is in the sample of one in 8 (64) when n is


def _bulk_projects(documents: list[tuple[str, str, Category]]) -> list[Project]:
    """Projects written at once, numbered from FIRST_ID, each published a minute after the one before: (words,
    status, category) each."""
    owner, now = UserFactory(), timezone.now()
    return Project.objects.bulk_create(
        Project(id=FIRST_ID + number, owner=owner, title=words[:120], description=words,
                search_document=normalize(words), category=category, currency="IRT", budget_min=1_000_000,
                budget_max=2_000_000, duration_days=30, status=status,
                published_at=now - timedelta(minutes=len(documents) - number))
        for number, (words, status, category) in enumerate(documents)
    )  # fmt: skip


@pytest.mark.django_db
def test_a_search_counts_exactly_up_to_the_cap_whichever_count_settles_it(require_postgres):
    """The capped count of a search tries whole words in samples of the projects first (project_list_open_subsets):
    it must come out as counting every prefix match among the filtered open projects would, and the page's rows
    stay the newest matches."""
    web, translation = Category.objects.get(slug="web-development"), Category.objects.get(slug="translation")
    documents = []
    for number in range(200):
        words, status = ["alpha"], "open"  # alpha everywhere: more than the cap in the samples, for small caps
        if number % 16 == 8:
            words, status = ["alpha", "beta"], "closed"  # half of the sample of one in 8: not to be counted
        if number in (3, 5):
            words += ["beta", "gamma", "delta"]  # open, and in no sample: two whole-word matches
        if number in (11, 12, 13, 14, 17):
            words += ["gammas", "deltaic"]  # the words only begin one of theirs
        if number == 21:
            words.append("deltas")
        documents.append((" ".join(words), status, web if number in (1, 2) else translation))
    projects = _bulk_projects(documents)

    def truth(query, category=None):
        wanted = terms(query)
        return [
            project.pk
            for project in sorted(projects, key=lambda p: (p.published_at, p.pk), reverse=True)
            if project.status == "open" and (category is None or project.category_id == category.pk)
            and all(any(word.startswith(term) for word in project.search_document.split()) for term in wanted)
        ]  # fmt: skip

    # cap 2 and 3: the sample of one in 64 (4 open) settles "alpha"; 6: the sample of one in 8 (13 open); 1000:
    # every project, whole words and then prefixes.
    for cap in (2, 3, 6, 1000):
        for query, category in [("alpha", None), ("beta", None), ("gamma", None), ("delta", None),
                                ("alpha gamma", None), ("alpha", web), ("alph", None), ("nothing", None)]:  # fmt: skip
            filters = ProjectFilters(query=query, category=category)
            paginator = CappedPaginator(
                project_list_open(filters=filters), 20, cap=cap, subsets=project_list_open_subsets(filters=filters)
            )
            expected = truth(query, category)
            assert paginator.count == min(len(expected), cap + 1), (query, category, cap)
            assert [project.pk for project in paginator.page(1)] == expected[: min(20, cap)], (query, cap)


@pytest.mark.django_db
def test_each_counting_sample_is_read_from_its_own_index(require_postgres):
    """A partial index serves a query only when the query's conditions imply the index's: the samples' conditions
    are written as their indexes' (migration 0005), and this fails when the two drift apart."""
    _bulk_projects([(f"django shop number {number}", "open", Category.objects.first()) for number in range(300)])
    subsets = project_list_open_subsets(filters=ProjectFilters(query="django shop"))
    assert len(subsets) == len(COUNT_SAMPLES) + 1
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE projects_project")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        for size, subset in zip(COUNT_SAMPLES, subsets, strict=False):
            sql, params = subset.order_by().values("pk").query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert f"projects_project_search_sample{size}_gin" in plan, plan
