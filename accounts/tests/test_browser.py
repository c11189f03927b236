"""In a real browser (the system Chromium, through Playwright), as a visitor would do it."""

import re
import time

import pytest
from django.core import mail

from accounts.services import user_create
from accounts.tests.factories import PASSWORD

pytestmark = pytest.mark.browser

TEXT = {
    "en": {"confirm_title": "Confirm Email Address", "site_admin": "Site administration", "login": "Log in"},
    "fa": {"confirm_title": "تأیید نشانی ایمیل", "site_admin": "مدیریت سایت", "login": "ورود"},
}


def _use_language(page, site, language):
    page.context.add_cookies([{"name": "django_language", "value": language, "url": site}])


def _wait_for_mail(to: str, timeout: float = 15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in mail.outbox:
            if to in message.to:
                return message
        time.sleep(0.1)
    raise AssertionError(f"no e-mail to {to} within {timeout}s")


def _assert_direction(page, language):
    html = page.locator("html")
    assert html.get_attribute("lang") == language
    assert html.get_attribute("dir") == ("rtl" if language == "fa" else "ltr")


@pytest.mark.parametrize("language", ["en", "fa"])
def test_sign_up_verify_log_in_and_log_out(page, site, language):
    email = f"browser-{language}@example.com"
    _use_language(page, site, language)

    page.goto(site + "/")
    _assert_direction(page, language)
    page.click("header a[href='/accounts/signup/']")
    page.fill("input[name=email]", email)
    page.fill("input[name=username]", f"browser_{language}")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("form.form-entrance button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/confirm-email/$"))
    _assert_direction(page, language)

    message = _wait_for_mail(email)
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", message.body).group(0)
    page.goto(link)
    assert TEXT[language]["confirm_title"] in page.content()
    page.click("main form button[type=submit]")
    # Confirming in the browser that signed up signs the person in, on the profile they are to fill in.
    page.wait_for_url(re.compile(r"/profile/edit/$"))
    page.click(".account-menu summary")
    assert page.locator(".dropdown-head").inner_text() == email
    page.click("[data-testid=logout]")
    page.wait_for_load_state()

    page.goto(site + "/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form-entrance button[type=submit]")
    page.wait_for_url(site + "/")
    page.click(".account-menu summary")
    assert page.locator(".dropdown-head").inner_text() == email

    page.click("[data-testid=logout]")
    page.wait_for_load_state()
    assert page.locator("header a[href='/accounts/login/']").inner_text() == TEXT[language]["login"]
    assert page.locator(".account-menu").count() == 0


def test_persian_pages_are_right_to_left_with_persian_digits(page, site):
    _use_language(page, site, "fa")
    page.goto(site + "/")
    _assert_direction(page, "fa")

    # The layout really mirrors: the brand sits at the right, the account buttons at the left.
    brand = page.locator(".brand").bounding_box()
    signup = page.locator("header a[href='/accounts/signup/']").bounding_box()
    assert brand["x"] > signup["x"]
    facts = page.locator(".hero-facts").inner_text()
    assert "۵۰٪" in facts and "۱۰٪" in facts
    assert not re.search(r"[0-9]", facts)
    # Our own web font, from our own static files, is the one in use.
    assert page.evaluate("document.fonts.check('16px Vazirmatn')")
    assert page.evaluate("getComputedStyle(document.body).fontFamily").strip('"').startswith("Vazirmatn")


def test_language_switch_changes_the_page_and_is_remembered(page, site):
    _use_language(page, site, "en")
    page.goto(site + "/projects/")
    page.click("[data-testid=language-switch]")
    page.wait_for_url(site + "/projects/")
    _assert_direction(page, "fa")
    page.goto(site + "/")
    _assert_direction(page, "fa")
    page.click("[data-testid=language-switch]")
    page.wait_for_load_state()
    _assert_direction(page, "en")


@pytest.mark.parametrize("language", ["en", "fa"])
def test_staff_log_in_to_the_admin(page, site, language):
    user_create(email="staff@example.com", username="staff", password=PASSWORD, is_staff=True, email_verified=True)
    _use_language(page, site, language)

    page.goto(site + "/admin/")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.fill("input[name=login]", "staff@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form-entrance button[type=submit]")
    page.wait_for_url(site + "/admin/")
    assert TEXT[language]["site_admin"] in page.content()
    assert page.locator("a[href='/admin/accounts/user/']").count() >= 1


def test_unknown_page_shows_the_styled_404(page, site):
    _use_language(page, site, "fa")
    response = page.goto(site + "/no-such-page/")
    assert response.status == 404
    assert page.locator(".error-code").inner_text() == "۴۰۴"
    assert page.locator(".site-header").is_visible()


def test_mobile_menu_opens(page, site):
    page.set_viewport_size({"width": 390, "height": 800})
    _use_language(page, site, "en")
    page.goto(site + "/")
    assert not page.locator(".nav-links").is_visible()
    page.click("[data-nav-toggle]")
    assert page.locator(".nav-links").is_visible()
