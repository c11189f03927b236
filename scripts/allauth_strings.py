"""Write accounts/allauth_strings.py: every string of the parts of django-allauth we use, read from allauth's own
Persian catalogue, so that `make messages` keeps them in ours (where our formal Persian wins over allauth's).

Run it after upgrading django-allauth, then `make messages` and translate what came back new or fuzzy:

    .venv/bin/python scripts/allauth_strings.py && .venv/bin/ruff format accounts/allauth_strings.py

accounts/tests/test_account_wording.py fails while a string of those parts is missing or untranslated.
"""

from pathlib import Path

import allauth
import polib

BASE_DIR = Path(__file__).resolve().parents[1]
# Where a string is used, as allauth's catalogue says ("#:" lines): the account app's code, its page and e-mail
# templates, and the elements and layouts its pages are built from.
ALLAUTH_PARTS = ("account/", "templates/account/", "templates/allauth/")
MODULE = BASE_DIR / "accounts" / "allauth_strings.py"
HEADER = '''"""The strings of the parts of django-allauth we use (the account app's code, its pages and e-mails) and of
Django's password rules, listed so that `make messages` keeps them in locale/fa: our formal Persian («ایمیل»,
«رمز عبور», «کنید») then wins over the packages' own catalogues, as LOCALE_PATHS come first.

Written by scripts/allauth_strings.py from allauth's Persian catalogue (the Django part by hand); the site never
imports it. accounts/tests/test_account_wording.py fails while one of these is missing or untranslated.
"""

from django.utils.translation import gettext_noop, pgettext_lazy

# Where a string is used in allauth's catalogue ("#:" lines), for the strings that are ours to translate.
ALLAUTH_PARTS = {parts!r}

# The messages and help texts of the validators in settings.AUTH_PASSWORD_VALIDATORS that come from Django.
DJANGO_PASSWORD_STRINGS = (
    gettext_noop("The password is too similar to the %(verbose_name)s."),
    gettext_noop("Your password can’t be too similar to your other personal information."),
    gettext_noop("This password is too common."),
    gettext_noop("Your password can’t be a commonly used password."),
    gettext_noop("This password is entirely numeric."),
    gettext_noop("Your password can’t be entirely numeric."),
)

ALLAUTH_STRINGS = (
'''


def allauth_entries(parts=ALLAUTH_PARTS):
    catalogue = polib.pofile(str(Path(allauth.__file__).parent / "locale" / "fa" / "LC_MESSAGES" / "django.po"))
    return [
        entry
        for entry in catalogue
        if not entry.obsolete and any(path.startswith(parts) for path, _line in entry.occurrences)
    ]


def main() -> None:
    lines = [HEADER.format(parts=ALLAUTH_PARTS)]
    for entry in allauth_entries():
        if entry.msgctxt:
            lines.append(f"    pgettext_lazy({entry.msgctxt!r}, {entry.msgid!r}),\n")
        else:
            lines.append(f"    gettext_noop({entry.msgid!r}),\n")
    lines.append(")\n")
    MODULE.write_text("".join(lines), encoding="utf-8")
    print(f"Wrote {MODULE.relative_to(BASE_DIR)}")


if __name__ == "__main__":
    main()
