"""What pages cost a phone, apart from the browser test of the first visit (projects/tests/test_browser_weight.py):
the font is a subset that still draws every character we write, and every image has its size and loads lazily."""

import re
import unicodedata
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from fontTools.ttLib import TTFont

from accounts.services import portfolio_item_create, profile_update_basic
from accounts.tests.factories import UserFactory
from accounts.tests.images import png
from marketplace.uploads import clean_image

SUBSET = "fonts/Vazirmatn-Variable-subset.woff2"
SOURCE = settings.BASE_DIR / "assets" / "fonts" / "Vazirmatn-Variable.woff2"
# Characters we use that Vazirmatn has no glyph for at all: the system's fonts draw them, subset or not.
NOT_IN_VAZIRMATN = {"←", "→", "★", "☆", "📎", "✓"}
# Above the fold on every page: loaded at once, with its size.
EAGER_IMAGES = {"templates/partials/_header.html"}
IMG = re.compile(r"<img\b[^>]*>")


def our_templates() -> list[Path]:
    base = settings.BASE_DIR
    return sorted([*base.glob("templates/**/*.html"), *base.glob("*/templates/**/*.html")])


def characters_we_write() -> dict[str, str]:
    """Each character of our templates, site.js and the Persian catalogue (msgids and msgstrs), with one place it
    comes from."""
    texts = {str(path.relative_to(settings.BASE_DIR)): path.read_text() for path in our_templates()}
    texts["static/js/site.js"] = (settings.BASE_DIR / "static" / "js" / "site.js").read_text()
    for entry in polib.pofile(str(settings.BASE_DIR / "locale" / "fa" / "LC_MESSAGES" / "django.po")):
        for text in (entry.msgid, entry.msgid_plural, entry.msgstr, *entry.msgstr_plural.values()):
            texts[f"django.po: {entry.msgid[:40]!r}"] = text
    found = {}
    for where, text in texts.items():
        for char in text:
            if unicodedata.category(char) != "Cc":  # newlines and tabs are not drawn
                found.setdefault(char, where)
    return found


def test_subset_font_has_a_glyph_for_every_character_we_write():
    subset = set(TTFont(finders.find(SUBSET)).getBestCmap())
    used = characters_we_write()
    assert "ی" in used and "۱" in used and "‌" in used  # the scan reads the Persian catalogue (ZWNJ too)

    missing = {char: where for char, where in used.items() if ord(char) not in subset and char not in NOT_IN_VAZIRMATN}

    assert not missing, (
        "The font subset has no glyph for these characters; run `.venv/bin/python scripts/subset_fonts.py`: "
        + ", ".join(f"{char!r} (U+{ord(char):04X}, {where})" for char, where in missing.items())
    )
    assert not {ord(char) for char in NOT_IN_VAZIRMATN} & set(TTFont(SOURCE).getBestCmap())


def test_pages_load_the_subset_font_with_every_weight_and_never_the_full_one():
    font = TTFont(finders.find(SUBSET))
    (weight,) = font["fvar"].axes
    assert (weight.axisTag, weight.minValue, weight.maxValue) == ("wght", 100, 900)
    assert Path(finders.find(SUBSET)).stat().st_size < SOURCE.stat().st_size * 0.6
    assert finders.find("fonts/Vazirmatn-Variable.woff2") is None
    css = (settings.BASE_DIR / "static" / "css" / "site.css").read_text()
    assert "../fonts/Vazirmatn-Variable-subset.woff2" in css and "font-display: swap" in css
    assert f"{{% static '{SUBSET}' %}}" in (settings.BASE_DIR / "templates" / "base.html").read_text()


def img_problems(html: str, eager: bool = False) -> list[str]:
    """The <img> tags of `html` that lack width, height or (unless `eager`) loading="lazy"."""
    return [
        tag
        for tag in IMG.findall(html)
        if not re.search(r"\swidth=\S", tag)
        or not re.search(r"\sheight=\S", tag)
        or (not eager and 'loading="lazy"' not in tag)
    ]


def test_every_img_in_our_templates_has_its_size_and_loads_lazily():
    problems = {}
    for path in our_templates():
        name = str(path.relative_to(settings.BASE_DIR))
        problems[name] = img_problems(path.read_text(), eager=name in EAGER_IMAGES)
    assert sum(bool(IMG.findall(path.read_text())) for path in our_templates()) >= 3  # the scan finds our images
    assert not {name: tags for name, tags in problems.items() if tags}


@pytest.mark.django_db
def test_public_profile_images_have_their_size_and_load_lazily(client):
    user = UserFactory()
    profile_update_basic(user=user, display_name="Sara", headline="", bio="", city="", avatar=clean_image(png()))
    portfolio_item_create(
        user=user,
        title="Rug shop",
        description="",
        link="",
        images=[clean_image(png("a.png")), clean_image(png("b.png", size=(200, 300)))],
    )

    html = client.get(f"/u/{user.username}/").content.decode()

    tags = IMG.findall(html)
    logo = [tag for tag in tags if "img/logo.svg" in tag]
    assert len(tags) == 4 and len(logo) == 1  # the logo, the avatar, the portfolio cover and its other picture
    assert img_problems(logo[0], eager=True) == []
    assert img_problems("".join(tag for tag in tags if tag not in logo)) == []
