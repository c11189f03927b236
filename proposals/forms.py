from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.forms import LocalizedDecimalField, LocalizedIntegerField
from proposals.models import Message
from proposals.services import MAX_DELIVERY_DAYS, MAX_PROPOSAL_AMOUNT


class ProposalForm(forms.Form):
    amount = LocalizedDecimalField(
        label=_("Your price"), min_value=1, max_value=MAX_PROPOSAL_AMOUNT, max_digits=14, decimal_places=2
    )
    delivery_days = LocalizedIntegerField(label=_("Delivery time (days)"), min_value=1, max_value=MAX_DELIVERY_DAYS)
    cover_letter = forms.CharField(
        label=_("Cover letter"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6, "dir": "auto"}),
        help_text=_("How you would do the work, and why you are the right person for it."),
    )

    def clean_cover_letter(self):
        letter = self.cleaned_data["cover_letter"].strip()
        if len(letter) < 20:
            raise forms.ValidationError(_("Write at least 20 characters."), code="short")
        return letter


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Message"),
        required=False,
        max_length=Message.MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto", "placeholder": _("Write a message…")}),
    )
    attachment = forms.FileField(label=_("Attach a file"), required=False)

    def clean(self):
        data = super().clean()
        if not (data.get("body") or "").strip() and not data.get("attachment") and not self.errors:
            raise forms.ValidationError(_("Write a message or attach a file."), code="empty")
        return data
