"""The headers marketplace/security.py puts on every response."""

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from projects.tests.factories import make_project
from proposals.models import Conversation
from proposals.tests.factories import make_proposal


def _assert_strict_policy(response):
    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "camera=()" in response["Permissions-Policy"]
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_public_pages_carry_a_policy_without_inline_code_or_eval(client):
    project = make_project()
    for url in ("/", reverse("project_detail", args=[project.pk]), reverse("account_login"), "/no-such-page/"):
        _assert_strict_policy(client.get(url))


@pytest.mark.django_db
def test_signed_in_pages_and_htmx_partials_carry_the_same_policy(client):
    proposal = make_proposal(project=make_project())
    conversation = Conversation.objects.get(project=proposal.project, freelancer=proposal.freelancer)
    client.force_login(proposal.freelancer)
    for url in (
        "/",
        reverse("project_detail", args=[proposal.project.pk]),
        reverse("conversation_detail", args=[conversation.pk]),
        reverse("conversation_poll", args=[conversation.pk]) + "?after=0",
    ):
        _assert_strict_policy(client.get(url))


@pytest.mark.django_db
def test_other_settings_add_the_storage_origin_to_images_and_gateways_to_form_targets(client, settings):
    settings.CSP_EXTRA_IMG_SRC = ["https://files.example.com"]
    settings.CSP_EXTRA_FORM_ACTION = ["https://bank.example.com"]
    policy = client.get("/")["Content-Security-Policy"]
    assert "img-src 'self' data: https://files.example.com;" in policy
    assert "form-action 'self' https://bank.example.com;" in policy


@pytest.mark.django_db
def test_pages_for_a_signed_in_person_are_never_stored_by_the_browser(client):
    user = UserFactory()
    client.force_login(user)
    for url in ("/", reverse("payment_settings")):
        cache_control = client.get(url)["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control


@pytest.mark.django_db
def test_public_pages_for_an_anonymous_visitor_may_be_cached(client):
    project = make_project()
    for url in ("/", reverse("project_detail", args=[project.pk])):
        assert "no-store" not in client.get(url).get("Cache-Control", "")


@pytest.mark.django_db
def test_in_debug_only_djangos_technical_error_pages_go_out_without_the_policy(client, settings):
    settings.DEBUG = True
    assert "Content-Security-Policy" not in client.get("/no-such-page/")
    assert "Content-Security-Policy" in client.get("/")
