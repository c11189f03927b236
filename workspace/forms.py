from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.forms import LocalizedDateField, LocalizedDecimalField
from workspace.models import Dispute


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("The work, as one zip file"), widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"})
    )
    note = forms.CharField(label=_("Note (optional)"), max_length=500, required=False)


class DisputeForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=Dispute.Reason.choices)
    description = forms.CharField(
        label=_("What should be fixed?"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4, "dir": "auto"})
    )
    attachment = forms.FileField(label=_("Attach a file (optional)"), required=False)


class DisputeAnswerForm(forms.Form):
    message = forms.CharField(
        label=_("Your answer"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"})
    )


class RevisionForm(forms.Form):
    note = forms.CharField(
        label=_("What should change?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4, "dir": "auto"})
    )


class SideDisputeForm(DisputeForm):
    """The dispute form with the reasons of the side who opens it."""

    def __init__(self, *args, reasons=(), **kwargs):
        super().__init__(*args, **kwargs)
        if reasons:
            self.fields["reason"].choices = [(r, Dispute.Reason(r).label) for r in reasons]


class LateCancelForm(forms.Form):
    description = forms.CharField(
        label=_("Why cancel?"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"})
    )


class OfferForm(forms.Form):
    to_freelancer = LocalizedDecimalField(
        label=_("Amount to the freelancer"), min_value=0, max_digits=14, decimal_places=2,
        help_text=_("The rest of what is in secure payment goes back to the employer."),
    )  # fmt: skip
    note = forms.CharField(
        label=_("Message (optional)"), max_length=2000, required=False,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
    )  # fmt: skip


class PartialReleaseForm(forms.Form):
    amount = LocalizedDecimalField(label=_("Amount to release now"), min_value=0, max_digits=14, decimal_places=2)
    token = forms.CharField(widget=forms.HiddenInput, max_length=32)


class BonusForm(forms.Form):
    amount = LocalizedDecimalField(label=_("Bonus amount"), min_value=0, max_digits=14, decimal_places=2)
    note = forms.CharField(label=_("Message (optional)"), max_length=255, required=False)
    token = forms.CharField(widget=forms.HiddenInput, max_length=32)


class ChangeForm(forms.Form):
    """A new milestone (title, amount and due date required), or a milestone's new values (each optional)."""

    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    scope = forms.CharField(
        label=_("Scope"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"})
    )
    amount = LocalizedDecimalField(label=_("Amount"), min_value=1, max_digits=14, decimal_places=2, required=False)
    due_date = LocalizedDateField(label=_("Due date"), required=False)
    note = forms.CharField(
        label=_("Why (optional)"), max_length=2000, required=False,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
    )  # fmt: skip
