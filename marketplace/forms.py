"""Form fields shared by every app: numbers typed with Persian or Arabic-Indic digits and separators."""

from django import forms

from marketplace.l10n import normalize_number


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


class LocalizedIntegerField(_PersianNumberInputMixin, forms.IntegerField):
    widget = forms.TextInput


class LocalizedDecimalField(_PersianNumberInputMixin, forms.DecimalField):
    widget = forms.TextInput
    input_mode = "decimal"
