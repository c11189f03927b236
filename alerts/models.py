"""Job alerts: the searches freelancers save, their setting for alerts on their profile's skills, and each
project an alert announced to them.

Matching a new project costs the number of alerts that could match it, not the number of users (alerts.services):
each saved search is filed under one key, the most selective thing a matching project must have (one of its words,
one of its skills, or its category), in a B-tree index: a project looks up the keys it has and examines only the
searches filed under them. Alerts on a profile's skills are found through the profile↔skill links, which are
indexed by skill already.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from marketplace.choices import ChoiceLabels
from projects.models import Project


class Frequency(models.TextChoices):
    """How often an alert's matches are e-mailed; every match reaches the notification centre at once."""

    INSTANT = "instant", _("By e-mail at once")
    DAILY = "daily", _("In a daily e-mail")
    OFF = "off", _("No e-mail")


# When several alerts of one person match a project, the most eager one decides how they hear of it.
EAGERNESS = {Frequency.INSTANT: 2, Frequency.DAILY: 1, Frequency.OFF: 0}


class SavedSearch(ChoiceLabels, models.Model):
    """A search of Active projects kept as an alert: a new published project that this search would list is
    announced to its owner."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches")
    query = models.CharField(_("words"), max_length=200, blank=True)
    # The query's words as the search reads them (projects.search.terms): each must begin a word of the project.
    terms = models.JSONField(_("normalised words"), default=list, blank=True, editable=False)
    category = models.ForeignKey(
        "projects.Category",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
    )
    skills = models.ManyToManyField("projects.Skill", blank=True, related_name="+", verbose_name=_("skills"))
    budget_min = models.DecimalField(_("budget from"), max_digits=14, decimal_places=2, null=True, blank=True)
    budget_max = models.DecimalField(_("budget to"), max_digits=14, decimal_places=2, null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Project.Kind, blank=True)
    frequency = models.CharField(_("e-mail"), max_length=10, choices=Frequency, default=Frequency.INSTANT)
    # The inverted index (see the module's docstring): "word:<a word>", "skill:<id>", "category:<id>", or "" for a
    # search by budget or kind alone, which every new project must examine.
    index_key = models.CharField(max_length=80, editable=False, db_index=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("saved search")
        verbose_name_plural = _("saved searches")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.query or str(self.category or "") or f"#{self.pk}"


class AlertSettings(ChoiceLabels, models.Model):
    """A user's alert on their profile's skills. Without a row: on, with PROFILE_ALERT_DEFAULT_FREQUENCY."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_settings")
    profile_skills = models.BooleanField(_("alert me about new projects that need my profile's skills"), default=True)
    profile_frequency = models.CharField(_("e-mail"), max_length=10, choices=Frequency, default=Frequency.DAILY)

    class Meta:
        verbose_name = _("alert settings")
        verbose_name_plural = _("alert settings")

    def __str__(self) -> str:
        return str(self.user)


class AlertMatch(models.Model):
    """A project announced to a freelancer by their alerts: at most one per (freelancer, project), whatever the
    number of their alerts that matched, and however often the matching runs. A daily e-mail lists the ones
    whose `email` is daily and that no digest has listed yet."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    email = models.CharField(max_length=10, choices=Frequency)
    created_at = models.DateTimeField(auto_now_add=True)
    digested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("announced project")
        verbose_name_plural = _("announced projects")
        constraints = [models.UniqueConstraint(fields=["user", "project"], name="alert_match_once_per_project")]
        indexes = [
            models.Index(
                fields=["user"], condition=Q(email="daily", digested_at__isnull=True), name="alert_match_digest_due_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.project_id} → {self.user_id}"


class AlertRun(models.Model):
    """The matching of one published project has finished (the sweep re-runs any that did not)."""

    project = models.OneToOneField("projects.Project", on_delete=models.CASCADE, related_name="+")
    candidates = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("alert run")
        verbose_name_plural = _("alert runs")

    def __str__(self) -> str:
        return f"{self.project_id}: {self.matched}/{self.candidates}"
