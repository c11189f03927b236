"""allauth's e-mails, as they leave through the outbox: they name the site (SITE_NAME), link to SITE_URL whatever
host the request came in on, speak the recipient's language in its direction; confirming signs the person in."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from marketplace.mail import RLM

SITE_URL = "https://hamkar.example"
LINK = re.compile(r"https?://[^\s<>\"]+")


@pytest.fixture(autouse=True)
def _public_address(settings):
    settings.SITE_URL = SITE_URL


def _signup(client, language: str):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    data = {"email": "new@example.com", "username": "newbie", "password1": PASSWORD, "password2": PASSWORD}
    return client.post(reverse("account_signup"), data)


def _html(message) -> str:
    return next(content for content, mime in message.alternatives if mime == "text/html")


def _site_name(language: str) -> str:
    with translation.override(language):
        return str(settings.SITE_NAME)


def _assert_links_on_site(message):
    links = LINK.findall(message.body) + LINK.findall(_html(message))
    assert links
    assert all(link.startswith(SITE_URL) for link in links), links
    assert "testserver" not in message.body


@pytest.mark.django_db(transaction=True)
def test_persian_verification_email_names_the_site_links_to_site_url_and_reads_right_to_left(client):
    _signup(client, "fa")

    (message,) = mail.outbox
    assert _site_name("fa") == "همکار"
    assert "همکار" in message.subject
    assert "نشانی ایمیل خود را تأیید کنید" in message.subject
    assert "newbie عزیز، سلام" in message.body
    assert "همکار" in message.body
    assert "127.0.0.1" not in message.body
    _assert_links_on_site(message)
    assert f"{SITE_URL}/accounts/confirm-email/" in message.body
    # Plain text: every Persian line starts with a right-to-left mark; the link line stays bare to be copied.
    lines = [line for line in message.body.splitlines() if line.strip()]
    assert all(line.startswith(RLM) or line.startswith(SITE_URL) for line in lines), lines
    assert any(line.startswith(RLM) for line in lines)
    html = _html(message)
    assert '<html lang="fa" dir="rtl">' in html
    assert '<body dir="rtl"' in html
    assert f'dir="ltr" style="word-break:break-all" href="{SITE_URL}/accounts/confirm-email/' in html


@pytest.mark.django_db(transaction=True)
def test_english_verification_email_is_english_left_to_right_without_marks(client):
    _signup(client, "en")

    (message,) = mail.outbox
    assert message.subject == "[Hamkar] Please Confirm Your Email Address"
    assert "Hello newbie," in message.body
    assert "Hamkar" in message.body
    assert RLM not in message.body
    _assert_links_on_site(message)
    assert '<html lang="en" dir="ltr">' in _html(message)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("page_language", "user_language"), [("en", "fa"), ("fa", "en")])
def test_password_reset_email_is_in_the_recipients_language_not_the_pages(client, page_language, user_language):
    UserFactory(email="forgot@example.com", language=user_language)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = page_language

    assert client.post(reverse("account_reset_password"), {"email": "forgot@example.com"}).status_code == 302

    (message,) = mail.outbox
    _assert_links_on_site(message)
    assert f"{SITE_URL}/accounts/password/reset/key/" in message.body
    assert _site_name(user_language) in message.subject
    if user_language == "fa":
        assert "بازیابی رمز عبور" in message.subject
        assert "درخواست بازیابی رمز عبور" in message.body
        assert '<html lang="fa" dir="rtl">' in _html(message)
    else:
        assert message.subject == "[Hamkar] Password Reset Email"
        assert "requested a password reset" in message.body
        assert '<html lang="en" dir="ltr">' in _html(message)


@pytest.mark.django_db(transaction=True)
def test_confirming_in_the_browser_that_signed_up_signs_in_and_opens_the_profile(client):
    _signup(client, "fa")
    assert "_auth_user_id" not in client.session
    path = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", mail.outbox[0].body).group(1)

    page = client.get(path)  # a GET (a mail scanner's too) only shows the button
    assert page.status_code == 200
    assert not EmailAddress.objects.get(email="new@example.com").verified
    response = client.post(path)

    user = User.objects.get(email="new@example.com")
    assert EmailAddress.objects.get(email="new@example.com").verified
    assert client.session["_auth_user_id"] == str(user.pk)
    assert response.status_code == 302
    assert response["Location"] == reverse("profile_edit")
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_confirming_in_another_browser_confirms_but_signs_nobody_in(client):
    _signup(client, "en")
    path = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", mail.outbox[0].body).group(1)
    other_device = Client()

    response = other_device.post(path)

    assert EmailAddress.objects.get(email="new@example.com").verified
    assert "_auth_user_id" not in other_device.session
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
