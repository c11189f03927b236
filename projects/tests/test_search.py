import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import UserFactory
from marketplace.testing import queries_beyond_the_cache
from projects.models import Category, Project
from projects.search import normalize, sql_literal, tsquery
from projects.selectors import ProjectFilters, project_list_open
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
