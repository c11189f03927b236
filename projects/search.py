"""Search text normalisation, the same when a project is indexed and when someone searches.

Persian is typed many ways: Arabic ي/ك or Persian ی/ک, with or without the zero-width non-joiner, with
diacritics or tatweel, with Persian, Arabic-Indic or ASCII digits. All of them become one form here.
"""

import re

from marketplace.l10n import to_ascii_digits

_CHARACTERS = str.maketrans(
    {
        "ي": "ی",
        "ى": "ی",
        "ئ": "ی",
        "ك": "ک",
        "ة": "ه",
        "ۀ": "ه",
        "أ": "ا",
        "إ": "ا",
        "ٱ": "ا",
        "ؤ": "و",
        "\u200c": "",  # zero-width non-joiner: «می‌خواهم» and «میخواهم» are one word
        "\u200d": "",
        "\u0640": "",  # tatweel
    }
)
_DIACRITICS = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed]")
_WORD = re.compile(r"\w+", re.UNICODE)


def normalize(text: str) -> str:
    text = to_ascii_digits(text or "").translate(_CHARACTERS)
    text = _DIACRITICS.sub("", text)
    return " ".join(_WORD.findall(text.lower()))


def terms(query: str) -> list[str]:
    """The words of a query, normalised, at most ten of them."""
    return normalize(query).split()[:10]


def tsquery(query: str, *, prefixes: bool = True) -> str:
    """A PostgreSQL to_tsquery() text matching every word as a prefix, or with `prefixes=False` as a whole word
    (what it matches, the prefixes match too). Only \\w characters reach it."""
    return " & ".join(f"{term}:*" if prefixes else term for term in terms(query))


def sql_literal(text: str) -> str:
    """`text` as a PostgreSQL string literal to write into a RawSQL: quotes doubled (standard_conforming_strings,
    PostgreSQL's default), and % doubled for Django's parameter formatting."""
    return "'" + text.replace("'", "''").replace("%", "%%") + "'"
