from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.forms import LocalizedDecimalField


class TopUpForm(forms.Form):
    amount = LocalizedDecimalField(label=_("Amount to add"), min_value=1, max_digits=14, decimal_places=0)


class WithdrawalForm(forms.Form):
    amount = LocalizedDecimalField(label=_("Amount to withdraw"), min_value=1, max_digits=14, decimal_places=0)


class SandboxCardForm(forms.Form):
    """The sandbox bank's card form: any 16 digits pass; it exists to make the page feel like a bank's."""

    card_number = forms.CharField(
        label=_("Card number"),
        max_length=19,
        initial="6037 9975 9999 9993",
        widget=forms.TextInput(attrs={"dir": "ltr", "inputmode": "numeric", "autocomplete": "cc-number"}),
    )
