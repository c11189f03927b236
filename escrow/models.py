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

from marketplace.choices import ChoiceLabels


class Account(ChoiceLabels, models.Model):
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


class Transaction(ChoiceLabels, models.Model):
    """One movement of money: its entries sum to zero. Written once, never changed."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", _("Top-up")
        FUND = "fund", _("Payment into escrow")
        RELEASE = "release", _("Release to the freelancer")
        REFUND = "refund", _("Refund to the employer")
        SPLIT = "split", _("Dispute settlement")
        BONUS = "bonus", _("Bonus to the freelancer")
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
    # A name, not an import: escrow stores which milestone a movement is for but knows nothing of contracts.
    milestone = models.ForeignKey(
        "workspace.Milestone", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
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


class Payment(ChoiceLabels, models.Model):
    """Money coming in through a payment gateway: created, sent to the gateway, verified, credited."""

    class Status(models.TextChoices):
        CREATED = "created", _("Created")
        PENDING = "pending", _("At the bank")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Not paid in time")

    class FundStep(models.TextChoices):
        UPFRONT = "upfront", _("The upfront share")
        REST = "rest", _("The rest of the amount")

    ALLOWED_TRANSITIONS = {
        Status.CREATED: {Status.PENDING, Status.CANCELLED, Status.FAILED},
        Status.PENDING: {Status.PAID, Status.CANCELLED, Status.FAILED, Status.EXPIRED},
        Status.PAID: set(),
        # The gateway itself lists it as paid after the return said cancelled (a second try on the gateway's page,
        # or a forged "cancelled" return): what the gateway holds is credited.
        Status.CANCELLED: {Status.PAID},
        Status.FAILED: set(),
        # The gateway confirmed it after we had given up (the payer paid at the last moment): it is credited.
        Status.EXPIRED: {Status.PAID},
    }
    # Still waiting for the gateway's word: the reconciliation asks about these.
    WAITING = [Status.CREATED, Status.PENDING]
    # What a return or a webhook may settle; and, when the gateway itself lists the payment as paid, what the
    # reconciliation may (a cancelled one too: see CANCELLED above).
    SETTLEABLE = (Status.PENDING, Status.EXPIRED)
    SETTLEABLE_BY_GATEWAY = (Status.PENDING, Status.EXPIRED, Status.CANCELLED)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    gateway = models.CharField(_("gateway"), max_length=30)
    reference = models.CharField(_("reference"), max_length=64, unique=True)  # ours, sent to the gateway
    # The gateway's own id for the payment (Zarinpal's authority, Stripe's Checkout Session), set when started.
    gateway_token = models.CharField(_("gateway token"), max_length=100, blank=True, db_index=True)
    # The bank's tracking number once verified (Zarinpal's ref_id, Stripe's payment intent), and the card used.
    gateway_reference = models.CharField(_("gateway reference"), max_length=100, blank=True)
    card_mask = models.CharField(_("card"), max_length=32, blank=True)
    # When the reconciliation last asked the gateway, and when it confirmed a credited payment.
    checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed by the gateway"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.CREATED)
    next_url = models.CharField(max_length=300, blank=True)  # where the user goes once it is settled
    # When set, the verified payment goes on into this milestone's escrow (the shortfall of a funding).
    milestone = models.ForeignKey(
        "workspace.Milestone", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    fund_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    # The funding step this payment completes ("upfront" or "rest"): a second paid shortfall for the same step
    # funds nothing and stays in the wallet.
    fund_step = models.CharField(max_length=10, choices=FundStep, blank=True)
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


class PaymentIssue(ChoiceLabels, models.Model):
    """Something the gateway and our books disagree on, for staff: found by a callback, a webhook or the
    reconciliation, with the evidence. Money never moves because of an issue; staff settle it by hand."""

    class Kind(models.TextChoices):
        AMOUNT_MISMATCH = "amount_mismatch", _("Paid at the gateway, but not the amount asked")
        UNKNOWN_HERE = "unknown_here", _("Paid at the gateway, unknown here")
        UNKNOWN_THERE = "unknown_there", _("Credited here, unknown at the gateway")

    gateway = models.CharField(_("gateway"), max_length=30)
    token = models.CharField(_("gateway token"), max_length=100, blank=True)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="issues")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    evidence = models.JSONField(_("evidence"), default=dict)
    created_at = models.DateTimeField(_("found"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("payment issue")
        verbose_name_plural = _("payment issues")
        ordering = ["resolved_at", "-created_at"]
        constraints = [
            # The same disagreement is reported once, however often the reconciliation runs.
            models.UniqueConstraint(fields=["gateway", "token", "kind"], name="payment_issue_once"),
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.token} {self.get_kind_display()}"


class SandboxBankTransaction(models.Model):
    """The sandbox gateway's own books: what its "bank" page recorded, asked for when verifying."""

    class Status(models.TextChoices):
        PENDING = "pending", _("At the bank")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    ALLOWED_TRANSITIONS = {Status.PENDING: {Status.PAID, Status.CANCELLED}, Status.PAID: set(), Status.CANCELLED: set()}

    reference = models.CharField(max_length=64, unique=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
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


class PayoutBatch(ChoiceLabels, models.Model):
    """Withdrawals sent to the bank together as one group transfer (Paya) file; the bank's result file then
    says, line by line, which were paid (with the bank's tracking number) and which came back (escrow.payouts)."""

    class Status(models.TextChoices):
        SENT = "sent", _("Sent to the bank")
        SETTLED = "settled", _("Settled")

    ALLOWED_TRANSITIONS = {Status.SENT: {Status.SETTLED}, Status.SETTLED: set()}

    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.SENT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("made by")
    )
    created_at = models.DateTimeField(_("made"), auto_now_add=True)
    settled_at = models.DateTimeField(_("settled"), null=True, blank=True)
    # Every result file imported, with what each line did (the batch's history).
    imports = models.JSONField(_("result files imported"), default=list)

    class Meta:
        verbose_name = _("payout batch")
        verbose_name_plural = _("payout batches")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"HMK-B{self.pk}"


class Withdrawal(ChoiceLabels, models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        SENT = "sent", _("Sent to the bank")
        PAID = "paid", _("Paid")
        REJECTED = "rejected", _("Returned to the wallet")

    ALLOWED_TRANSITIONS = {
        Status.REQUESTED: {Status.SENT, Status.PAID, Status.REJECTED},
        Status.SENT: {Status.PAID, Status.REJECTED},
        Status.PAID: set(),
        Status.REJECTED: set(),
    }
    # Not yet paid or returned: the money waits in the user's "awaiting payout" account.
    OPEN = [Status.REQUESTED, Status.SENT]

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
    batch = models.ForeignKey(
        PayoutBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="withdrawals",
        verbose_name=_("payout batch"),
    )  # fmt: skip
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
    def reference(self) -> str:
        """Ours, on the bank's transfer line (شناسه واریز) and back on its result line."""
        return f"HMK-W{self.pk}"

    @property
    def amount_money(self) -> Money:
        return Money(self.amount, self.currency)
