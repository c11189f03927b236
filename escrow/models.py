"""The double-entry ledger, payments through a gateway, and withdrawals.

Every movement of money is one `Transaction` whose `Entry` rows sum to zero per currency; an `Account`'s
`balance` is a cache of the sum of its entries. `escrow.ledger.ledger_post` is the only writer. On PostgreSQL the
database enforces it too (migration 0002): a deferred constraint trigger rejects an unbalanced transaction at
commit, and entries and transactions cannot be updated or deleted.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from marketplace.currency import round_amount
from marketplace.storage import private_storage


class Account(models.Model):
    class Kind(models.TextChoices):
        WALLET = "wallet", _("Wallet")
        ESCROW = "escrow", _("Escrow")
        PAYOUT = "payout", _("Awaiting payout")
        REVENUE = "revenue", _("Platform revenue")
        CLEARING = "clearing", _("Gateway clearing")

    # Accounts whose balance may never go below zero (the gateway clearing account is the outside world).
    NON_NEGATIVE = [Kind.WALLET, Kind.ESCROW, Kind.PAYOUT, Kind.REVENUE]

    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    currency = models.CharField(_("currency"), max_length=3)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_accounts"
    )
    # What the account is for, unique per currency: "wallet:<user>", "payout:<user>", "escrow:<milestone>",
    # "revenue", "clearing:<gateway>".
    key = models.CharField(_("key"), max_length=100)
    balance = models.DecimalField(_("balance"), max_digits=18, decimal_places=2, default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [
            models.UniqueConstraint(fields=["key", "currency"], name="ledger_account_key"),
            models.CheckConstraint(
                condition=Q(balance__gte=0) | Q(kind="clearing"), name="ledger_account_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.currency})"

    @property
    def balance_money(self) -> Money:
        return Money(self.balance, self.currency)


class Transaction(models.Model):
    """One movement of money: its entries sum to zero. Written once, never changed."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", _("Top-up")
        FUND = "fund", _("Payment into escrow")
        RELEASE = "release", _("Release to the freelancer")
        REFUND = "refund", _("Refund to the employer")
        SPLIT = "split", _("Dispute settlement")
        WITHDRAWAL_REQUEST = "withdrawal_request", _("Withdrawal request")
        WITHDRAWAL_PAID = "withdrawal_paid", _("Withdrawal paid")
        WITHDRAWAL_REJECTED = "withdrawal_rejected", _("Withdrawal returned")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    idempotency_key = models.CharField(_("idempotency key"), max_length=120, unique=True)
    memo = models.CharField(_("memo"), max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    payment = models.ForeignKey("Payment", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    withdrawal = models.ForeignKey("Withdrawal", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    milestone = models.ForeignKey("Milestone", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class Entry(models.Model):
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)  # signed: + credits the account
    currency = models.CharField(_("currency"), max_length=3)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="ledger_entry_not_zero")]
        indexes = [models.Index(fields=["account", "transaction"], name="ledger_entry_account_idx")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.amount}"

    @property
    def amount_money(self) -> Money:
        return Money(self.amount, self.currency)


class Payment(models.Model):
    """Money coming in through a payment gateway: created, sent to the gateway, verified, credited."""

    class Status(models.TextChoices):
        CREATED = "created", _("Created")
        PENDING = "pending", _("At the bank")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")
        FAILED = "failed", _("Failed")

    ALLOWED_TRANSITIONS = {
        Status.CREATED: {Status.PENDING, Status.CANCELLED, Status.FAILED},
        Status.PENDING: {Status.PAID, Status.CANCELLED, Status.FAILED},
        Status.PAID: set(),
        Status.CANCELLED: set(),
        Status.FAILED: set(),
    }

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    gateway = models.CharField(_("gateway"), max_length=30)
    reference = models.CharField(_("reference"), max_length=64, unique=True)  # ours, sent to the gateway
    gateway_reference = models.CharField(_("gateway reference"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.CREATED)
    next_url = models.CharField(max_length=300, blank=True)  # where the user goes once it is settled
    # When set, the verified payment goes on into this milestone's escrow (the shortfall of a funding).
    milestone = models.ForeignKey("Milestone", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    fund_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    # The funding step this payment completes ("upfront" or "rest"): a second paid shortfall for the same step
    # funds nothing and stays in the wallet.
    fund_step = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")]

    def __str__(self) -> str:
        return self.reference

    @property
    def amount_money(self) -> Money:
        return Money(self.amount, self.currency)


class PaymentEvent(models.Model):
    """The payment's whole history, append-only: what happened, what the gateway said, and when."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="events")
    event = models.CharField(_("event"), max_length=40)
    data = models.JSONField(_("data"), default=dict)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment event")
        verbose_name_plural = _("payment events")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.payment_id} {self.event}"


class SandboxBankTransaction(models.Model):
    """The sandbox gateway's own books: what its "bank" page recorded, asked for when verifying."""

    reference = models.CharField(max_length=64, unique=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, default="pending")  # pending, paid, cancelled
    card_last4 = models.CharField(max_length=4, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("sandbox bank transaction")
        verbose_name_plural = _("sandbox bank transactions")

    def __str__(self) -> str:
        return f"{self.reference} {self.status}"

    @property
    def amount_money(self) -> Money:
        return Money(self.amount, self.currency)


class Withdrawal(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        PAID = "paid", _("Paid")
        REJECTED = "rejected", _("Rejected")

    ALLOWED_TRANSITIONS = {
        Status.REQUESTED: {Status.PAID, Status.REJECTED},
        Status.PAID: set(),
        Status.REJECTED: set(),
    }

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="withdrawals")
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.REQUESTED, db_index=True)
    # The bank details as they were when requested (the user may change theirs later).
    sheba = models.CharField(_("Sheba (IBAN)"), max_length=26)
    card_number = models.CharField(_("bank card number"), max_length=16, blank=True)
    account_holder = models.CharField(_("account holder"), max_length=100)
    bank_reference = models.CharField(_("bank reference"), max_length=100, blank=True)
    staff_note = models.CharField(_("note to the user"), max_length=255, blank=True)
    processed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        verbose_name = _("withdrawal")
        verbose_name_plural = _("withdrawals")
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="withdrawal_amount_positive")]

    def __str__(self) -> str:
        return f"{self.user} {self.amount} {self.currency}"

    @property
    def amount_money(self) -> Money:
        return Money(self.amount, self.currency)


# --- contracts and milestones (DESIGN.md, "Contracts and milestones") --------------------------------------


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
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.project}"

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
        Status.FUNDED: {Status.DELIVERED, Status.REFUNDED, Status.DISPUTED},
        Status.DELIVERED: {Status.COMPLETED, Status.DISPUTED},
        Status.DISPUTED: {Status.DELIVERED, Status.COMPLETED, Status.REFUNDED},
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
    # The auto_release_at the employer was last warned about: a new delivery sets a new time and a new warning.
    release_warned_for = models.DateTimeField(_("warned of the release at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
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
