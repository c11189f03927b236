"""Persian and English presentation of numbers and dates, and reading numbers as Persian keyboards type them.

Nothing here knows about the marketplace's domain: these are the rules every page and form share.
"""

import datetime
from decimal import Decimal

import jdatetime
from django.utils import timezone
from django.utils.translation import get_language, gettext, ngettext

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_INDIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
_TO_ASCII = str.maketrans(PERSIAN_DIGITS + ARABIC_INDIC_DIGITS, "0123456789" * 2)
_TO_PERSIAN = str.maketrans("0123456789", PERSIAN_DIGITS)

# What people type between groups of digits: ASCII comma, Arabic thousands separator (U+066C), Arabic comma
# (U+060C, on the Persian keyboard's comma key), apostrophe-like marks, and every kind of space.
THOUSANDS_SEPARATORS = ",\u066c\u060c'\u2019 \u00a0\u202f\u2009\u200c"
# The decimal point: ASCII dot, Arabic decimal separator (U+066B), and the slash that Persian writers often use.
DECIMAL_SEPARATORS = ".\u066b/"
PERSIAN_THOUSANDS_SEPARATOR = "\u066c"
PERSIAN_DECIMAL_SEPARATOR = "\u066b"
JALALI_YEAR_OFFSET = 621  # a Jalali year starts in March of (Jalali + 621); close enough for a résumé year
JALALI_BEFORE = 1700  # a year typed below this is a Jalali one (1405), at or above it a Gregorian one (2026)


def is_persian() -> bool:
    return (get_language() or "").split("-")[0] == "fa"


def to_ascii_digits(text: str) -> str:
    return text.translate(_TO_ASCII)


def to_persian_digits(text: str) -> str:
    return text.translate(_TO_PERSIAN)


def localize_digits(text: str) -> str:
    """Persian digits when the page is Persian, the text unchanged otherwise."""
    return to_persian_digits(text) if is_persian() else text


def normalize_number(text: str) -> str:
    """Turn a number as typed (any digits, any separators, bidi marks) into the plain ASCII form Python parses.

    '۱۲٬۵۰۰٫۷۵' → '12500.75'; '-٣,٠٠٠' → '-3000'. Anything that is not a number stays recognisably wrong
    (letters are kept), so the field's own validation still rejects it with its usual message.
    """
    text = to_ascii_digits(text.strip())
    text = "".join(ch for ch in text if ch not in "\u200e\u200f\u061c\u202a\u202b\u202c")
    text = text.replace("\u2212", "-")  # the typographic minus sign
    for separator in THOUSANDS_SEPARATORS:
        text = text.replace(separator, "")
    for separator in DECIMAL_SEPARATORS:
        text = text.replace(separator, ".")
    return text


def format_number(value: int | Decimal | float | str, decimal_places: int | None = None) -> str:
    """Group thousands and use the page's digits: 1234567 → '1,234,567' or '۱٬۲۳۴٬۵۶۷'."""
    number = Decimal(str(value))
    if decimal_places is not None:
        number = number.quantize(Decimal(1).scaleb(-decimal_places))
    sign = "-" if number < 0 else ""
    whole, _, fraction = f"{abs(number):f}".partition(".")
    grouped = f"{int(whole):,}"
    if is_persian():
        grouped = to_persian_digits(grouped.replace(",", PERSIAN_THOUSANDS_SEPARATOR))
        fraction = to_persian_digits(fraction)
        point = PERSIAN_DECIMAL_SEPARATOR
    else:
        point = "."
    return f"{sign}{grouped}{point}{fraction}" if fraction else f"{sign}{grouped}"


_FILE_SIZE_UNITS = (
    (1024**3, lambda size: gettext("%(size)s GB") % {"size": size}),
    (1024**2, lambda size: gettext("%(size)s MB") % {"size": size}),
    (1024, lambda size: gettext("%(size)s KB") % {"size": size}),
)


def format_file_size(size: int) -> str:
    """A file's size as the reader writes it: 20787 → '20.3 KB' / '۲۰٫۳ کیلوبایت', 593 → '593 bytes' / '۵۹۳ بایت'.

    Units of 1024, one decimal place (none when it is .0), the page's digits and decimal separator; the number and
    its unit are joined by a no-break space, so a line never breaks between them.
    """
    size = max(int(size or 0), 0)
    for unit, label in _FILE_SIZE_UNITS:
        if size >= unit:
            scaled = (Decimal(size) / unit).quantize(Decimal("0.1"))
            text = label(format_number(scaled, 0 if scaled == scaled.to_integral_value() else 1))
            break
    else:
        text = ngettext("%(size)s byte", "%(size)s bytes", size) % {"size": format_number(size)}
    return text.replace(" ", "\u00a0")


def _as_local(value: datetime.date | datetime.datetime) -> datetime.date | datetime.datetime:
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


def format_date(value: datetime.date | datetime.datetime | None, with_time: bool = False) -> str:
    """A date as a reader of the page expects it: Jalali with Persian digits in Persian, Gregorian in English."""
    if value is None:
        return ""
    value = _as_local(value)
    if is_persian():
        if isinstance(value, datetime.datetime):
            jalali = jdatetime.datetime.fromgregorian(datetime=value, locale="fa_IR")
            text = jalali.strftime("%-d %B %Y، ساعت %H:%M" if with_time else "%-d %B %Y")
        else:
            text = jdatetime.date.fromgregorian(date=value, locale="fa_IR").strftime("%-d %B %Y")
        return to_persian_digits(text)
    if isinstance(value, datetime.datetime) and with_time:
        return value.strftime("%-d %B %Y, %H:%M")
    return value.strftime("%-d %B %Y")


def format_timesince(value: datetime.datetime | None) -> str:
    """'3 days ago' / '۳ روز پیش', from Django's own translated timesince."""
    if value is None:
        return ""
    from django.utils import timezone
    from django.utils.timesince import timesince

    if abs((timezone.now() - value).total_seconds()) < 60:
        return gettext("just now")
    return localize_digits(gettext("%(time)s ago") % {"time": timesince(value, depth=1)})
