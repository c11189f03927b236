from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.forms import LocalizedDateField, LocalizedDecimalField, LocalizedIntegerField
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


class PhaseForm(forms.Form):
    title = forms.CharField(label=_("Phase title"), max_length=200, widget=forms.TextInput(attrs={"dir": "auto"}))
    scope = forms.CharField(
        label=_("Scope"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"})
    )
    due_date = LocalizedDateField(label=_("Due date"))
    amount = LocalizedDecimalField(label=_("Amount"), min_value=1, max_digits=14, decimal_places=0)


def phase_formset(*, extra: int):
    """Rows of phases. Blank extra rows are optional; the service requires at least one phase."""
    return forms.formset_factory(PhaseForm, extra=extra, max_num=20, validate_max=True)


class PhasingCommentForm(forms.Form):
    text = forms.CharField(
        label=_("Comment on the project's phasing"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
    )
