from django import forms
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.contrib.auth.forms import UserCreationForm as DjangoUserCreationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import Education, PortfolioItem, User, WorkExperience
from accounts.selectors import DIRECTORY_SORTS, FreelancerFilters
from accounts.validators import normalize_account_number, validate_card_number, validate_sheba
from marketplace.forms import (
    LocalizedDecimalField,
    LocalizedIntegerField,
    LocalizedYearField,
    MultipleFileField,
    MultipleFileInput,
    SkillCheckboxesMixin,
)
from marketplace.uploads import clean_image, clean_pdf, with_size_limit
from projects.models import Category, Skill

MAX_PROFILE_SKILLS = 20


class AdminUserCreationForm(DjangoUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "username"]


class AdminUserChangeForm(DjangoUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class BasicInfoForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=80)
    headline = forms.CharField(
        label=_("Headline"),
        max_length=120,
        required=False,
        help_text=_("One line about what you do, e.g. 'Django developer and technical writer'."),
    )
    city = forms.CharField(label=_("City"), max_length=60, required=False)
    bio = forms.CharField(
        label=_("Short bio"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    avatar = forms.FileField(
        label=_("Avatar"),
        required=False,
        help_text=with_size_limit(_("A JPEG, PNG or WebP image, at most %(size)s."), "UPLOAD_IMAGE_MAX_BYTES"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    remove_avatar = forms.BooleanField(label=_("Remove the current avatar"), required=False)

    def clean_display_name(self):
        name = self.cleaned_data["display_name"].strip()
        if not name:
            raise forms.ValidationError(_("This field is required."), code="required")
        return name

    def clean_avatar(self):
        upload = self.cleaned_data.get("avatar")
        return clean_image(upload) if upload else None


class SkillsForm(SkillCheckboxesMixin, forms.Form):
    skills = forms.ModelMultipleChoiceField(
        label=_("Skills"),
        queryset=Skill.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick up to 20 skills you master."),
    )

    def clean_skills(self):
        skills = self.cleaned_data["skills"]
        if len(skills) > MAX_PROFILE_SKILLS:
            raise forms.ValidationError(_("Choose at most 20 skills."), code="too_many")
        return skills


class ResumeFileForm(forms.Form):
    resume = forms.FileField(
        label=_("Résumé (PDF)"),
        required=False,
        help_text=with_size_limit(_("A PDF document, at most %(size)s."), "UPLOAD_DOCUMENT_MAX_BYTES"),
        widget=forms.FileInput(attrs={"accept": "application/pdf"}),
    )
    remove_resume = forms.BooleanField(label=_("Remove the current résumé"), required=False)

    def clean_resume(self):
        upload = self.cleaned_data.get("resume")
        return clean_pdf(upload) if upload else None


class _YearsForm(forms.ModelForm):
    start_year = LocalizedYearField(
        label=_("From (year)"), min_value=1940, max_value=2100, help_text=_("e.g. 1398 or 2019")
    )
    end_year = LocalizedYearField(
        label=_("To (year)"), min_value=1940, max_value=2100, required=False, help_text=_("Empty: to date.")
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start_year"), data.get("end_year")
        if start and end and end < start:
            self.add_error("end_year", _("The end year cannot be before the start year."))
        return data


class ExperienceForm(_YearsForm):
    class Meta:
        model = WorkExperience
        fields = ["title", "organization", "start_year", "end_year", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class EducationForm(_YearsForm):
    class Meta:
        model = Education
        fields = ["degree", "field", "institution", "start_year", "end_year"]


class PortfolioItemForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    description = forms.CharField(
        label=_("Description"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    link = forms.URLField(label=_("Link"), required=False, assume_scheme="https")
    images = MultipleFileField(
        label=_("Images"),
        max_files=PortfolioItem.MAX_IMAGES,
        help_text=with_size_limit(
            _("Up to 8 JPEG, PNG or WebP images, at most %(size)s each."), "UPLOAD_IMAGE_MAX_BYTES"
        ),
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    def clean_images(self):
        return [clean_image(upload) for upload in self.cleaned_data["images"]]


class BankDetailsForm(forms.Form):
    card_number = forms.CharField(
        label=_("Bank card number"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"dir": "ltr", "inputmode": "numeric", "autocomplete": "off"}),
    )
    sheba = forms.CharField(
        label=_("Sheba (IBAN)"),
        max_length=40,
        required=False,
        help_text=_("IR followed by 24 digits."),
        widget=forms.TextInput(attrs={"dir": "ltr", "autocomplete": "off"}),
    )
    account_holder = forms.CharField(label=_("Account holder"), max_length=100, required=False)

    def clean_card_number(self):
        number = normalize_account_number(self.cleaned_data["card_number"])
        if number:
            validate_card_number(number)
        return number

    def clean_sheba(self):
        sheba = normalize_account_number(self.cleaned_data["sheba"])
        if sheba and not sheba.startswith("IR") and sheba.isdigit():
            sheba = f"IR{sheba}"
        if sheba:
            validate_sheba(sheba)
        return sheba

    def clean(self):
        data = super().clean()
        if (data.get("card_number") or data.get("sheba")) and not (data.get("account_holder") or "").strip():
            self.add_error("account_holder", _("Give the name of the account holder."))
        return data


class FreelancerSearchForm(forms.Form):
    """The freelancer directory's question; read from the query string, so a bad value is dropped, not fatal."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.all(), required=False)
    skills = forms.ModelMultipleChoiceField(
        label=_("Skills"), queryset=Skill.objects.all(), required=False, to_field_name="slug"
    )
    min_rating = LocalizedDecimalField(
        label=_("Minimum rating"), required=False, min_value=0, max_value=5, max_digits=3, decimal_places=2
    )
    min_completed = LocalizedIntegerField(
        label=_("Minimum completed projects"), required=False, min_value=0, max_value=100_000
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("relevance", _("Best match")),
            ("rating", _("Highest rated")),
            ("completed", _("Most completed projects")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].label_from_instance = lambda category: category.name
        self.fields["category"].empty_label = _("All categories")

    def filters(self) -> FreelancerFilters:
        """The valid filters; a bad value is dropped (and shown at its field), never an error page."""
        data = (
            self.cleaned_data
            if self.is_valid()
            else {name: value for name, value in getattr(self, "cleaned_data", {}).items() if name not in self.errors}
        )
        sort = data.get("sort") or ""
        return FreelancerFilters(
            query=data.get("q", ""),
            category=data.get("category"),
            skills=list(data.get("skills") or []),
            min_rating=data.get("min_rating"),
            min_completed=data.get("min_completed"),
            sort=sort if sort in DIRECTORY_SORTS else "",
        )
