"""The freelancer directory (/freelancers/): who is listed, word search with project search's normalisation,
filters, orders, pages, bad input, and the figures on the profile kept by the services that change them."""

import re
import threading
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import PortfolioItem, Profile, User
from accounts.selectors import FreelancerFilters, freelancer_directory
from accounts.services import (
    portfolio_item_create,
    portfolio_item_delete,
    profile_set_skills,
    profile_update_basic,
)
from accounts.tests.factories import UserFactory
from marketplace.testing import queries_beyond_the_cache, run_in_threads
from projects.tests.factories import skill
from reviews.services import review_submit, reviews_publish_due
from workspace.tests.factories import contract_in, phase_to, phased_contract_in


def freelancer(name, *, headline="", bio="", city="", skills=(), portfolio=()) -> User:
    """A person who offers work, made as they would make themselves: sign-up, then the profile's tabs."""
    user = UserFactory()
    profile_update_basic(user=user, display_name=name, headline=headline, bio=bio, city=city)
    if skills:
        profile_set_skills(user=user, skills=[skill(slug) for slug in skills])
    for title in portfolio:
        portfolio_item_create(user=user, title=title, description="", link="", images=[])
    return user


def rated(user: User, *ratings: int) -> User:
    """Completed contracts for `user` as the freelancer, each reviewed by both sides (so published)."""
    for rating in ratings:
        deal = contract_in("completed", freelancer=user)
        review_submit(contract=deal.contract, by=deal.employer, rating=rating)
        review_submit(contract=deal.contract, by=user, rating=5)
    return user


def names(response) -> list[str]:
    return [profile.display_name for profile in response.context["page"]]


def directory(client, **params):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse("freelancer_directory"), params)
    assert response.status_code == 200
    return response


def profile_of(user: User) -> Profile:
    return Profile.objects.get(user=user)


# --- who is listed, and finding them by words --------------------------------------------------------------


@pytest.mark.django_db
def test_people_with_a_skill_are_listed_and_others_are_not(client):
    freelancer("Reza", skills=["django"])
    freelancer("Only hires")  # an employer's account: no skill, no completed work
    assert names(directory(client)) == ["Reza"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "طراحي",  # Arabic yeh, as an Arabic keyboard types it
        "طراحی",
        "كاتالوگ",  # Arabic kaf
        "کاتالوگ فرش",
        "فرش‌های",  # with a zero-width non-joiner
        "kashan",  # lower case, of a portfolio title
        "رابط کاربری",  # a skill's Persian name
        "UI Design",  # the same skill's English name
        "shiraz",  # a word of the bio
        "Rugs",  # a portfolio item's title
        "دستب",  # a prefix
    ],
)
def test_words_find_a_freelancer_however_they_are_typed(client, query):
    freelancer(
        "مینا",
        headline="طراحی کاتالوگ فرش",
        bio="Based in Shiraz; I love hand-made things.",
        skills=["ui-design"],
        portfolio=["Rugs of Kashan", "فرش‌های دستباف"],
    )
    freelancer("Alex", headline="Django developer", bio="Backend work in Python.", skills=["django"])
    assert names(directory(client, q=query)) == ["مینا"]


@pytest.mark.django_db
def test_every_word_must_match(client):
    freelancer("Alex", headline="Django developer", skills=["django"])
    assert names(directory(client, q="django developer")) == ["Alex"]
    assert names(directory(client, q="django flutter")) == []


@pytest.mark.django_db
def test_search_on_postgresql_reads_the_weighted_index(client, require_postgres):
    freelancer("Alex", headline="Django developer", skills=["django"])
    with CaptureQueriesContext(connection) as queries:
        directory(client, q="django")
    sql = "\n".join(query["sql"] for query in queries.captured_queries)
    # The words as a literal (so each search is planned knowing them), never a parameter.
    assert "search_vector @@ to_tsquery('simple'::regconfig, 'django:*')" in sql
    assert "ts_rank(search_vector, to_tsquery('simple'::regconfig, 'django:*'))" in sql
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'accounts_profile_search_gin'")
        (definition,) = cursor.fetchone()
    assert "gin (search_vector) WHERE listed" in definition


@pytest.mark.django_db
def test_best_match_puts_what_a_freelancer_says_they_are_above_a_mention_in_a_bio(client, require_postgres):
    rated(freelancer("Mentions it", bio="I once worked beside a Flutter developer.", skills=["django"]), 5)
    freelancer("Is one", headline="Flutter developer", skills=["ui-design"])
    assert names(directory(client, q="flutter")) == ["Is one", "Mentions it"]
    # Sorted by rating instead, the rated one comes first.
    assert names(directory(client, q="flutter", sort="rating")) == ["Mentions it", "Is one"]


