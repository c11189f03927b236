"""The contract's home: a Contract binds an employer, a freelancer and a project and holds its Milestones (one for
a single delivery, one per phase); each milestone's events are the workspace timeline; disputes, phasing offers
and the delivered files live here too. The money itself is escrow's (the ledger); these rows say what it is for.

These models were in `escrow` and `proposals` until migration workspace 0002, which moved them without moving a
row: each keeps its table name (`db_table`).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from marketplace.currency import round_amount
from marketplace.storage import private_storage


class Contract(models.Model):
    """Binds an employer, a freelancer and a project; holds one milestone (single delivery) or several (phases)."""

    class Status(models.TextChoices):
        AWAITING_ACCEPTANCE = "awaiting", _("Awaiting the freelancer")
        ACTIVE = "active", _("In progress")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    ALLOWED_TRANSITIONS = {
        Status.AWAITING_ACCEPTANCE: {Status.ACTIVE, Status.CANCELLED},
        Status.ACTIVE: {Status.COMPLETED, Status.CANCELLED},
        Status.COMPLETED: set(),
        Status.CANCELLED: set(),
    }

    project = models.ForeignKey("projects.Project", on_delete=models.PROTECT, related_name="contracts")
    proposal = models.OneToOneField(
        "proposals.Proposal", on_delete=models.PROTECT, null=True, blank=True, related_name="contract"
    )
    employer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    freelancer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"), max_length=10, choices=Status, default=Status.AWAITING_ACCEPTANCE, db_index=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)  # completed, or cancelled

    class Meta:
        db_table = "escrow_contract"  # moved from escrow without moving rows
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.project}"

    @property
    def is_awaiting_answer(self) -> bool:
        return self.status == self.Status.AWAITING_ACCEPTANCE

    def party(self, user) -> str | None:
        if user.pk == self.employer_id:
            return "employer"
        if user.pk == self.freelancer_id:
            return "freelancer"
        return None


class Milestone(models.Model):
    """An amount of work and money. Work may start when funded ≥ upfront; files may be downloaded when
    funded = amount; the review clock (auto_release_at) runs when delivered and fully funded."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        FUNDED = "funded", _("Contract finalized")
        DELIVERED = "delivered", _("Delivered")
        DISPUTED = "disputed", _("In dispute")
        COMPLETED = "completed", _("Completed")
        REFUNDED = "refunded", _("Refunded")
        CANCELLED = "cancelled", _("Cancelled")  # an unfunded phase given to another freelancer, or dropped

    ALLOWED_TRANSITIONS = {
        Status.PENDING: {Status.FUNDED, Status.REFUNDED, Status.CANCELLED},
        Status.FUNDED: {Status.DELIVERED, Status.REFUNDED},
        Status.DELIVERED: {Status.COMPLETED, Status.DISPUTED, Status.FUNDED},  # funded again: changes requested
        Status.DISPUTED: {Status.COMPLETED, Status.REFUNDED},
        Status.COMPLETED: set(),
        Status.REFUNDED: set(),
        Status.CANCELLED: set(),
    }
    CLOSED = [Status.COMPLETED, Status.REFUNDED, Status.CANCELLED]

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="milestones")
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    title = models.CharField(_("title"), max_length=200)
    scope = models.TextField(_("scope"), max_length=2000, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    upfront_share = models.DecimalField(_("upfront share"), max_digits=4, decimal_places=3)
    funded = models.DecimalField(_("funded"), max_digits=14, decimal_places=2, default=0)
    released = models.DecimalField(_("released"), max_digits=14, decimal_places=2, default=0)
    refunded = models.DecimalField(_("refunded"), max_digits=14, decimal_places=2, default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING, db_index=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    auto_release_at = models.DateTimeField(_("released automatically at"), null=True, blank=True, db_index=True)
    # How often the employer sent the delivery back with changes to make (at most REVISION_LIMIT).
    revisions_requested = models.PositiveSmallIntegerField(_("changes requested"), default=0)
    # The auto_release_at the employer was last warned about: a new delivery sets a new time and a new warning.
    release_warned_for = models.DateTimeField(_("warned of the release at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        db_table = "escrow_milestone"  # moved from escrow without moving rows
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["contract", "position"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="milestone_amount_positive"),
            models.CheckConstraint(
                condition=Q(funded__lte=models.F("amount")) & Q(funded__gte=0), name="milestone_funded_in_range"
            ),
            models.CheckConstraint(
                condition=Q(released__gte=0)
                & Q(refunded__gte=0)
                & Q(released__lte=models.F("funded") - models.F("refunded")),
                name="milestone_paid_out_within_funded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id}/{self.position} {self.title}"

    @property
    def escrow_key(self) -> str:
        return f"escrow:milestone:{self.pk}"

    @property
    def upfront_amount(self):
        return round_amount(self.amount * self.upfront_share, self.contract.currency)

    @property
    def in_escrow(self):
        return self.funded - self.released - self.refunded

    @property
    def remaining_to_fund(self):
        return self.amount - self.funded

    @property
    def fully_funded(self) -> bool:
        return self.funded >= self.amount

    @property
    def work_may_start(self) -> bool:
        return self.funded >= self.upfront_amount


class MilestoneEvent(models.Model):
    """One thing that happened to a milestone: the workspace timeline is read from these rows."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Contract created")
        FUNDED = "funded", _("Paid into escrow")
        ACCEPTED = "accepted", _("Work accepted by the freelancer")
        DECLINED = "declined", _("Declined by the freelancer")
        CANCELLED = "cancelled", _("Cancelled by the employer")
        UPLOADED = "uploaded", _("Files uploaded")
        DELIVERED = "delivered", _("Marked done by the freelancer")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested by the employer")
        DISPUTE_OPENED = "dispute_opened", _("Dispute created")
        DISPUTE_ANSWERED = "dispute_answered", _("Freelancer answered the dispute")
        DISPUTE_ESCALATED = "dispute_escalated", _("Dispute sent to the platform")
        RELEASED = "released", _("Payment released")
        AUTO_RELEASED = "auto_released", _("Payment released automatically")
        REFUNDED = "refunded", _("Refunded to the employer")
        SPLIT = "split", _("Dispute settled by the platform")

    milestone = models.ForeignKey(Milestone, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("event"), max_length=20, choices=Kind)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        db_table = "escrow_milestoneevent"  # moved from escrow without moving rows
        verbose_name = _("milestone event")
        verbose_name_plural = _("milestone events")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.milestone_id} {self.kind}"


class Dispute(models.Model):
    """The employer's "Create dispute": the review clock stops until it is settled."""

    class Reason(models.TextChoices):
        INCOMPLETE = "incomplete", _("The work is incomplete")
        NOT_AS_AGREED = "not_as_agreed", _("The work is not what was agreed")
        QUALITY = "quality", _("The quality is not acceptable")
        LATE = "late", _("The work is late")
        OTHER = "other", _("Something else")

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for the freelancer's fix")
        ANSWERED = "answered", _("The freelancer answered")
        ESCALATED = "escalated", _("With the platform")
        RESOLVED = "resolved", _("Resolved")

    ALLOWED_TRANSITIONS = {
        Status.OPEN: {Status.ANSWERED, Status.ESCALATED, Status.RESOLVED},
        Status.ANSWERED: {Status.OPEN, Status.ESCALATED, Status.RESOLVED},
        Status.ESCALATED: {Status.RESOLVED},
        Status.RESOLVED: set(),
    }
    OPEN_STATUSES = [Status.OPEN, Status.ANSWERED, Status.ESCALATED]

    milestone = models.ForeignKey(Milestone, on_delete=models.PROTECT, related_name="disputes")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=20, choices=Reason)
    description = models.TextField(_("description"), max_length=5000)
    attachment = models.FileField(_("attachment"), upload_to="disputes/", storage=private_storage, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.OPEN, db_index=True)
    resolution = models.CharField(_("resolution"), max_length=255, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        db_table = "escrow_dispute"  # moved from escrow without moving rows
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["milestone"], condition=Q(status__in=["open", "answered", "escalated"]), name="one_open_dispute"
            )
        ]

    def __str__(self) -> str:
        return f"{self.milestone} {self.get_status_display()}"


class PhasingOffer(models.Model):
    """The employer's split of a project into phases, offered to one bidder. Revising makes a new version;
    earlier versions are kept (status `revised`) and shown to both."""

    class Status(models.TextChoices):
        SENT = "sent", _("Waiting for the freelancer")
        REVISED = "revised", _("Revised by the employer")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    ALLOWED_TRANSITIONS = {
        Status.SENT: {Status.REVISED, Status.ACCEPTED, Status.REJECTED},
        Status.REVISED: set(),
        Status.ACCEPTED: set(),
        Status.REJECTED: set(),
    }

    proposal = models.ForeignKey("proposals.Proposal", on_delete=models.PROTECT, related_name="phasing_offers")
    version = models.PositiveSmallIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.SENT, db_index=True)
    note = models.TextField(_("note"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        db_table = "proposals_phasingoffer"  # moved from proposals without moving rows
        verbose_name = _("phasing offer")
        verbose_name_plural = _("phasing offers")
        ordering = ["proposal", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "version"], name="phasing_offer_version"),
            models.UniqueConstraint(fields=["proposal"], condition=Q(status="sent"), name="one_open_phasing_offer"),
        ]

    def __str__(self) -> str:
        return f"{self.proposal} v{self.version}"

    @property
    def total(self):
        return sum((phase.amount for phase in self.phases.all()), start=0)


class PhasingOfferPhase(models.Model):
    offer = models.ForeignKey(PhasingOffer, on_delete=models.CASCADE, related_name="phases")
    position = models.PositiveSmallIntegerField(_("position"))
    title = models.CharField(_("title"), max_length=200)
    scope = models.TextField(_("scope"), max_length=2000, blank=True)
    due_date = models.DateField(_("due date"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    # When the offer covers phases of an earlier contract (a later phase given to another freelancer).
    replaces = models.ForeignKey("Milestone", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        db_table = "proposals_phasingofferphase"  # moved from proposals without moving rows
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        ordering = ["position"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="phase_amount_positive")]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


def deliverable_path(deliverable: "Deliverable", filename: str) -> str:
    return f"deliverables/{deliverable.milestone_id}/{filename}"


class Deliverable(models.Model):
    """One uploaded zip of a milestone's work. Stored privately under a generated name; served only by
    workspace.views.deliverable_download to the parties (and staff) once the milestone is fully funded."""

    milestone = models.ForeignKey(Milestone, on_delete=models.PROTECT, related_name="deliverables")
    version = models.PositiveSmallIntegerField(_("version"))
    file = models.FileField(_("file"), upload_to=deliverable_path, storage=private_storage)
    original_name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    entries = models.JSONField(_("contents"), default=list)  # [[name, uncompressed size], ...]
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("deliverable")
        verbose_name_plural = _("deliverables")
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["milestone", "version"], name="deliverable_version")]

    def __str__(self) -> str:
        return f"{self.milestone_id} v{self.version} {self.original_name}"
