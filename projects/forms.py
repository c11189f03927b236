from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplace.forms import (
    LocalizedDateField,
    LocalizedDecimalField,
    LocalizedIntegerField,
    MultipleFileField,
    SkillCheckboxesMixin,
)
from marketplace.uploads import with_size_limit
from projects.models import Category, Project, Skill
from projects.selectors import SORTS, ProjectFilters
from projects.services import MAX_ATTACHMENTS

MAX_PROJECT_SKILLS = 10
MAX_BUDGET = 10**12


class SkillChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, skill):
        return skill.name


class ProjectForm(SkillCheckboxesMixin, forms.ModelForm):
    budget_min = LocalizedDecimalField(label=_("Minimum budget"), min_value=1, max_value=MAX_BUDGET, decimal_places=2)
    budget_max = LocalizedDecimalField(label=_("Maximum budget"), min_value=1, max_value=MAX_BUDGET, decimal_places=2)
    deadline = LocalizedDateField(label=_("Deadline"), required=False)
    duration_days = LocalizedIntegerField(label=_("Or: duration in days"), required=False, min_value=1, max_value=365)
    skills = SkillChoiceField(
        label=_("Skills"),
        queryset=Skill.objects.all(),
        help_text=_("Choose between 1 and 10 skills the work needs."),
    )
    attachments = MultipleFileField(
        label=_("Attachments"),
        max_files=MAX_ATTACHMENTS,
        help_text=with_size_limit(
            _("Optional: up to 5 files (PDF, images, ZIP, office documents), %(size)s each."),
            "UPLOAD_DOCUMENT_MAX_BYTES",
        ),
    )

    class Meta:
        model = Project
        fields = [
            "title",
            "description",
            "category",
            "skills",
            "currency",
            "budget_min",
            "budget_max",
            "deadline",
            "duration_days",
            "kind",
        ]
        widgets = {
            "title": forms.TextInput(attrs={"dir": "auto"}),
            "description": forms.Textarea(attrs={"rows": 10, "dir": "auto"}),
            "kind": forms.RadioSelect,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].label_from_instance = lambda category: category.name
        self.fields["category"].queryset = Category.objects.all()
        self.fields["category"].empty_label = _("Choose a category")
        self.fields["currency"].initial = settings.DEFAULT_CURRENCY
        self.fields["title"].widget.attrs["placeholder"] = _("e.g. An online shop for handmade rugs")

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        if len(title) < 5:
            raise forms.ValidationError(_("Write a title of at least 5 characters."), code="short")
        return title

    def clean_description(self):
        description = self.cleaned_data["description"].strip()
        if len(description) < 20:
            raise forms.ValidationError(_("Describe the work in at least 20 characters."), code="short")
        return description

    def clean_skills(self):
        skills = self.cleaned_data["skills"]
        if len(skills) > MAX_PROJECT_SKILLS:
            raise forms.ValidationError(_("Choose at most 10 skills."), code="too_many")
        return skills

    def clean_deadline(self):
        deadline = self.cleaned_data["deadline"]
        if deadline and deadline <= timezone.localdate():
            raise forms.ValidationError(_("The deadline must be in the future."), code="past")
        return deadline

    def clean(self):
        data = super().clean()
        low, high = data.get("budget_min"), data.get("budget_max")
        if low is not None and high is not None and low > high:
            self.add_error("budget_max", _("The maximum budget cannot be less than the minimum."))
        if not data.get("deadline") and not data.get("duration_days") and not self.has_error("deadline"):
            self.add_error("duration_days", _("Give a deadline or a duration in days."))
        if data.get("deadline") and data.get("duration_days"):
            self.add_error("duration_days", _("Give a deadline or a duration, not both."))
        return data


class ProjectSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.all(), required=False)
    skills = forms.ModelMultipleChoiceField(
        label=_("Skills"), queryset=Skill.objects.all(), required=False, to_field_name="slug"
    )
    budget_min = LocalizedDecimalField(label=_("Budget from"), required=False, min_value=0, max_value=MAX_BUDGET)
    budget_max = LocalizedDecimalField(label=_("Budget to"), required=False, min_value=0, max_value=MAX_BUDGET)
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("Any kind")), *Project.Kind.choices], required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("newest", _("Newest")),
            ("budget_high", _("Highest budget")),
            ("budget_low", _("Lowest budget")),
            ("fewest_proposals", _("Fewest proposals")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].label_from_instance = lambda category: category.name
        self.fields["category"].empty_label = _("All categories")

    def filters(self) -> ProjectFilters:
        """The valid filters; a bad value is dropped (and shown at its field), never an error page."""
        data = (
            self.cleaned_data
            if self.is_valid()
            else {name: value for name, value in getattr(self, "cleaned_data", {}).items() if name not in self.errors}
        )
        sort = data.get("sort") or "newest"
        return ProjectFilters(
            query=data.get("q", ""),
            category=data.get("category"),
            skills=list(data.get("skills") or []),
            budget_min=data.get("budget_min"),
            budget_max=data.get("budget_max"),
            kind=data.get("kind", ""),
            sort=sort if sort in SORTS else "newest",
        )
