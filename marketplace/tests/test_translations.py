import os
import shutil
import subprocess
from pathlib import Path

import polib
import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
CATALOGUE = BASE_DIR / "locale" / "fa" / "LC_MESSAGES" / "django.po"


def test_persian_catalogue_has_no_untranslated_or_fuzzy_entry():
    catalogue = polib.pofile(str(CATALOGUE))
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert not untranslated, f"untranslated: {untranslated[:20]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:20]}"
    assert len(catalogue.translated_entries()) > 100


def test_persian_translations_keep_their_placeholders():
    import re

    placeholder = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")

    def found(text):
        return sorted(placeholder.findall(text))

    for entry in polib.pofile(str(CATALOGUE)).translated_entries():
        if not entry.msgid_plural:
            assert found(entry.msgid) == found(entry.msgstr), entry.msgid
            continue
        # Each plural form carries the placeholders of the English singular or plural (Persian has one form).
        english = (found(entry.msgid), found(entry.msgid_plural))
        for form in entry.msgstr_plural.values():
            assert found(form) in english, (entry.msgid, form)


def test_persian_catalogue_header_is_usable():
    """The header the .po keeps for itself: not fuzzy, UTF-8, Persian, and plural forms the entries match."""
    catalogue = polib.pofile(str(CATALOGUE))
    assert not catalogue.metadata_is_fuzzy, "the header is marked fuzzy: gettext would ignore it"
    assert catalogue.metadata.get("Language") == "fa"
    assert "charset=UTF-8" in catalogue.metadata.get("Content-Type", "")
    plural_forms = catalogue.metadata.get("Plural-Forms", "")
    assert "nplurals=" in plural_forms, "the header has no Plural-Forms"
    nplurals = int(plural_forms.split("nplurals=")[1].split(";")[0])
    for entry in catalogue:
        if entry.msgid_plural and not entry.obsolete:
            assert sorted(entry.msgstr_plural) == list(range(nplurals)), (entry.msgid, plural_forms)


def test_persian_catalogue_holds_every_string_of_the_code(tmp_path):
    """makemessages over the code adds no new entry: nobody forgot to extract and translate a string."""
    if not shutil.which("xgettext"):
        if os.environ.get("CI") or os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("GNU gettext (xgettext) is needed to check the catalogue against the code")
        pytest.skip("GNU gettext (xgettext) is not installed; cannot extract strings from the code")
    work = tmp_path / "project"
    shutil.copytree(
        BASE_DIR, work, ignore=shutil.ignore_patterns(".venv", "var", ".git", "__pycache__", "*.mo", "node_modules")
    )
    subprocess.run(
        [
            str(Path(os.sys.executable)),
            "manage.py",
            "makemessages",
            "--locale",
            "fa",
            "--no-location",
            "--ignore",
            ".venv/*",
            "--ignore",
            "var/*",
        ],
        cwd=work,
        check=True,
        capture_output=True,
        timeout=300,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "marketplace.settings"},
    )
    extracted = polib.pofile(str(work / "locale" / "fa" / "LC_MESSAGES" / "django.po"))
    missing = [entry.msgid for entry in extracted if not entry.obsolete and not entry.translated()]
    assert not missing, f"strings in the code missing from the Persian catalogue: {missing[:20]}"
