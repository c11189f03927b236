import datetime
from decimal import Decimal

import pytest
from django import forms
from django.template import Context, Template
from django.utils import timezone, translation

from marketplace import l10n
from marketplace.forms import LocalizedDecimalField, LocalizedIntegerField


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("۱۲۳۴۵", "12345"),
        ("١٢٣٤٥", "12345"),
        ("۱۲٬۵۰۰٫۷۵", "12500.75"),
        ("١٢٬٥٠٠٫٧٥", "12500.75"),
        ("12,500.75", "12500.75"),
        ("۲۰ ۰۰۰ ۰۰۰", "20000000"),
        ("۳/۵", "3.5"),
        ("\u200f۵۰۰\u200e", "500"),
        ("−۴۲", "-42"),
        ("۱۲a", "12a"),
    ],
)
def test_normalize_number_reads_what_persian_keyboards_type(typed, expected):
    assert l10n.normalize_number(typed) == expected


class AmountForm(forms.Form):
    count = LocalizedIntegerField(min_value=1)
    amount = LocalizedDecimalField(max_digits=14, decimal_places=2)


@pytest.mark.parametrize(
    ("count", "amount", "expected_count", "expected_amount"),
    [
        ("۱۲", "۱۲٬۵۰۰٫۵۰", 12, Decimal("12500.50")),
        ("٣", "٢٠٬٠٠٠", 3, Decimal("20000")),
        ("7", "1,250,000", 7, Decimal("1250000")),
    ],
)
def test_numeric_form_fields_accept_persian_and_arabic_digits(count, amount, expected_count, expected_amount):
    form = AmountForm(data={"count": count, "amount": amount})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"count": expected_count, "amount": expected_amount}


def test_numeric_form_fields_reject_garbage_with_a_message():
    with translation.override("en"):
        form = AmountForm(data={"count": "۱۲x", "amount": "abc"})
        assert not form.is_valid()
        assert form.errors["count"] == ["Enter a whole number."]
        assert form.errors["amount"] == ["Enter a number."]


def test_numeric_inputs_are_text_inputs_with_a_numeric_keyboard():
    html = str(AmountForm()["amount"])
    assert 'type="text"' in html
    assert 'inputmode="decimal"' in html


def test_numbers_get_thousands_separators_and_the_pages_digits():
    with translation.override("en"):
        assert l10n.format_number(20000000) == "20,000,000"
        assert l10n.format_number(Decimal("1234.5"), 2) == "1,234.50"
        assert l10n.format_number(-1500) == "-1,500"
    with translation.override("fa"):
        assert l10n.format_number(20000000) == "۲۰٬۰۰۰٬۰۰۰"
        assert l10n.format_number(Decimal("1234.5"), 2) == "۱٬۲۳۴٫۵۰"


def test_dates_are_jalali_with_persian_digits_in_persian():
    day = datetime.date(2026, 11, 22)
    with translation.override("fa"):
        assert l10n.format_date(day) == "۱ آذر ۱۴۰۵"
    with translation.override("en"):
        assert l10n.format_date(day) == "22 November 2026"


def test_aware_datetimes_are_shown_in_tehran_time():
    moment = datetime.datetime(2026, 3, 20, 21, 0, tzinfo=datetime.UTC)  # 00:30 on 1 Farvardin 1405 in Tehran
    with translation.override("fa"), timezone.override("Asia/Tehran"):
        assert l10n.format_date(moment, with_time=True) == "۱ فروردین ۱۴۰۵، ساعت ۰۰:۳۰"


def _render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_template_filters_follow_the_active_language():
    from djmoney.money import Money

    source = "{{ amount|money }} | {{ count|digits }} | {{ rate|percent }} | {{ day|jdate }}"
    context = {"amount": Money(20000000, "IRT"), "count": 42, "rate": 10, "day": datetime.date(2026, 11, 22)}
    with translation.override("fa"):
        assert _render(source, **context) == "۲۰٬۰۰۰٬۰۰۰ تومان | ۴۲ | ۱۰٪ | ۱ آذر ۱۴۰۵"
    with translation.override("en"):
        assert _render(source, **context) == "20,000,000 toman | 42 | 10% | 22 November 2026"


def test_money_is_rounded_to_the_currencys_minor_unit():
    from djmoney.money import Money

    with translation.override("en"):
        assert _render("{{ m|money }}", m=Money("10.005", "USD")) == "10.01 USD"
        assert _render("{{ m|money }}", m=Money("1500.6", "IRT")) == "1,501 toman"


def test_numeric_fields_show_initial_values_grouped_in_the_pages_digits():
    form = AmountForm(initial={"count": 1500, "amount": Decimal("15000000.00")})
    with translation.override("fa"):
        assert 'value="۱۵٬۰۰۰٬۰۰۰"' in str(form["amount"])
        assert 'value="۱٬۵۰۰"' in str(form["count"])
    with translation.override("en"):
        assert 'value="15,000,000"' in str(form["amount"])
        bound = AmountForm(data={"count": "1,500", "amount": "15,000,000"})
        assert bound.is_valid() and bound.cleaned_data["amount"] == Decimal("15000000")
