"""Make the Vazirmatn subset the pages load from the full font kept as its source.

    .venv/bin/python scripts/subset_fonts.py

assets/fonts/Vazirmatn-Variable.woff2 (the font as its authors publish it, ~110 KB, with its licence beside it) is
only the source; pages load static/fonts/Vazirmatn-Variable-subset.woff2, which keeps the variable weight axis
(100–900) and the layout features Persian shaping needs, for: the Persian alphabet with the Arabic letters people
type from Arabic keyboards (ي ك ة), harakat, Persian and Arabic digits, Basic Latin, Latin-1, the punctuation of both
languages (« » ، ؛ ؟ ٫ ٬ – — … “ ”), the zero-width and direction marks, and every character our templates, the
Persian catalogue and our scripts use. Characters the font itself lacks (arrows, stars, emoji) are drawn by the
system's fonts. marketplace/tests/test_page_weight.py fails when a new string needs a glyph the subset lacks: run this
script again and commit the new subset. The SIL Open Font License (no reserved font name) allows the modified font;
static/fonts/Vazirmatn-OFL.txt goes with it.
"""

from pathlib import Path

import polib
from fontTools import subset
from fontTools.ttLib import TTFont

BASE_DIR = Path(__file__).resolve().parent.parent
SOURCE = BASE_DIR / "assets" / "fonts" / "Vazirmatn-Variable.woff2"
SUBSET = BASE_DIR / "static" / "fonts" / "Vazirmatn-Variable-subset.woff2"

BASIC_LATIN = range(0x20, 0x7F)
LATIN_1 = range(0xA0, 0x100)  # NBSP, « », ·, ×, ©, and the accented letters of names (José, Müller)
PERSIAN = [
    0x060C,  # ، Arabic comma
    0x061B,  # ؛ Arabic semicolon
    0x061F,  # ؟ Arabic question mark
    *range(0x0621, 0x063B),  # hamza … ghain (with ة, and ء أ إ ؤ ئ)
    *range(0x0640, 0x0656),  # tatweel, fa … yeh (Arabic ك ي), harakat, hamza above and below
    *range(0x0660, 0x066E),  # Arabic-Indic digits, ٪ ٫ ٬ ٭
    0x0670,  # superscript alef
    0x067E,  # پ
    0x0686,  # چ
    0x0698,  # ژ
    0x06A9,  # ک
    0x06AF,  # گ
    0x06C0,  # ۀ
    0x06CC,  # ی
    *range(0x06F0, 0x06FA),  # Persian digits
    0xFDFC,  # ﷼ rial sign
]
PUNCTUATION = [
    *range(0x200C, 0x2010),  # ZWNJ, ZWJ, LRM, RLM
    *range(0x2010, 0x2016),  # hyphens and dashes
    *range(0x2018, 0x2020),  # quotation marks
    0x2022,  # •
    0x2026,  # …
    0x2039,  # ‹
    0x203A,  # ›
    0x20AC,  # €
    0x2212,  # minus sign
]


def characters_in_use() -> set[str]:
    """Every character of our templates, of the Persian catalogue (both sides) and of our scripts."""
    texts = [path.read_text(encoding="utf-8") for path in template_files()]
    texts.append((BASE_DIR / "static" / "js" / "site.js").read_text(encoding="utf-8"))
    for catalogue in (BASE_DIR / "locale" / "fa" / "LC_MESSAGES").glob("*.po"):
        for entry in polib.pofile(str(catalogue)):
            texts += [entry.msgid, entry.msgid_plural, entry.msgstr, *entry.msgstr_plural.values()]
    return set("".join(texts))


def template_files() -> list[Path]:
    return sorted([*BASE_DIR.glob("templates/**/*.html"), *BASE_DIR.glob("*/templates/**/*.html")])


def main() -> None:
    # recalcTimestamp=False: the same source and code points give the same bytes, so a rerun changes nothing.
    font = TTFont(SOURCE, recalcTimestamp=False)
    available = set(font.getBestCmap())
    wanted = {*BASIC_LATIN, *LATIN_1, *PERSIAN, *PUNCTUATION} | {ord(char) for char in characters_in_use()}
    options = subset.Options()
    options.flavor = "woff2"
    subsetter = subset.Subsetter(options)  # the default layout features: joining forms, marks, kerning, ligatures
    subsetter.populate(unicodes=wanted & available)
    subsetter.subset(font)
    font.save(SUBSET)
    print(f"{SUBSET.relative_to(BASE_DIR)}: {len(font.getBestCmap())} characters, {SUBSET.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
