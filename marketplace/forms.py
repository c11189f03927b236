"""Form fields shared by every app: numbers typed with Persian or Arabic-Indic digits and separators."""

import datetime
import re
from decimal import Decimal

import jdatetime
from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.l10n import (
    JALALI_BEFORE,
    JALALI_YEAR_OFFSET,
    format_number,
    is_persian,
    localize_digits,
    normalize_number,
    to_ascii_digits,
    to_persian_digits,
)


class _PersianNumberInputMixin:
    """Read Persian/Arabic-Indic digits and separators, and render a text input with a numeric keyboard.

    `type="number"` inputs cannot hold Persian digits (browsers drop them), so the widget is a text input
    with `inputmode` set: phones still show a numeric keyboard.
    """

    input_mode = "numeric"

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.pop("step", None)
        attrs.pop("min", None)
        attrs.pop("max", None)
        attrs.update({"inputmode": self.input_mode, "dir": "ltr", "autocomplete": "off"})
        return attrs

    def to_python(self, value):
        if isinstance(value, str):
            value = normalize_number(value)
        return super().to_python(value)

    def prepare_value(self, value):
        """Initial values as the reader writes them: 15000000.00 → '15,000,000' or '۱۵٬۰۰۰٬۰۰۰'."""
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            whole = Decimal(value) == Decimal(value).to_integral_value()
            return format_number(value, 0 if whole else None)
        return value


class LocalizedIntegerField(_PersianNumberInputMixin, forms.IntegerField):
    widget = forms.TextInput


class LocalizedDecimalField(_PersianNumberInputMixin, forms.DecimalField):
    widget = forms.TextInput
    input_mode = "decimal"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern); cleans to a list."""

    def __init__(self, *args, max_files: int = 8, **kwargs):
        self.max_files = max_files
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > self.max_files:
            raise forms.ValidationError(
                _("Choose at most %(count)s files.") % {"count": localize_digits(str(self.max_files))}, code="too_many"
            )
        if self.required and not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleFileField, self).clean(file, initial) for file in files]


class LocalizedDateField(forms.DateField):
    """A date typed as the reader writes it: Jalali (1405/09/15) on Persian pages or Gregorian (2026-12-06),
    in any digits. A year below 1700 is read as Jalali."""

    widget = forms.TextInput

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"dir": "ltr", "inputmode": "numeric", "placeholder": _("e.g. 1405/09/30 or 2026-12-20")})
        return attrs

    def prepare_value(self, value):
        if isinstance(value, datetime.date):
            if is_persian():
                return to_persian_digits(jdatetime.date.fromgregorian(date=value).strftime("%Y/%m/%d"))
            return value.isoformat()
        return value

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.date):
            return value
        parts = re.split(r"[-/.\s]+", to_ascii_digits(str(value)).strip())
        try:
            year, month, day = (int(part) for part in parts)
            if year < JALALI_BEFORE:
                return jdatetime.date(year, month, day).togregorian()
            return datetime.date(year, month, day)
        except (ValueError, TypeError) as error:
            raise forms.ValidationError(
                _("Enter a valid date, such as 1405/09/30 or 2026-12-20."), code="invalid"
            ) from error


class LocalizedYearField(LocalizedIntegerField):
    """A year in either calendar, in any digits: 1398 (Jalali) or 2019 (Gregorian). Stored as Gregorian."""

    def to_python(self, value):
        year = super().to_python(value)
        if year is not None and year < JALALI_BEFORE:
            year += JALALI_YEAR_OFFSET
        return year


class SkillCheckboxesMixin:
    """For a form drawn with partials/_skill_checkboxes.html: the ids of the ticked skills, as strings."""

    def selected_skill_ids(self) -> set[str]:
        return {str(pk) for pk in (self["skills"].value() or [])}