@pytest.mark.django_db
def test_past_the_cap_best_match_ranks_the_best_rated_matches(client, settings, require_postgres):
    settings.FREELANCER_DIRECTORY_COUNT_CAP = 2  # so cap + 1 = 3 candidates are ranked
    rated(freelancer("Mentions A", bio="Worked beside a Flutter team.", skills=["django"]), 5)
    rated(freelancer("Mentions B", bio="Worked beside a Flutter team.", skills=["django"]), 4)
    rated(freelancer("Is one", headline="Flutter developer", skills=["django"]), 3)
    freelancer("Is one too", headline="Flutter developer", skills=["django"])  # unrated: the fourth by rating
    response = directory(client, q="flutter")
    assert names(response) == ["Is one", "Mentions A"]  # the cap's two rows
    assert "More than 2 freelancers" in response.content.decode()


# --- filters and orders ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_skill_filters_need_every_ticked_skill_and_a_category_any_of_its_skills(client):
    freelancer("Both", skills=["django", "python"])
    freelancer("Django only", skills=["django"])
    freelancer("Designer", skills=["ui-design"])
    assert sorted(names(directory(client, skills="django"))) == ["Both", "Django only"]
    assert names(directory(client, skills=["django", "python"])) == ["Both"]
    design = skill("ui-design").category
    assert names(directory(client, category=design.pk)) == ["Designer"]
    web = skill("django").category
    assert sorted(names(directory(client, category=web.pk))) == ["Both", "Django only"]


@pytest.mark.django_db
def test_minimum_rating_and_completed_projects(client):
    rated(freelancer("Five", skills=["django"]), 5, 5)
    rated(freelancer("Three", skills=["django"]), 3)
    freelancer("New", skills=["django"])
    assert names(directory(client, min_rating="4")) == ["Five"]
    assert names(directory(client, min_rating="۳")) == ["Five", "Three"]  # Persian digits
    assert names(directory(client, min_completed="2")) == ["Five"]
    assert names(directory(client, min_completed="1", min_rating="3.5")) == ["Five"]


@pytest.mark.django_db
def test_orders_by_rating_and_by_completed_projects(client):
    rated(freelancer("Busy", skills=["django"]), 4, 4, 4)
    rated(freelancer("Excellent", skills=["django"]), 5)
    freelancer("New", skills=["django"])
    assert names(directory(client)) == ["Excellent", "Busy", "New"]  # by rating when no words are given
    assert names(directory(client, sort="rating")) == ["Excellent", "Busy", "New"]
    assert names(directory(client, sort="completed")) == ["Busy", "Excellent", "New"]


@pytest.mark.django_db
def test_the_card_shows_rating_completed_projects_city_skills_and_links_to_the_profile(client):
    reza = rated(freelancer("Reza", headline="Django developer", city="Tabriz", skills=["django", "python"]), 4, 5)
    html = directory(client).content.decode()
    assert reverse("profile_public", args=[reza.username]) in html
    assert "Django developer" in html and "Tabriz" in html
    assert "4.5 (2 reviews)" in html
    assert "2 completed projects" in html
    assert "Django" in html and "Python" in html


@pytest.mark.django_db
def test_pages_of_twenty_and_a_page_past_the_end(client):
    for number in range(25):
        freelancer(f"Freelancer {number}", skills=["django"])
    first, second = directory(client), directory(client, page=2)
    assert len(names(first)) == 20
    assert len(names(second)) == 5
    assert set(names(first)).isdisjoint(names(second))
    assert len(names(directory(client, page=99))) == 5  # the last page
    assert "25 freelancers" in first.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("count", [3, 30])
def test_a_page_runs_a_bounded_number_of_queries(client, count):
    for number in range(count):
        freelancer(f"Freelancer {number}", skills=["django", "python", "ui-design"], portfolio=["Shop", "Blog"])
    rated(freelancer("Rated", skills=["django"]), 5, 4)
    client.force_login(UserFactory())
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    url = reverse("freelancer_directory")
    for params in ({}, {"q": "freelancer", "skills": "django", "min_rating": "1"}, {"sort": "completed", "page": 2}):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, params).status_code == 200
        # The session, the user, the bell's count, the skill picker (2, until its fragment is cached), the count,
        # the page and its skills; the cache's own statements aside (a table when Redis is absent).
        assert len(queries_beyond_the_cache(captured)) <= 8, queries_beyond_the_cache(captured)


