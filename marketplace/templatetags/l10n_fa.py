"""Template filters for the page's language: digits, grouped numbers, amounts, file sizes and Jalali dates.

Installed as a template builtin (settings.TEMPLATES), so every template can use them without {% load %}.

Direction. A Persian page holds English runs (file names, codes) and an English page Persian ones (names, titles),
so every run whose direction may differ from its sentence is isolated, and lays out whole whatever surrounds it:

- what the site writes (amounts, sizes, dates): `<bdi>…</bdi>`, or `{{ amount|bdi }}` inside {% blocktranslate %};
  in the page's digits (Persian digits and «٫» on Persian pages);
- what people wrote (names, titles, notes): `<bdi>…</bdi>` or an element with `dir="auto"`, shown as typed;
- codes shown as typed, read left to right (file names, Sheba and card numbers, hashes, bank references,
  user names, e-mail addresses): `<bdi dir="ltr">…</bdi>` or `{{ value|bdi_ltr }}`. Only these runs may show
  Latin digits on a Persian page (marketplace/tests/test_rtl.py checks the main pages).
"""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext

from marketplace import l10n
from marketplace.currency import minor_unit, round_amount

register = template.Library()

_CURRENCY_NAMES = {
    "IRT": lambda: gettext("toman"),
    "IRR": lambda: gettext("rial"),
    "USD": lambda: gettext("USD"),
    "EUR": lambda: gettext("EUR"),
}


@register.filter
def digits(value) -> str:
    """Persian digits on Persian pages: {{ count|digits }}."""
    return l10n.localize_digits(str(value))


@register.filter
def number(value, decimal_places=None) -> str:
    """Thousands separators and the page's digits: {{ 1250000|number }} → ۱٬۲۵۰٬۰۰۰."""
    if value in (None, ""):
        return ""
    try:
        return l10n.format_number(value, None if decimal_places is None else int(decimal_places))
    except (ArithmeticError, ValueError, TypeError):
        return str(value)


@register.filter
def filesize(value) -> str:
    """A file's size in bytes as the reader writes it: {{ 20787|filesize }} → '20.3 KB' / '۲۰٫۳ کیلوبایت'."""
    if value in (None, ""):
        return ""
    try:
        return l10n.format_file_size(int(value))
    except (ValueError, TypeError):
        return ""


@register.filter
def bdi(value) -> str:
    """The value, escaped, isolated in <bdi> (its direction from its own text): for use inside {% blocktranslate %}."""
    return format_html("<bdi>{}</bdi>", value)


@register.filter
def bdi_ltr(value) -> str:
    """A code shown as typed and read left to right (a file name, a Sheba number), isolated: <bdi dir="ltr">."""
    return format_html('<bdi dir="ltr">{}</bdi>', value)


@register.filter
def percent(value) -> str:
    """{{ 50|percent }} → '50%' / '۵۰٪'."""
    if value in (None, ""):
        return ""
    text = l10n.format_number(value, 0) if float(value) == int(float(value)) else l10n.format_number(value)
    return f"{text}٪" if l10n.is_persian() else f"{text}%"


@register.filter
def money(value) -> str:
    """A djmoney Money as '1,250,000 toman' / '۱٬۲۵۰٬۰۰۰ تومان', rounded to the currency's minor unit."""
    if value in (None, ""):
        return ""
    currency = str(getattr(value, "currency", "IRT"))
    amount = getattr(value, "amount", value)
    name = _CURRENCY_NAMES.get(currency, lambda: currency)()
    return f"{l10n.format_number(round_amount(amount, currency), minor_unit(currency))} {name}"


@register.filter
def year(value) -> str:
    """A Gregorian year as the reader counts: the Jalali year in Persian digits on Persian pages."""
    if value in (None, ""):
        return ""
    if l10n.is_persian():
        return l10n.to_persian_digits(str(int(value) - l10n.JALALI_YEAR_OFFSET))
    return str(value)


@register.filter
def jdate(value) -> str:
    """A date: Jalali with Persian digits on Persian pages, Gregorian on English ones."""
    return l10n.format_date(value)


@register.filter
def jdatetime(value) -> str:
    return l10n.format_date(value, with_time=True)


@register.filter
def ago(value) -> str:
    return l10n.format_timesince(value)
