import re

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import PASSWORD, UserFactory


@pytest.mark.django_db
def test_repeated_failed_logins_are_refused_for_a_while(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/m/ip"}
    UserFactory(email="target@example.com")

    for _ in range(3):
        response = client.post(reverse("account_login"), {"login": "target@example.com", "password": "wrong"})
        assert response.status_code == 200

    # Even the right password is refused now, with a message at the form.
    response = client.post(reverse("account_login"), {"login": "target@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_rate_limits_keep_working_on_the_database_cache_when_redis_is_down(client, settings):
    """The failover cache: with Redis unreachable the limit is still counted (in the database cache)."""
    from django.core.cache import caches

    if "redis" not in settings.CACHES:
        pytest.skip("Redis is not configured; the database cache is the only cache")
    settings.CACHES = {
        **settings.CACHES,
        "redis": {**settings.CACHES["redis"], "LOCATION": "redis://127.0.0.1:1/0"},
    }
    caches["redis"].close()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "2/m/ip"}
    UserFactory(email="target@example.com")

    for _ in range(2):
        assert (
            client.post(reverse("account_login"), {"login": "target@example.com", "password": "x"}).status_code == 200
        )
    response = client.post(reverse("account_login"), {"login": "target@example.com", "password": PASSWORD})
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


# --- device cookies: strangers' failures lock out strangers, not the owner's browser -----------------------------

PRODUCTION_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
TOO_MANY = "Too many failed login attempts"


def _browser(address: str) -> Client:
    """A browser of its own, at its own address (so only the per-account count can refuse it)."""
    browser = Client(REMOTE_ADDR=address)
    browser.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return browser


def _log_in(browser: Client, email: str, password: str = PASSWORD) -> bool:
    """Try to log in; True when it worked (the browser is then logged out again), False when refused."""
    response = browser.post(reverse("account_login"), {"login": email, "password": password})
    signed_in = "_auth_user_id" in browser.session
    if signed_in:
        browser.post(reverse("account_logout"))
    else:
        assert response.status_code == 200
    return signed_in


def _attack(email: str, *, times: int = 5) -> None:
    attacker = _browser("203.0.113.66")
    for _ in range(times):
        assert not _log_in(attacker, email, "guessed-wrong")


@pytest.fixture
def owner(db, settings):
    settings.ACCOUNT_RATE_LIMITS = PRODUCTION_LIMITS
    return UserFactory(email="owner@example.com")


def test_five_failures_lock_out_every_browser_that_never_signed_in_to_the_account(owner):
    _attack("owner@example.com")

    stranger = _browser("198.51.100.7")
    response = stranger.post(reverse("account_login"), {"login": "owner@example.com", "password": PASSWORD})
    assert TOO_MANY in response.content.decode()
    assert "_auth_user_id" not in stranger.session


def test_the_owners_browser_that_signed_in_before_still_gets_in_after_an_attack(owner):
    laptop = _browser("192.0.2.10")
    assert _log_in(laptop, "OWNER@example.com")  # the cookie is for the login, whatever its case
    _attack("owner@example.com")

    assert _log_in(laptop, "owner@example.com")
    assert not _log_in(_browser("198.51.100.7"), "owner@example.com")


def test_the_device_cookie_is_signed_http_only_and_does_not_name_the_address(owner, settings):
    laptop = _browser("192.0.2.10")
    laptop.post(reverse("account_login"), {"login": "owner@example.com", "password": PASSWORD})
    cookie = laptop.cookies[settings.LOGIN_DEVICE_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == settings.LOGIN_DEVICE_COOKIE_AGE
    assert "owner" not in cookie.value


def test_a_tampered_cookie_or_one_issued_for_another_login_counts_as_an_unknown_browser(owner, settings):
    UserFactory(email="other@example.com")
    name = settings.LOGIN_DEVICE_COOKIE_NAME
    laptop = _browser("192.0.2.10")
    assert _log_in(laptop, "owner@example.com")
    genuine = laptop.cookies[name].value
    _attack("owner@example.com")

    other_accounts_browser = _browser("192.0.2.11")
    assert _log_in(other_accounts_browser, "other@example.com")
    tampered = _browser("192.0.2.12")
    digest, nonce_and_signature = genuine.split(":", 1)
    tampered.cookies[name] = f"{digest}:x{nonce_and_signature}"
    forged = _browser("192.0.2.13")
    forged.cookies[name] = f"{digest}:{'0' * 22}"

    for browser in (other_accounts_browser, tampered, forged):
        assert not _log_in(browser, "owner@example.com")
    assert _log_in(laptop, "owner@example.com")


def test_the_owners_browser_is_locked_by_its_own_five_failures_and_only_it(owner):
    laptop = _browser("192.0.2.10")
    assert _log_in(laptop, "owner@example.com")
    for _ in range(5):
        assert not _log_in(laptop, "owner@example.com", "forgot-it")

    assert not _log_in(laptop, "owner@example.com")
    assert _log_in(_browser("198.51.100.7"), "owner@example.com")


@pytest.mark.django_db(transaction=True)
def test_a_password_reset_from_the_owners_browser_lifts_the_lockout_of_unknown_browsers_too(settings):
    settings.ACCOUNT_RATE_LIMITS = PRODUCTION_LIMITS
    UserFactory(email="owner@example.com")
    laptop = _browser("192.0.2.10")
    assert _log_in(laptop, "owner@example.com")
    _attack("owner@example.com")

    laptop.post(reverse("account_reset_password"), {"email": "owner@example.com"})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[-1].body).group(1)
    form_page = laptop.get(link, follow=True)
    laptop.post(form_page.redirect_chain[-1][0], {"password1": "Brand-new-pass-77", "password2": "Brand-new-pass-77"})

    assert _log_in(_browser("198.51.100.8"), "owner@example.com", "Brand-new-pass-77")


# --- behind the proxy: the per-address limit counts the client nginx names, not nginx -------------------------


def _via_proxy(client_address: str) -> Client:
    browser = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=client_address)
    browser.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return browser


@pytest.mark.django_db
@pytest.mark.parametrize("proxies, neighbour_gets_in", [(1, True), (0, False)])
def test_behind_one_trusted_proxy_one_clients_failures_do_not_refuse_another_client(
    settings, proxies, neighbour_gets_in
):
    """Why production trusts one proxy: without it every client is the proxy's address, 127.0.0.1, to allauth."""
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/m/ip"}
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = proxies
    UserFactory(email="target@example.com")
    UserFactory(email="neighbour@example.com")
    guesser = _via_proxy("203.0.113.66")
    for _ in range(3):
        assert not _log_in(guesser, "target@example.com", "wrong")

    assert not _log_in(guesser, "neighbour@example.com")
    assert _log_in(_via_proxy("198.51.100.7"), "neighbour@example.com") is neighbour_gets_in
