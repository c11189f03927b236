"""Pages served from the cache stay right: a change shows at once, in both languages, for visitors and for
signed-in people; each visitor gets their own CSRF token; the count stops at its cap."""

import re

import pytest
from django.conf import settings
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import UserFactory
from marketplace.testing import queries_beyond_the_cache
from projects.services import project_update
from projects.tests.factories import make_project

pytestmark = pytest.mark.django_db


def visitor(language: str) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def rename(project, title: str) -> None:
    project_update(project=project, by=project.owner, skills=list(project.skills.all()), title=title)


@pytest.mark.parametrize("language", ["en", "fa"])
def test_a_visitor_gets_the_listing_from_the_cache_and_sees_a_change_at_once(language):
    project = make_project(title="Logo for a bakery", description="Bread, cakes and a shop sign.")
    client = visitor(language)
    listing, detail = reverse("project_list"), reverse("project_detail", args=[project.pk])
    assert "Logo for a bakery" in client.get(listing).content.decode()
    assert "Logo for a bakery" in client.get(detail).content.decode()
    with CaptureQueriesContext(connection) as served:
        assert "Logo for a bakery" in client.get(listing).content.decode()
        assert "Logo for a bakery" in client.get(detail).content.decode()
    assert queries_beyond_the_cache(served) == []  # served from the cache: no page was rendered again

    rename(project, "Menu design for a bakery")

    for path in (listing, detail):
        html = client.get(path).content.decode()
        assert "Menu design for a bakery" in html
        assert "Logo for a bakery" not in html
        assert f'lang="{language}"' in html


def test_a_signed_in_freelancer_sees_a_change_to_a_cached_listing_at_once(client):
    project = make_project(title="Translate a catalogue", description="Forty pages, English to Persian.")
    client.force_login(UserFactory())
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Translate a catalogue" in client.get(reverse("project_list")).content.decode()
    rename(project, "Translate a brochure")
    html = client.get(reverse("project_list")).content.decode()
    assert "Translate a brochure" in html
    assert "Translate a catalogue" not in html
    make_project(title="A new project appears")
    assert "A new project appears" in client.get(reverse("project_list")).content.decode()


def test_each_visitor_gets_their_own_csrf_token_in_a_cached_page():
    make_project()
    first, second = visitor("en"), visitor("en")
    tokens = []
    for client in (first, second):
        response = client.get(reverse("project_list"))
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode()).group(1)
        assert settings.CSRF_COOKIE_NAME in response.cookies
        tokens.append(token)
        # The language switch of the cached page works with the token it carries.
        switched = client.post(reverse("set_language"), {"language": "fa", "next": "/", "csrfmiddlewaretoken": token})
        assert switched.status_code == 302
    assert "csrf-token-of-this-visitor" not in response.content.decode()
    assert tokens[0] != tokens[1]


def test_a_visitor_with_a_message_waiting_gets_the_page_rendered_for_them(client):
    make_project()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.get(reverse("project_list"))  # cached now
    # A flash message waiting in the visitor's cookie (as a redirect leaves it): the page must show it.
    storage = CookieStorage(RequestFactory().get("/"))
    client.cookies[CookieStorage.cookie_name] = storage._encode([Message(constants.INFO, "Your e-mail is confirmed")])
    response = client.get(reverse("project_list"))
    assert response.status_code == 200
    assert "Your e-mail is confirmed" in response.content.decode()


@pytest.mark.parametrize(("cap", "shown"), [(3, "More than 3 projects open for proposals"), (10, "5 projects open")])
def test_the_count_stops_at_its_cap(settings, cap, shown):
    settings.PROJECT_LIST_COUNT_CAP = cap
    for number in range(5):
        make_project(title=f"Project {number}")
    html = visitor("en").get(reverse("project_list")).content.decode()
    assert shown in html
    assert html.count('class="card project-card"') == min(cap, 5)  # the listing stops at the cap too


@pytest.mark.parametrize("language", ["en", "fa"])
def test_a_visitor_sees_a_changed_public_profile_at_once(language):
    member = UserFactory(username="nasrin")
    member.profile.headline = "Illustrator"
    member.profile.save()
    client, url = visitor(language), reverse("profile_public", args=["nasrin"])
    assert "Illustrator" in client.get(url).content.decode()
    with CaptureQueriesContext(connection) as served:
        assert "Illustrator" in client.get(url).content.decode()
    assert queries_beyond_the_cache(served) == []
    member.profile.headline = "Illustrator and animator"
    member.profile.save()
    assert "Illustrator and animator" in client.get(url).content.decode()
    member.last_login = member.date_joined  # a sign-in saves last_login: nothing shown changes, nothing is replaced
    member.save(update_fields=["last_login"])
    with CaptureQueriesContext(connection) as served:
        assert client.get(url).status_code == 200
    assert queries_beyond_the_cache(served) == []
