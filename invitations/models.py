from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from marketplace.choices import ChoiceLabels


class Invitation(ChoiceLabels, models.Model):
    """An employer's invitation to a freelancer to send a proposal on one of the employer's open projects."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for an answer")
        ANSWERED = "answered", _("Answered with a proposal")
        DECLINED = "declined", _("Declined")
        CLOSED = "closed", _("Project closed")

    # invitations.services refuses anything else. An invitation is answered by a proposal on its project, declined
    # by the freelancer, or closed when its project stops being open (projects.services); each of those is final.
    ALLOWED_TRANSITIONS = {
        Status.OPEN: {Status.ANSWERED, Status.DECLINED, Status.CLOSED},
        Status.ANSWERED: set(),
        Status.DECLINED: set(),
        Status.CLOSED: set(),
    }
    NOTE_MAX_LENGTH = 1000
    REASON_MAX_LENGTH = 500

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="invitations", verbose_name=_("project")
    )
    freelancer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="invitations_received",
        verbose_name=_("freelancer"),
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations_sent", verbose_name=_("employer")
    )
    note = models.TextField(_("note"), max_length=NOTE_MAX_LENGTH, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.OPEN)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), max_length=REASON_MAX_LENGTH, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "freelancer"], condition=Q(status="open"), name="one_open_invitation_per_freelancer"
            ),
        ]
        indexes = [
            # The per-project daily cap counts a project's invitations of the last 24 hours by this index.
            models.Index(fields=["project", "created_at"], name="invitation_project_recent_idx"),
            models.Index(fields=["freelancer", "-created_at"], name="invitation_freelancer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.invited_by} → {self.freelancer}: {self.project}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN
