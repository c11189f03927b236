from django import forms
from django.utils.translation import gettext_lazy as _

from invitations.models import Invitation


class InvitationForm(forms.Form):
    project = forms.ModelChoiceField(
        label=_("Project"),
        queryset=None,
        empty_label=None,
        error_messages={"invalid_choice": _("Choose one of your projects that are open for proposals.")},
    )
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=Invitation.NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "dir": "auto"}),
        help_text=_("Why you thought of them for this project: it is shown with the invitation."),
    )

    def __init__(self, *args, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=Invitation.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
    )
