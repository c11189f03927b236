"""The contract's home: a Contract binds an employer, a freelancer and a project and holds its Milestones (one for
a single delivery, one per phase); each milestone's events are the workspace timeline; disputes, phasing offers
and the delivered files live here too. The money itself is escrow's (the ledger); these rows say what it is for.

These models were in `escrow` and `proposals` until migration workspace 0002, which moved them without moving a
row: each keeps its table name (`db_table`).
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from marketplace.choices import ChoiceLabels
from marketplace.currency import round_amount
from marketplace.storage import private_storage


class Contract(ChoiceLabels, models.Model):
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

    def other_party(self, user):
        """The party facing `user` (who is one of the two)."""
        return self.freelancer if user.pk == self.employer_id else self.employer

    def party(self, user) -> str | None:
        if user.pk == self.employer_id:
            return "employer"
        if user.pk == self.freelancer_id:
            return "freelancer"
        return None


class Milestone(ChoiceLabels, models.Model):
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
        # disputed from funded: the employer cancels late work, or the freelancer disputes changes beyond the scope
        Status.FUNDED: {Status.DELIVERED, Status.DISPUTED, Status.COMPLETED, Status.REFUNDED},
        Status.DELIVERED: {Status.COMPLETED, Status.DISPUTED, Status.FUNDED, Status.REFUNDED},  # funded: changes
        # back to where it was when the side who opened the dispute withdraws it
        Status.DISPUTED: {Status.COMPLETED, Status.REFUNDED, Status.FUNDED, Status.DELIVERED},
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
    # The remainder clock: delivered but not fully funded, the employer has ESCROW_REMAINDER_DAYS to pay the rest
    # (or dispute); after it the freelancer may dispute non-payment.
    remainder_due_at = models.DateTimeField(_("the rest is due by"), null=True, blank=True, db_index=True)
    remainder_warned_for = models.DateTimeField(_("warned of the rest at"), null=True, blank=True)
    remainder_lapsed = models.BooleanField(_("the time to pay the rest ran out"), default=False)
    # How often the amount was changed by agreement: it is part of each funding's idempotency key, so funding
    # to an amount the milestone had before a change is a new payment, not a repeat.
    amount_changes = models.PositiveSmallIntegerField(_("amount changes"), default=0)
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

    @property
    def is_open(self) -> bool:
        return self.status not in self.CLOSED

    def is_late(self, today) -> bool:
        """Past its due date with no delivery (the work is still in progress, or not yet started)."""
        return bool(
            self.due_date and self.due_date < today and self.status in (self.Status.PENDING, self.Status.FUNDED)
        )

    def late_cancel_from(self):
        """The first day the employer may cancel late work (the due date plus MILESTONE_LATE_GRACE_DAYS)."""
        if not self.due_date:
            return None
        try:
            return self.due_date + timedelta(days=settings.MILESTONE_LATE_GRACE_DAYS + 1)
        except OverflowError:  # a due date at the end of the calendar: never late
            return None


class MilestoneEvent(ChoiceLabels, models.Model):
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
        DISPUTE_ANSWERED = "dispute_answered", _("Dispute answered")
        DISPUTE_ESCALATED = "dispute_escalated", _("Dispute sent to the platform")
        RELEASED = "released", _("Payment released")
        AUTO_RELEASED = "auto_released", _("Payment released automatically")
        REFUNDED = "refunded", _("Refunded to the employer")
        SPLIT = "split", _("Dispute settled by the platform")
        REMAINDER_LAPSED = "remainder_lapsed", _("The time to pay the rest ran out")
        OFFER_MADE = "offer_made", _("Offer made")
        OFFER_DECLINED = "offer_declined", _("Offer declined")
        OFFER_WITHDRAWN = "offer_withdrawn", _("Offer withdrawn")
        SETTLED = "settled", _("Settled by agreement")
        DISPUTE_DEFAULTED = "dispute_defaulted", _("Decided by the deadline: no answer")
        DISPUTE_WITHDRAWN = "dispute_withdrawn", _("Dispute withdrawn")
        PARTIAL_RELEASED = "partial_released", _("Part of the payment released")
        BONUS = "bonus", _("Bonus paid")
        CHANGE_PROPOSED = "change_proposed", _("Change proposed")
        CHANGE_ACCEPTED = "change_accepted", _("Change accepted")
        CHANGE_DECLINED = "change_declined", _("Change declined")
        CHANGE_WITHDRAWN = "change_withdrawn", _("Change withdrawn")
        MILESTONE_ADDED = "milestone_added", _("Milestone added by agreement")

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


class Dispute(ChoiceLabels, models.Model):
    """Either side's case about a milestone; its clocks stop while it runs. Stages, each with a deadline
    (`deadline`) and what happens when it passes:

    - open (the answer stage, DISPUTE_ANSWER_DAYS): the other side answers, offers, or escalates; no answer by the
      deadline and the claim of the side who opened it stands (`claim`: release to the freelancer, refund to the
      employer);
    - answered (negotiation, DISPUTE_NEGOTIATION_DAYS): either side offers an amount to the freelancer, the other
      accepts (carried out at once), declines or counters; at the deadline it goes to staff;
    - escalated: staff decide in the admin (no deadline: staff hold it);
    - resolved.
    """

    class Reason(models.TextChoices):
        # the employer's
        INCOMPLETE = "incomplete", _("The work is incomplete")
        NOT_AS_AGREED = "not_as_agreed", _("The work is not what was agreed")
        QUALITY = "quality", _("The quality is not acceptable")
        LATE = "late", _("The work is late")
        # the freelancer's
        NOT_PAID = "not_paid", _("The employer did not pay the rest")
        NO_ANSWER = "no_answer", _("The employer does not answer")
        OUT_OF_SCOPE = "out_of_scope", _("The employer asks for more than was agreed")
        # either
        OTHER = "other", _("Something else")

    EMPLOYER_REASONS = [Reason.INCOMPLETE, Reason.NOT_AS_AGREED, Reason.QUALITY, Reason.LATE, Reason.OTHER]
    FREELANCER_REASONS = [Reason.NOT_PAID, Reason.NO_ANSWER, Reason.OUT_OF_SCOPE, Reason.OTHER]

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for an answer")
        ANSWERED = "answered", _("Negotiation")
        ESCALATED = "escalated", _("With the platform")
        RESOLVED = "resolved", _("Resolved")

    class Claim(models.TextChoices):
        RELEASE = "release", _("Release the payment to the freelancer")
        REFUND = "refund", _("Refund the employer")

    ALLOWED_TRANSITIONS = {
        Status.OPEN: {Status.ANSWERED, Status.ESCALATED, Status.RESOLVED},
        Status.ANSWERED: {Status.ESCALATED, Status.RESOLVED},
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
    # What happens if the other side never answers; set from the side who opened it.
    claim = models.CharField(_("claim"), max_length=10, choices=Claim, default=Claim.REFUND)
    # Where the milestone was when the dispute opened, and the clock it stopped ("review" or "remainder") with the
    # time that clock had left: withdrawn, the milestone goes back and that clock resumes where it stopped (so a
    # dispute opened and withdrawn again and again never buys time).
    milestone_status_before = models.CharField(max_length=10, blank=True)
    paused_clock = models.CharField(max_length=10, blank=True)
    paused_left = models.DurationField(null=True, blank=True)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True, db_index=True)
    deadline_warned_for = models.DateTimeField(_("warned of the deadline at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
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

    def side_of_opener(self) -> str:
        return "freelancer" if self.opened_by_id == self.milestone.contract.freelancer_id else "employer"


class Offer(ChoiceLabels, models.Model):
    """An amount of a milestone's escrow to the freelancer (the rest back to the employer), offered by one side
    to the other: to settle a dispute, or to end the milestone by agreement. Accepted, it is carried out at once
    through the ledger's split; declined; or countered (the other side's new offer replaces it)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        COUNTERED = "countered", _("Countered")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        LAPSED = "lapsed", _("No longer valid")

    ALLOWED_TRANSITIONS = {
        Status.OPEN: {Status.ACCEPTED, Status.DECLINED, Status.COUNTERED, Status.WITHDRAWN, Status.LAPSED},
        Status.ACCEPTED: set(),
        Status.DECLINED: set(),
        Status.COUNTERED: set(),
        Status.WITHDRAWN: set(),
        Status.LAPSED: set(),
    }

    milestone = models.ForeignKey(Milestone, on_delete=models.PROTECT, related_name="offers")
    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, null=True, blank=True, related_name="offers")
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    to_freelancer = models.DecimalField(_("to the freelancer"), max_digits=14, decimal_places=2)
    note = models.TextField(_("message"), max_length=2000, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.OPEN, db_index=True)
    created_at = models.DateTimeField(_("made"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["milestone"], condition=Q(status="open"), name="one_open_offer"),
            models.CheckConstraint(condition=Q(to_freelancer__gte=0), name="offer_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.milestone_id} {self.to_freelancer} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class ContractChange(ChoiceLabels, models.Model):
    """A change to a running contract proposed by one side: a new milestone, or a milestone's new amount, scope,
    title or due date. The other side accepts (it applies at once) or declines."""

    class Kind(models.TextChoices):
        ADD = "add", _("Add a milestone")
        EDIT = "edit", _("Change a milestone")

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        LAPSED = "lapsed", _("No longer valid")

    ALLOWED_TRANSITIONS = {
        Status.OPEN: {Status.ACCEPTED, Status.DECLINED, Status.WITHDRAWN, Status.LAPSED},
        Status.ACCEPTED: set(),
        Status.DECLINED: set(),
        Status.WITHDRAWN: set(),
        Status.LAPSED: set(),
    }

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="changes")
    milestone = models.ForeignKey(Milestone, on_delete=models.PROTECT, null=True, blank=True, related_name="changes")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The new values (empty: unchanged).
    title = models.CharField(_("title"), max_length=200, blank=True)
    scope = models.TextField(_("scope"), max_length=2000, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    note = models.TextField(_("message"), max_length=2000, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.OPEN, db_index=True)
    created_at = models.DateTimeField(_("proposed"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    # What the milestone was before an accepted change (shown in the history).
    before = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("contract change")
        verbose_name_plural = _("contract changes")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["contract"], condition=Q(status="open"), name="one_open_change"),
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gt=0), name="change_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.kind} {self.status}"


class PhasingOffer(ChoiceLabels, models.Model):
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
