from django import forms
from django.utils.translation import gettext_lazy as _

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
