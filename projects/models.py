from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from marketplace.choices import ChoiceLabels
from marketplace.storage import private_storage


class BilingualName(models.Model):
    """A catalogue entry named in English and in Persian; `name` is the one for the page's language."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name_en = models.CharField(_("English name"), max_length=100)
    name_fa = models.CharField(_("Persian name"), max_length=100)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_fa if (get_language() or "").startswith("fa") else self.name_en


class Category(BilingualName):
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "name_en"]


class Skill(BilingualName):
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="skills", verbose_name=_("category"))

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        ordering = ["category__position", "name_en"]


class Project(ChoiceLabels, models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", _("Single delivery")
        PHASED = "phased", _("Phased (milestones)")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open for proposals")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")

    # Which status may follow which; projects.services refuses anything else. in_progress, completed and the way
    # back to open are reached through contracts (workspace.services call projects.services for them).
    ALLOWED_TRANSITIONS = {
        Status.DRAFT: {Status.OPEN, Status.CANCELLED},
        Status.OPEN: {Status.CLOSED, Status.CANCELLED, Status.IN_PROGRESS},
        Status.CLOSED: {Status.OPEN, Status.CANCELLED},
        Status.IN_PROGRESS: {Status.COMPLETED, Status.OPEN},
        Status.COMPLETED: set(),
        Status.CANCELLED: set(),
    }

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="projects", verbose_name=_("employer")
    )
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), max_length=10000, help_text=_("Markdown is supported."))
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="projects", verbose_name=_("category")
    )
    skills = models.ManyToManyField(Skill, related_name="projects", verbose_name=_("skills"))
    currency = models.CharField(_("currency"), max_length=3, choices=settings.CURRENCY_CHOICES)
    budget_min = models.DecimalField(_("minimum budget"), max_digits=14, decimal_places=2)
    budget_max = models.DecimalField(_("maximum budget"), max_digits=14, decimal_places=2)
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    duration_days = models.PositiveSmallIntegerField(
        _("duration in days"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.SINGLE)
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.DRAFT, db_index=True)
    # Title and description normalised for search (projects.search.normalize); PostgreSQL indexes it with GIN.
    search_document = models.TextField(editable=False, default="")
    proposal_count = models.PositiveIntegerField(_("proposals"), default=0, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["-published_at", "-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(budget_min__gt=0), name="project_budget_min_positive"),
            models.CheckConstraint(condition=Q(budget_max__gte=F("budget_min")), name="project_budget_range"),
            models.CheckConstraint(
                condition=Q(deadline__isnull=False) | Q(duration_days__isnull=False), name="project_has_a_timeframe"
            ),
        ]
        # One index for each order Active projects offers, over open projects only: a page reads its twenty rows
        # (and the capped count its thousand) in index order, whatever the number of projects.
        indexes = [
            models.Index(fields=["status", "-published_at"], name="project_listing_idx"),
            models.Index(fields=["-published_at", "-id"], condition=Q(status="open"), name="project_open_newest_idx"),
            models.Index(
                fields=["-budget_max", "-id"], condition=Q(status="open"), name="project_open_budget_high_idx"
            ),
            models.Index(fields=["budget_min", "-id"], condition=Q(status="open"), name="project_open_budget_low_idx"),
            models.Index(
                fields=["proposal_count", "-published_at", "-id"],
                condition=Q(status="open"),
                name="project_open_fewest_bids_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def budget_min_money(self) -> Money:
        return Money(self.budget_min, self.currency)

    @property
    def budget_max_money(self) -> Money:
        return Money(self.budget_max, self.currency)

    @property
    def is_editable(self) -> bool:
        """The owner edits while nothing binds the project (no contract yet)."""
        return self.status in (self.Status.DRAFT, self.Status.OPEN, self.Status.CLOSED)


def attachment_path(attachment: "ProjectAttachment", filename: str) -> str:
    return f"projects/{attachment.project_id}/attachments/{filename}"


class ProjectAttachment(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path, storage=private_storage)
    name = models.CharField(_("name"), max_length=200)
    size = models.PositiveIntegerField(_("size"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.name
