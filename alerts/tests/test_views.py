"""The job alerts pages: saving the listing's question, the limit, frequency, deleting, the profile alert; bad
input changes nothing and never answers 500."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse

from alerts.models import AlertSettings, Frequency, SavedSearch
from alerts.tests.factories import freelancer, save_search
from projects.models import Category
from projects.tests.factories import skill

pytestmark = pytest.mark.django_db


def _client(user, language="en") -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(user)
    return client


def test_the_listing_offers_to_save_its_question_to_signed_in_people_only(client):
    assert 'data-testid="save-search"' not in client.get("/projects/?q=rug").content.decode()
    page = _client(freelancer()).get("/projects/?q=rug&skills=django&budget_min=1000").content.decode()
    assert 'data-testid="save-search-button"' in page
    for field in ('name="q" value="rug"', 'name="skills" value="django"', 'name="budget_min" value="1000"'):
        assert field in page
    plain = _client(freelancer()).get("/projects/").content.decode()
    assert 'data-testid="save-search-button"' not in plain  # nothing asked: nothing to save
    assert reverse("alert_list") in plain


@pytest.mark.parametrize("language", ["en", "fa"])
def test_saving_the_listing_question_keeps_it_as_typed(language):
    user = freelancer()
    web = Category.objects.get(slug="web-development")
    response = _client(user, language).post(
        reverse("saved_search_create"),
        {
            "q": "فروشگاه  ري‌اکت",
            "category": web.pk,
            "skills": ["django", "react"],
            "budget_min": "۱٬۰۰۰٬۰۰۰" if language == "fa" else "1,000,000",
            "kind": "single",
        },
    )
    assert response.status_code == 302 and response.url == reverse("alert_list")
    search = SavedSearch.objects.get(user=user)
    assert search.terms == ["فروشگاه", "ریاکت"]  # normalised as the search reads it
    assert search.category == web
    assert {s.slug for s in search.skills.all()} == {"django", "react"}
    assert search.budget_min == Decimal(1_000_000) and search.budget_max is None
    assert search.frequency == Frequency.INSTANT
    page = _client(user, language).get(reverse("alert_list")).content.decode()
    assert "فروشگاه" in page and 'data-testid="saved-search"' in page
    assert search.index_key == "word:فروشگاه"


@override_settings(JOB_ALERTS_MAX_SAVED_SEARCHES=2)
def test_past_the_limit_the_listing_says_so_and_nothing_is_saved():
    user = freelancer()
    save_search(user, query="one")
    save_search(user, query="two")
    client = _client(user)
    page = client.get(reverse("alert_list")).content.decode()
    assert "2 of at most 2 saved searches" in page

    response = client.post(reverse("saved_search_create"), {"q": "three"}, follow=True)

    assert response.redirect_chain[-1][0] == "/projects/?q=three"
    assert "You can keep at most 2 saved searches" in response.content.decode()
    assert SavedSearch.objects.filter(user=user).count() == 2


@pytest.mark.parametrize(
    "data",
    [{"budget_min": "a lot"}, {"skills": "no-such-skill"}, {"category": "999999"}, {}, {"q": "   "}],
)
def test_bad_or_empty_questions_get_a_message_and_save_nothing(data):
    user = freelancer()
    response = _client(user).post(reverse("saved_search_create"), data, follow=True)
    assert response.status_code == 200
    assert 'class="alert alert-error"' in response.content.decode()
    assert not SavedSearch.objects.exists()


def test_the_owner_changes_the_frequency_and_deletes_and_nobody_else_can():
    owner, stranger = freelancer(), freelancer()
    search = save_search(owner, query="rug")
    assert (
        _client(stranger).post(reverse("saved_search_update", args=[search.pk]), {"frequency": "off"}).status_code
        == 404
    )
    assert _client(stranger).post(reverse("saved_search_delete", args=[search.pk])).status_code == 404

    client = _client(owner)
    client.post(reverse("saved_search_update", args=[search.pk]), {"frequency": "sometimes"})
    search.refresh_from_db()
    assert search.frequency == Frequency.INSTANT
    client.post(reverse("saved_search_update", args=[search.pk]), {"frequency": "daily"})
    search.refresh_from_db()
    assert search.frequency == Frequency.DAILY
    client.post(reverse("saved_search_delete", args=[search.pk]))
    assert not SavedSearch.objects.exists()


def test_the_profile_alert_is_on_and_daily_by_default_and_can_be_turned_off():
    user = freelancer(skills=[skill("django")])
    client = _client(user)
    page = client.get(reverse("alert_list")).content.decode()
    assert 'data-testid="profile-alert-on" checked' not in page  # the attribute order: value, checked, testid
    assert 'value="on" checked data-testid="profile-alert-on"' in page
    assert '<option value="daily" selected>' in page
    assert "Django" in page

    client.post(reverse("alert_settings"), {"profile_frequency": "instant"})  # the box unticked

    assert AlertSettings.objects.filter(user=user, profile_skills=False, profile_frequency="instant").exists()
    client.post(reverse("alert_settings"), {"profile_skills": "on", "profile_frequency": "never"})
    assert AlertSettings.objects.get(user=user).profile_skills is False  # a bad choice changed nothing


def test_the_alerts_page_needs_a_login_and_is_linked_from_the_notification_settings(client):
    assert client.get(reverse("alert_list")).status_code == 302
    page = _client(freelancer()).get(reverse("notification_settings")).content.decode()
    assert reverse("alert_list") in page
    assert 'data-kind="job_alert"' in page  # e-mails of job alerts can be turned off there, as any kind


@pytest.mark.parametrize("count", [1, 8])
def test_the_alerts_page_runs_a_bounded_number_of_queries(count, django_assert_max_num_queries):
    user = freelancer(skills=[skill("django"), skill("react")])
    for index in range(count):
        save_search(user, query=f"word{index}", skills=[skill("django"), skill("laravel")])
    client = _client(user)
    client.get(reverse("alert_list"))
    with django_assert_max_num_queries(9):
        assert client.get(reverse("alert_list")).status_code == 200