@pytest.mark.django_db
def test_the_selector_reads_a_page_with_its_people_and_skills_in_two_queries(django_assert_max_num_queries):
    for number in range(12):
        freelancer(f"Freelancer {number}", skills=["django", "python"])
    with django_assert_max_num_queries(2):  # the page and its skills
        profiles = list(freelancer_directory(filters=FreelancerFilters(query="freelancer"))[:10])
        assert all(len(profile.skills.all()) == 2 for profile in profiles)
        assert all(profile.user.username for profile in profiles)
    assert len(profiles) == 10


# --- bad input ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_bad_filter_values_are_left_out_with_a_message_never_an_error(client):
    freelancer("Still listed", skills=["django"])
    response = directory(
        client, min_rating="lots", min_completed="-3", category="nope", skills="no-such-skill", sort="up", page="x"
    )
    assert names(response) == ["Still listed"]
    html = response.content.decode()
    assert "Some of the filters could not be read" in html
    assert "An unknown category, skill or order was ignored." in html
    assert "Enter a number." in html
    # Quotes, SQL and format characters in the words are only words (every one must match).
    for query in ("' OR 1=1; --", "%s %(x)s \\", "'); DROP TABLE accounts_profile; --"):
        assert names(directory(client, q=query)) == []
    assert names(directory(client, q="still');--")) == ["Still listed"]
    assert names(directory(client, min_rating="9")) == ["Still listed"]  # out of range: ignored, and said why
    assert "Ensure this value is less than or equal to 5." in directory(client, min_rating="9").content.decode()


@pytest.mark.django_db
def test_an_empty_directory_and_no_match_say_so(client):
    assert "No freelancers listed yet" in directory(client).content.decode()
    freelancer("Alex", skills=["django"])
    assert "No freelancer matches these filters" in directory(client, q="nothing-like-this").content.decode()


@pytest.mark.django_db
def test_persian_page_counts_in_persian_digits(client):
    rated(freelancer("رضا", skills=["django"]), 4, 5, 5)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"
    html = client.get(reverse("freelancer_directory")).content.decode()
    assert re.search(r'data-testid="directory-count">۱ ', html)
    assert re.search(r'data-testid="card-completed">۳ ', html)
    assert "۴٫۷" in html  # the average, 4.67, to one decimal


# --- the figures on the profile, kept by the services --------------------------------------------------------


@pytest.mark.django_db
def test_a_published_review_updates_the_rating_once_published_not_before():
    user = freelancer("Reza", skills=["django"])
    deal = contract_in("completed", freelancer=user)
    review_submit(contract=deal.contract, by=deal.employer, rating=4)
    assert (profile_of(user).rating_average, profile_of(user).rating_count) == (Decimal("0"), 0)  # double-blind
    review_submit(contract=deal.contract, by=user, rating=5)  # both written: published
    assert (profile_of(user).rating_average, profile_of(user).rating_count) == (Decimal("4.00"), 1)
    assert (profile_of(deal.employer).rating_average, profile_of(deal.employer).rating_count) == (Decimal("5.00"), 1)


@pytest.mark.django_db(transaction=True)
def test_two_reviews_published_at_the_same_moment_both_count(require_postgres):
    """Each publication locks the profile before counting, so the second waits and counts the first's review too
    (without the lock each counts only its own, and the last to write leaves one rating of two)."""
    user = freelancer("Reza", skills=["django"])
    deals = [contract_in("completed", freelancer=user) for _ in range(2)]
    for deal, rating in zip(deals, (4, 2), strict=True):
        review_submit(contract=deal.contract, by=deal.employer, rating=rating)
    actions = iter([lambda deal=deal: review_submit(contract=deal.contract, by=user, rating=5) for deal in deals])
    lock = threading.Lock()

    def next_action():
        with lock:
            action = next(actions)
        return action()

    outcomes = run_in_threads(2, next_action)
    assert all(review.published_at for review in outcomes), outcomes
    assert (profile_of(user).rating_average, profile_of(user).rating_count) == (Decimal("3.00"), 2)


@pytest.mark.django_db
def test_a_lone_review_published_by_the_daily_task_updates_the_rating():
    from datetime import timedelta

    from django.utils import timezone

    user = freelancer("Reza", skills=["django"])
    deal = contract_in("completed", freelancer=user)
    review_submit(contract=deal.contract, by=deal.employer, rating=3)
    reviews_publish_due(now=timezone.now() + timedelta(days=15))
    assert (profile_of(user).rating_average, profile_of(user).rating_count) == (Decimal("3.00"), 1)


@pytest.mark.django_db
def test_completed_milestones_count_projects_once_each():
    user = freelancer("Reza", skills=["django"])
    contract_in("review", freelancer=user)  # delivered, not yet released
    assert profile_of(user).completed_projects == 0
    contract_in("completed", freelancer=user)
    assert profile_of(user).completed_projects == 1
    first, second = phased_contract_in(5, 5, freelancer=user).milestones  # two phases of one project
    phase_to(first, "completed")
    assert profile_of(user).completed_projects == 2
    phase_to(second, "completed")
    assert profile_of(user).completed_projects == 2  # the same project


