from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from marketplace.storage import private_storage


class UserManager(DjangoUserManager):
    def get_by_natural_key(self, email):
        # E-mail is the login; people type it in any case.
        return self.get(email__iexact=email)

    def create_user(self, email, username=None, password=None, **extra_fields):
        return super().create_user(username, email, password, **extra_fields)

    def create_superuser(self, email, username=None, password=None, **extra_fields):
        """Staff made by `createsuperuser` sign in at once: the address they typed counts as verified (sign-in
        asks for a verified e-mail when verification is mandatory, as in production)."""
        from allauth.account.models import EmailAddress  # allauth's models load after this one (the user model)

        user = super().create_superuser(username, (email or "").lower(), password, **extra_fields)  # as sign-up does
        EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
        return user


class User(AbstractUser):
    """One account acts as employer and as freelancer; e-mail is the login, username the public handle."""

    email = models.EmailField(_("e-mail address"), unique=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        profile = getattr(self, "profile", None)
        return (profile.display_name if profile else "") or self.username


def avatar_path(profile: "Profile", filename: str) -> str:
    return f"avatars/{profile.user_id}/{filename}"


def resume_path(profile: "Profile", filename: str) -> str:
    return f"resumes/{profile.user_id}/{filename}"


class Profile(models.Model):
    """What others see of a user. Created with the user (accounts.services.user_create)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(_("display name"), max_length=80, blank=True)
    headline = models.CharField(_("headline"), max_length=120, blank=True)
    city = models.CharField(_("city"), max_length=60, blank=True)
    avatar = models.ImageField(_("avatar"), upload_to=avatar_path, blank=True)
    avatar_thumbnail = models.ImageField(_("avatar thumbnail"), upload_to=avatar_path, blank=True)
    bio = models.TextField(_("short bio"), max_length=1000, blank=True)
    skills = models.ManyToManyField("projects.Skill", blank=True, related_name="profiles", verbose_name=_("skills"))
    resume = models.FileField(_("résumé (PDF)"), upload_to=resume_path, storage=private_storage, blank=True)
    # Payout details: shown to nobody but the owner (and staff paying a withdrawal).
    bank_card_number = models.CharField(_("bank card number"), max_length=16, blank=True)
    bank_sheba = models.CharField(_("Sheba (IBAN)"), max_length=26, blank=True)
    bank_account_holder = models.CharField(_("account holder"), max_length=100, blank=True)
    # What the freelancer directory finds, filters and sorts by, stored so that a page of it reads twenty rows in
    # index order at any number of profiles. Kept by the services that change what they are made of: the profile,
    # its skills and portfolio (accounts.services), published reviews (reviews.services) and completed milestones
    # (workspace.services.history), through profile_refresh_stats.
    # The name, headline and skills, a line break, the bio and portfolio titles; normalised for search
    # (projects.search.normalize). PostgreSQL indexes it as a weighted tsvector (migration 0003).
    search_document = models.TextField(editable=False, default="")
    # In the directory: an active account whose profile lists a skill, or that has completed work as a freelancer.
    listed = models.BooleanField(_("in the freelancer directory"), default=False, editable=False)
    # The published reviews received, as the public profile shows them (reviews.selectors.reputation).
    rating_average = models.DecimalField(_("average rating"), max_digits=3, decimal_places=2, default=0, editable=False)
    rating_count = models.PositiveIntegerField(_("ratings"), default=0, editable=False)
    # Projects in which the user completed work as a freelancer (workspace.selectors.completed_projects).
    completed_projects = models.PositiveIntegerField(_("completed projects"), default=0, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")
        # One index for each order the directory offers, over listed profiles only (the relevance order reads
        # the search index of migration 0003).
        indexes = [
            models.Index(
                fields=["-rating_average", "-rating_count", "-id"],
                condition=models.Q(listed=True),
                name="profile_directory_rating_idx",
            ),
            models.Index(
                fields=["-completed_projects", "-rating_average", "-id"],
                condition=models.Q(listed=True),
                name="profile_directory_done_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.user.username


class WorkExperience(models.Model):
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="experiences")
    title = models.CharField(_("job title"), max_length=100)
    organization = models.CharField(_("company or organisation"), max_length=100)
    start_year = models.PositiveSmallIntegerField(_("from (year)"))
    end_year = models.PositiveSmallIntegerField(_("to (year)"), null=True, blank=True, help_text=_("Empty: to date."))
    description = models.TextField(_("description"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("work experience")
        verbose_name_plural = _("work experience")
        ordering = ["-start_year", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_year__isnull=True) | models.Q(end_year__gte=models.F("start_year")),
                name="experience_years_in_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title}, {self.organization}"


class Education(models.Model):
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="educations")
    degree = models.CharField(_("degree"), max_length=100)
    field = models.CharField(_("field of study"), max_length=100)
    institution = models.CharField(_("university or school"), max_length=100)
    start_year = models.PositiveSmallIntegerField(_("from (year)"))
    end_year = models.PositiveSmallIntegerField(_("to (year)"), null=True, blank=True, help_text=_("Empty: to date."))

    class Meta:
        verbose_name = _("education")
        verbose_name_plural = _("education")
        ordering = ["-start_year", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_year__isnull=True) | models.Q(end_year__gte=models.F("start_year")),
                name="education_years_in_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.degree}, {self.institution}"


class PortfolioItem(models.Model):
    MAX_IMAGES = 8

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="portfolio_items")
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    link = models.URLField(_("link"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("portfolio item")
        verbose_name_plural = _("portfolio items")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


def portfolio_path(image: "PortfolioImage", filename: str) -> str:
    return f"portfolio/{image.item.profile.user_id}/{filename}"


class PortfolioImage(models.Model):
    item = models.ForeignKey(PortfolioItem, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(_("image"), upload_to=portfolio_path, width_field="width", height_field="height")
    thumbnail = models.ImageField(_("thumbnail"), upload_to=portfolio_path)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("portfolio image")
        verbose_name_plural = _("portfolio images")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.image.name
