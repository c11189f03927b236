from django import forms
from django.utils.translation import gettext_lazy as _

STARS = [(n, str(n)) for n in range(5, 0, -1)]


def _stars(label, required=True):
    return forms.TypedChoiceField(label=label, choices=STARS, coerce=int, required=required, widget=forms.RadioSelect)


class ReviewForm(forms.Form):
    rating = _stars(_("Overall rating"))
    comment = forms.CharField(
        label=_("Comment"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"})
    )


class FreelancerReviewForm(ReviewForm):
    """The employer reviews the freelancer."""

    quality = _stars(_("Quality of work"), required=False)
    communication = _stars(_("Communication"), required=False)
    on_time = _stars(_("On time"), required=False)
    field_order = ["rating", "quality", "communication", "on_time", "comment"]


class EmployerReviewForm(ReviewForm):
    """The freelancer reviews the employer."""

    clarity = _stars(_("Clear requirements"), required=False)
    payment = _stars(_("Prompt payment"), required=False)
    field_order = ["rating", "clarity", "payment", "comment"]


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("Your reply"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
