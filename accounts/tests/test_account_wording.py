"""One voice on the account pages: every string of allauth's account app (its code, pages, e-mails) and of Django's
password rules is translated in our catalogue, ours is the one Django uses, and the Persian pages read formal
(«ایمیل», «رمز عبور», «کنید»), not allauth's own colloquial Persian («رایانامه», «گذرواژه», «یه حساب نساختی»)."""

import re
from pathlib import Path

import allauth
import polib
import pytest
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from accounts.allauth_strings import ALLAUTH_PARTS, DJANGO_PASSWORD_STRINGS
from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory

OURS = Path(settings.BASE_DIR) / "locale" / "fa" / "LC_MESSAGES" / "django.po"
ALLAUTH_FA = Path(allauth.__file__).parent / "locale" / "fa" / "LC_MESSAGES" / "django.po"
# allauth's words and its second-person colloquial forms; «یه» only as a word of its own (not «پایه», «تسویه»).
COLLOQUIAL = {
    "رایانامه": re.compile("رایانامه"),
    "گذرواژه": re.compile("گذرواژه"),
    "یه": re.compile(r"(?<![\w\u200c])یه(?![\w\u200c])"),
    "نساختی": re.compile("نساختی"),
}


def _colloquial(text: str) -> list[str]:
    return [word for word, pattern in COLLOQUIAL.items() if pattern.search(text)]


def _allauth_entries_we_use():
    return [
        entry
        for entry in polib.pofile(str(ALLAUTH_FA))
        if not entry.obsolete and any(path.startswith(ALLAUTH_PARTS) for path, _line in entry.occurrences)
    ]


def _ours():
    return {(entry.msgctxt, entry.msgid): entry for entry in polib.pofile(str(OURS)) if not entry.obsolete}


def _visible_text(html: str) -> str:
    """What a reader sees of a page: its text and its placeholders, not its markup."""
    placeholders = " ".join(re.findall(r'placeholder="([^"]*)"', html))
    return re.sub(r"<[^>]+>", " ", html) + " " + placeholders


def test_every_string_of_allauths_account_app_is_translated_in_our_catalogue():
    entries = _allauth_entries_we_use()
    ours = _ours()
    assert len(entries) > 150  # the selection found allauth's account strings at all
    missing = [e.msgid for e in entries if (e.msgctxt, e.msgid) not in ours]
    untranslated = [
        e.msgid for e in entries if (e.msgctxt, e.msgid) in ours and not _translated(ours[(e.msgctxt, e.msgid)])
    ]
    assert not missing, f"allauth strings missing from locale/fa (scripts/allauth_strings.py): {missing[:10]}"
    assert not untranslated, f"allauth strings untranslated or fuzzy in locale/fa: {untranslated[:10]}"


def test_djangos_password_rules_are_translated_in_our_catalogue():
    ours = _ours()
    for msgid in DJANGO_PASSWORD_STRINGS:
        assert _translated(ours.get((None, msgid))), msgid


def _translated(entry) -> bool:
    return entry is not None and entry.translated() and "fuzzy" not in entry.flags


def test_our_translation_is_the_one_django_uses():
    """LOCALE_PATHS come before the apps' catalogues: gettext gives our wording, not allauth's."""
    ours = _ours()
    with translation.override("fa"):
        for entry in _allauth_entries_we_use():
            expected = ours[(entry.msgctxt, entry.msgid)].msgstr
            got = (
                translation.pgettext(entry.msgctxt, entry.msgid) if entry.msgctxt else translation.gettext(entry.msgid)
            )
            assert got == expected, entry.msgid


def test_no_persian_string_of_ours_uses_the_colloquial_words():
    offending = [
        entry.msgid
        for entry in polib.pofile(str(OURS))
        if any(_colloquial(text) for text in [entry.msgstr, *entry.msgstr_plural.values()])
    ]
    assert not offending, offending


def test_djangos_password_rules_speak_formal_persian():
    user = User(username="sara", email="sara@example.com")
    with translation.override("fa"):
        help_text = str(password_validation.password_validators_help_text_html())  # lazy: render it in Persian
        with pytest.raises(ValidationError) as raised:
            password_validation.validate_password("12345678", user=user)
    errors = " ".join(raised.value.messages)
    assert "رمز عبور" in help_text
    assert "رمز عبور" in errors
    assert not _colloquial(help_text + errors)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["account_login", "account_signup"])
def test_persian_login_and_signup_pages_read_formal(client, name):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"
    page = _visible_text(client.get(reverse(name)).content.decode())
    assert not _colloquial(page)
    assert "ایمیل" in page
    assert "رمز عبور" in page


def _key_pages(user):
    confirmation = EmailConfirmationHMAC(EmailAddress.objects.get(user=user))
    token = default_token_generator.make_token(user)
    return [
        reverse("account_confirm_email", args=[confirmation.key]),
        reverse("account_reset_password_from_key", kwargs={"uidb36": user_pk_to_url_str(user), "key": token}),
    ]


@pytest.mark.django_db
def test_every_persian_account_page_reads_formal(client):
    stranger_pages = [
        "account_login",
        "account_signup",
        "account_reset_password",
        "account_reset_password_done",
        "account_email_verification_sent",
        "account_inactive",
        "account_reset_password_from_key_done",
    ]
    member_pages = ["account_email", "account_change_password", "account_logout", "account_reauthenticate"]
    user = UserFactory(email_verified=False)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"
    seen = {}
    for path in [reverse(name) for name in stranger_pages] + _key_pages(user):
        seen[path] = client.get(path, follow=True)
    client.force_login(user)
    for name in member_pages:
        seen[reverse(name)] = client.get(reverse(name), follow=True)
    for path, response in seen.items():
        assert response.status_code == 200, path
        page = _visible_text(response.content.decode())
        assert not _colloquial(page), path


@pytest.mark.django_db
def test_persian_form_errors_read_formal(client):
    UserFactory(email="someone@example.com")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"
    failed_login = client.post(reverse("account_login"), {"login": "someone@example.com", "password": "wrong-one"})
    signup = {"email": "new@example.com", "username": "newbie"}
    common = client.post(reverse("account_signup"), {**signup, "password1": "12345678", "password2": "12345678"})
    mismatch = client.post(reverse("account_signup"), {**signup, "password1": PASSWORD, "password2": "Other-pass-77"})
    login_page, signup_page = (_visible_text(r.content.decode()) for r in (failed_login, common))
    mismatch_page = _visible_text(mismatch.content.decode())
    assert "نشانی ایمیل یا رمز عبور واردشده درست نیست." in login_page
    assert "این رمز عبور بیش از حد رایج است." in signup_page
    assert "رمز عبور و تکرار آن باید یکسان باشند." in mismatch_page
    assert not _colloquial(login_page + signup_page + mismatch_page)
