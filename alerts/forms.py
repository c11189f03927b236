from django import forms
from django.utils.translation import gettext_lazy as _

from alerts.models import Frequency

FREQUENCY_ERRORS = {"invalid_choice": _("Choose how often to be e-mailed from the list.")}


class FrequencyForm(forms.Form):
    frequency = forms.ChoiceField(label=_("E-mail"), choices=Frequency.choices, error_messages=FREQUENCY_ERRORS)


class AlertSettingsForm(forms.Form):
    profile_skills = forms.BooleanField(
        label=_("Alert me about new projects that need one of my profile's skills"), required=False
    )
    profile_frequency = forms.ChoiceField(label=_("E-mail"), choices=Frequency.choices, error_messages=FREQUENCY_ERRORS)
