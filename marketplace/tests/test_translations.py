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
    for entry in polib.pofile(str(CATALOGUE)).translated_entries():
        if entry.msgid_plural:
            continue
        assert sorted(placeholder.findall(entry.msgid)) == sorted(placeholder.findall(entry.msgstr)), entry.msgid


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