@pytest.mark.django_db
def test_completed_work_lists_a_freelancer_without_skills(client):
    user = UserFactory()
    contract_in("completed", freelancer=user)
    assert profile_of(user).listed
    assert names(directory(client)) == [user.profile.display_name]


@pytest.mark.django_db
def test_the_search_words_follow_the_profile_its_skills_and_portfolio(client):
    user = freelancer("Reza", skills=["django"])
    assert names(directory(client, q="django")) == ["Reza"]
    profile_set_skills(user=user, skills=[skill("python")])
    assert names(directory(client, q="django")) == []
    assert names(directory(client, q="python")) == ["Reza"]
    profile_update_basic(user=user, display_name="Reza K", headline="Data pipelines", bio="", city="")
    assert names(directory(client, q="pipelines")) == ["Reza K"]
    item = portfolio_item_create(user=user, title="Airflow migration", description="", link="", images=[])
    assert names(directory(client, q="airflow")) == ["Reza K"]
    portfolio_item_delete(user=user, item=PortfolioItem.objects.get(pk=item.pk))
    assert names(directory(client, q="airflow")) == []
    profile_set_skills(user=user, skills=[])
    assert not profile_of(user).listed
    assert names(directory(client)) == []


def admin_save(client, user: User, *, is_active=True, display_name: str, bio: str) -> None:
    """Staff save the user's page in the admin, with its profile inline."""
    client.force_login(UserFactory(is_staff=True))
    url = reverse("admin:accounts_user_change", args=[user.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.pop("last_login", None)
    data.update(
        {"groups": [], "user_permissions": [], "date_joined_0": "2026-01-01", "date_joined_1": "10:00:00",
         "profile-TOTAL_FORMS": "1", "profile-INITIAL_FORMS": "1", "profile-MIN_NUM_FORMS": "0",
         "profile-MAX_NUM_FORMS": "1", "profile-0-id": user.profile.pk, "profile-0-user": user.pk,
         "profile-0-display_name": display_name, "profile-0-bio": bio}
    )  # fmt: skip
    if is_active:
        data["is_active"] = "on"
    else:
        data.pop("is_active", None)  # an unticked box
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    client.logout()


@pytest.mark.django_db
def test_the_admin_profile_form_refreshes_the_search_words(client):
    user = freelancer("Reza", skills=["django"])
    admin_save(client, user, display_name="Renamed", bio="Kubernetes operator")
    assert names(directory(client, q="kubernetes")) == ["Renamed"]


@pytest.mark.django_db
def test_an_account_deactivated_in_the_admin_leaves_the_directory(client):
    user = freelancer("Reza", skills=["django"])
    freelancer("Mina", skills=["django"])
    admin_save(client, user, is_active=False, display_name="Reza", bio="")
    assert names(directory(client)) == ["Mina"]
    admin_save(client, User.objects.get(pk=user.pk), display_name="Reza", bio="")  # and comes back when reactivated
    assert sorted(names(directory(client))) == ["Mina", "Reza"]


@pytest.mark.django_db
def test_visitors_get_the_cached_page_until_a_profile_changes(client):
    freelancer("Reza", skills=["django"])
    assert names(directory(client)) == ["Reza"]
    cached = directory(client)
    assert cached.context is None and b"Reza" in cached.content  # served from the cache: nothing rendered
    freelancer("Mina", skills=["ui-design"])
    assert b"Mina" in directory(client).content


# --- the data migration ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_figures_of_profiles_that_exist():
    reza = rated(freelancer("رضا", headline="طراحی وب", skills=["django"], portfolio=["Shop"]), 4, 5)
    employer_only = UserFactory()
    gone = freelancer("Left", skills=["django"])
    User.objects.filter(pk=gone.pk).update(is_active=False)  # as it was before the migration: nothing to refresh
    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0002_profile_avatar_thumbnail_profile_bank_account_holder_and_more")])
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    profile = profile_of(reza)
    assert profile.listed and not profile_of(employer_only).listed and not profile_of(gone).listed
    assert (profile.rating_average, profile.rating_count, profile.completed_projects) == (Decimal("4.50"), 2, 2)
    assert profile.search_document.startswith("رضا طراحی وب django")
    assert profile.search_document.endswith("shop")
    found = freelancer_directory(filters=FreelancerFilters(query="طراحي"))
    assert [p.user_id for p in found] == [reza.pk]
