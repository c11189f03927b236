from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace.choices import ChoiceLabels


class OutgoingEmail(models.Model):
    """One e-mail on its way out (the transactional outbox).

    Written in the same database transaction as the action that causes it, so a message exists exactly when
    the action committed. A Celery task delivers it; the beat sweep delivers what the task never got to.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    # queued → sent, queued → failed (after the last attempt), failed → queued (staff retries it)
    ALLOWED_TRANSITIONS = {
        Status.QUEUED: {Status.SENT, Status.FAILED},
        Status.FAILED: {Status.QUEUED},
        Status.SENT: set(),
    }

    subject = models.CharField(_("subject"), max_length=998)
    body = models.TextField(_("body"))
    html_body = models.TextField(_("HTML body"), blank=True)
    from_email = models.CharField(_("from"), max_length=320)
    to = models.JSONField(_("to"), default=list)
    cc = models.JSONField(_("cc"), default=list, blank=True)
    bcc = models.JSONField(_("bcc"), default=list, blank=True)
    reply_to = models.JSONField(_("reply to"), default=list, blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), db_index=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notif_email_due_idx")]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"


class Notification(ChoiceLabels, models.Model):
    """One event in a user's notification centre. Its text is rendered when read, in the reader's language, from
    the kind and `params` (see notifications.kinds)."""

    class Kind(models.TextChoices):
        PROPOSAL_NEW = "proposal_new", _("New proposal")
        PROPOSAL_EDITED = "proposal_edited", _("Proposal edited")
        MESSAGES_UNREAD = "messages_unread", _("Unread messages")
        PROPOSAL_SELECTED = "proposal_selected", _("Proposal selected")
        PROPOSAL_NOT_SELECTED = "proposal_not_selected", _("Another freelancer chosen")
        UPFRONT_PAID = "upfront_paid", _("Upfront paid")
        WORK_ACCEPTED = "work_accepted", _("Work accepted by the freelancer")
        WORK_DECLINED = "work_declined", _("Work declined by the freelancer")
        CONTRACT_CANCELLED = "contract_cancelled", _("Contract cancelled")
        PHASING_OFFERED = "phasing_offered", _("Phasing offered")
        PHASING_REVISED = "phasing_revised", _("Phasing revised")
        PHASING_ACCEPTED = "phasing_accepted", _("Phasing accepted")
        PHASING_REJECTED = "phasing_rejected", _("Phasing rejected")
        PHASES_REASSIGNED = "phases_reassigned", _("Later phases given to someone else")
        PHASE_FUNDED = "phase_funded", _("Contract finalized")
        DELIVERED = "delivered", _("Work delivered")
        REMAINDER_PAID = "remainder_paid", _("Remainder paid")
        RELEASED = "released", _("Payment released")
        AUTO_RELEASE_SOON = "auto_release_soon", _("Automatic release soon")
        AUTO_RELEASED = "auto_released", _("Payment released automatically")
        DISPUTE_OPENED = "dispute_opened", _("Dispute opened")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")
        DISPUTE_ANSWERED = "dispute_answered", _("Dispute answered")
        DISPUTE_ESCALATED = "dispute_escalated", _("Dispute sent to the platform")
        DISPUTE_RESOLVED = "dispute_resolved", _("Dispute resolved")
        DISPUTE_DEADLINE_ESCALATED = "dispute_deadline_escalated", _("Dispute sent to the platform by its deadline")
        DISPUTE_ANSWER_SOON = "dispute_answer_soon", _("A dispute waits for your answer")
        NEGOTIATION_ENDS_SOON = "negotiation_ends_soon", _("Dispute negotiation ends soon")
        DISPUTE_DEFAULTED = "dispute_defaulted", _("Dispute decided by its deadline")
        DISPUTE_WITHDRAWN = "dispute_withdrawn", _("Dispute withdrawn")
        OFFER_MADE = "offer_made", _("Offer to settle")
        OFFER_ACCEPTED = "offer_accepted", _("Offer accepted")
        OFFER_DECLINED = "offer_declined", _("Offer declined")
        REMAINDER_DUE_SOON = "remainder_due_soon", _("The rest is due soon")
        REMAINDER_LAPSED = "remainder_lapsed", _("The time to pay the rest ran out")
        PARTIAL_RELEASED = "partial_released", _("Part of a payment released")
        BONUS_PAID = "bonus_paid", _("Bonus")
        CHANGE_PROPOSED = "change_proposed", _("Change to a contract proposed")
        CHANGE_ACCEPTED = "change_accepted", _("Change accepted")
        CHANGE_DECLINED = "change_declined", _("Change declined")
        WITHDRAWAL_PAID = "withdrawal_paid", _("Withdrawal paid")
        PAYMENT_CONFIRMED = "payment_confirmed", _("Payment confirmed by the bank")
        WITHDRAWAL_REJECTED = "withdrawal_rejected", _("Withdrawal returned")
        REVIEW_PUBLISHED = "review_published", _("Review published")
        JOB_ALERT = "job_alert", _("New project for you")
        INVITATION = "invitation", _("Invitation to a project")
        INVITATION_DECLINED = "invitation_declined", _("Invitation declined")

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=32, choices=Kind)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    params = models.JSONField(_("details"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notif_recipient_recent_idx"),
            models.Index(
                fields=["recipient"], condition=models.Q(read_at__isnull=True), name="notif_recipient_unread_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def text(self) -> str:
        from notifications.kinds import describe  # Imported here to prevent an import cycle (kinds → models)

        return describe(self.kind, self.params)

    @property
    def html(self) -> str:
        from notifications.kinds import describe  # Imported here to prevent an import cycle (kinds → models)

        return describe(self.kind, self.params, html=True)

    @property
    def group(self) -> str:
        from notifications.kinds import SPECS  # Imported here to prevent an import cycle (kinds → models)

        return SPECS[self.kind].group if self.kind in SPECS else ""


class EmailPreference(models.Model):
    """Which kinds of notification a user does not want by e-mail (they always reach the notification centre)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_preference")
    muted = models.JSONField(_("kinds not e-mailed"), default=list, blank=True)

    class Meta:
        verbose_name = _("e-mail preference")
        verbose_name_plural = _("e-mail preferences")

    def __str__(self) -> str:
        return str(self.user)
