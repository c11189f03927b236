"""Flooding the site with projects: settings.USER_RATE_LIMITS["project"], counted per user in the real cache."""

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from marketplace.testing import rate_limit_window_passes
from projects.models import Project
from projects.tests.factories import project_form_data

LIMIT_REACHED = "You can post at most 2 projects every day. You can try again in 1 day."


def _client(user, language="en") -> Client:
    client = Client()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(user)
    return client


def _post(client, **overrides):
    return client.post(reverse("project_create"), project_form_data(**overrides))


@pytest.mark.django_db
def test_projects_beyond_the_limit_are_refused_on_the_form_and_another_employer_still_posts(settings):
    settings.USER_RATE_LIMITS = {**settings.USER_RATE_LIMITS, "project": "2/d/user"}
    employer = UserFactory()
    client = _client(employer)
    assert _post(client, title="First shop to build").status_code == 302
    assert _post(client, title="Second shop, a draft", action="draft").status_code == 302  # drafts count too

    response = _post(client, title="Third shop to build")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [LIMIT_REACHED]
    assert LIMIT_REACHED in response.content.decode()
    assert response.context["form"]["title"].value() == "Third shop to build"  # what was typed is kept
    assert list(Project.objects.filter(owner=employer).values_list("title", flat=True).order_by("pk")) == [
        "First shop to build",
        "Second shop, a draft",
    ]

    other = UserFactory()
    assert _post(_client(other), title="Another employer's shop").status_code == 302
    assert Project.objects.filter(owner=other).count() == 1


@pytest.mark.django_db
def test_publishing_or_editing_an_existing_project_is_not_a_new_post(settings):
    settings.USER_RATE_LIMITS = {**settings.USER_RATE_LIMITS, "project": "1/d/user"}
    employer = UserFactory()
    client = _client(employer)
    assert _post(client, action="draft").status_code == 302
    project = Project.objects.get()
    response = client.post(reverse("project_edit", args=[project.pk]), project_form_data(title="A better title here"))
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.title, project.status) == ("A better title here", Project.Status.OPEN)
    assert _post(client).status_code == 200
    assert Project.objects.count() == 1


@pytest.mark.django_db
def test_refused_forms_use_up_nothing_and_the_limit_frees_up_after_its_window(settings):
    settings.USER_RATE_LIMITS = {**settings.USER_RATE_LIMITS, "project": "1/d/user"}
    employer = UserFactory()
    client = _client(employer, language="fa")
    for _ in range(3):
        response = _post(client, title="")
        assert response.status_code == 200 and "title" in response.context["form"].errors
    assert _post(client, title="The one allowed today").status_code == 302

    response = _post(client, title="One too many today")
    [error] = response.context["form"].non_field_errors()
    assert "۱" in error and not any(ch.isascii() and ch.isdigit() for ch in error)
    assert Project.objects.filter(owner=employer).count() == 1

    rate_limit_window_passes(employer, "project")
    assert _post(client, title="One too many today").status_code == 302
    assert Project.objects.filter(owner=employer).count() == 2


@pytest.mark.django_db
def test_the_help_page_shows_the_limits_from_the_settings(client, settings):
    settings.USER_RATE_LIMITS = {
        **settings.USER_RATE_LIMITS,
        "message": "25/m/user",
        "proposal": "12/h/user",
        "proposal_edit": "40/2h/user",
        "project": "7/d/user",
    }
    client.cookies["django_language"] = "en"
    html = client.get(reverse("help_page", args=["how-it-works"])).content.decode()
    assert 'data-testid="help-limits"' in html
    for sentence in (
        "You can send at most 25 messages every minute.",
        "You can send at most 12 proposals every hour.",
        "You can edit your proposals at most 40 times every 2 hours.",
        "You can post at most 7 projects every day.",
    ):
        assert sentence in html
    client.cookies["django_language"] = "fa"
    html = client.get(reverse("help_page", args=["how-it-works"])).content.decode()
    assert "۲۵" in html and "۱۲" in html and "۴۰" in html and "۷" in html

    settings.USER_RATE_LIMITS = dict.fromkeys(settings.USER_RATE_LIMITS, "")
    assert 'data-testid="help-limits"' not in client.get(reverse("help_page", args=["how-it-works"])).content.decode()
