from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from djmoney.money import Money

from marketplace.choices import ChoiceLabels
from marketplace.storage import private_storage


class Proposal(ChoiceLabels, models.Model):
    """A freelancer's bid on a project. Its terms may change until it is selected; every version is kept."""

    class Status(models.TextChoices):
        SENT = "sent", pgettext_lazy("proposal status", "Sent")
        SHORTLISTED = "shortlisted", _("Shortlisted")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        SELECTED = "selected", _("Selected")

    # proposals.services refuses any change not listed here. `selected` is reached through contracts; a selected
    # proposal is withdrawn when its contract is declined or cancelled before work starts, so that it leaves the
    # live proposals (the freelancer may bid again, the employer may choose someone else).
    ALLOWED_TRANSITIONS = {
        Status.SENT: {Status.SHORTLISTED, Status.DECLINED, Status.WITHDRAWN, Status.SELECTED},
        Status.SHORTLISTED: {Status.SENT, Status.DECLINED, Status.WITHDRAWN, Status.SELECTED},
        Status.DECLINED: set(),
        Status.WITHDRAWN: set(),
        Status.SELECTED: {Status.WITHDRAWN},
    }
    EDITABLE = {Status.SENT, Status.SHORTLISTED}
    # A freelancer has at most one of these per project; after withdrawing they may bid again.
    LIVE = [Status.SENT, Status.SHORTLISTED, Status.DECLINED, Status.SELECTED]

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="proposals")
    freelancer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposals", verbose_name=_("freelancer")
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    delivery_days = models.PositiveSmallIntegerField(_("delivery time in days"))
    cover_letter = models.TextField(_("cover letter"), max_length=5000)
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.SENT, db_index=True)
    revision_count = models.PositiveSmallIntegerField(_("revisions"), default=1)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "freelancer"],
                condition=Q(status__in=["sent", "shortlisted", "declined", "selected"]),
                name="one_live_proposal_per_freelancer",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="proposal_amount_positive"),
            models.CheckConstraint(condition=Q(delivery_days__gte=1), name="proposal_delivery_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.freelancer} → {self.project}"

    @property
    def amount_money(self) -> Money:
        return Money(self.amount, self.project.currency)

    @property
    def is_edited(self) -> bool:
        return self.revision_count > 1

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE


class ProposalRevision(models.Model):
    """One version of a proposal's terms: the first as sent, then one per edit."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveSmallIntegerField(_("version"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    delivery_days = models.PositiveSmallIntegerField(_("delivery time in days"))
    cover_letter = models.TextField(_("cover letter"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("proposal revision")
        verbose_name_plural = _("proposal revisions")
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["proposal", "number"], name="proposal_revision_number")]

    def __str__(self) -> str:
        return f"{self.proposal_id} v{self.number}"


class Conversation(models.Model):
    """The chat between a project's employer and one bidder. Opened with the first proposal, kept for good."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="conversations")
    freelancer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="freelancer_conversations"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True, db_index=True)
    # What each side has read, and up to when they were e-mailed about unread messages (the digest).
    employer_read_at = models.DateTimeField(null=True, blank=True)
    freelancer_read_at = models.DateTimeField(null=True, blank=True)
    employer_notified_at = models.DateTimeField(null=True, blank=True)
    freelancer_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [models.UniqueConstraint(fields=["project", "freelancer"], name="one_conversation_per_bidder")]

    def __str__(self) -> str:
        return f"{self.project} / {self.freelancer}"

    def other_party_id(self, user) -> int:
        """The id of the party `user` is talking to (`user` is one of the two)."""
        return self.freelancer_id if user.pk == self.project.owner_id else self.project.owner_id

    def seen_until(self, user):
        """When the other party last read the thread (None if never): what `user` sent up to then was seen."""
        side = self.side_of(user)
        if side is None:
            return None
        return self.freelancer_read_at if side == "employer" else self.employer_read_at

    def side_of(self, user) -> str | None:
        """'employer', 'freelancer', or None for anyone else."""
        if user.pk == self.freelancer_id:
            return "freelancer"
        if user.pk == self.project.owner_id:
            return "employer"
        return None


def message_attachment_path(message: "Message", filename: str) -> str:
    return f"conversations/{message.conversation_id}/{filename}"


class Message(models.Model):
    MAX_LENGTH = 5000

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("message"), max_length=MAX_LENGTH, blank=True)
    attachment = models.FileField(
        _("attachment"), upload_to=message_attachment_path, storage=private_storage, blank=True
    )
    attachment_name = models.CharField(_("attachment name"), max_length=200, blank=True)
    attachment_size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "created_at"], name="message_thread_idx")]
        constraints = [models.CheckConstraint(condition=~Q(body="") | ~Q(attachment=""), name="message_not_empty")]

    def __str__(self) -> str:
        return f"{self.sender_id}: {self.body[:40]}"
