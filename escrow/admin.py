"""The ledger in the admin: read-only. Withdrawals are processed here, through escrow.services."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from escrow.models import Account, Entry, Payment, PaymentEvent, PaymentIssue, Transaction, Withdrawal
from escrow.services import payment_issue_resolve, withdrawal_mark_paid, withdrawal_reject
from marketplace.errors import DomainError


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EntryInline(admin.TabularInline):
    model = Entry
    fields = ["account", "amount", "currency"]
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["key", "kind", "owner", "currency", "balance"]
    list_filter = ["kind", "currency"]
    search_fields = ["key", "owner__email"]
    list_select_related = ["owner"]


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "memo", "actor", "created_at", "idempotency_key"]
    list_filter = ["kind"]
    search_fields = ["idempotency_key", "memo", "actor__email"]
    list_select_related = ["actor"]
    inlines = [EntryInline]


class PaymentEventInline(EntryInline):
    model = PaymentEvent
    fields = ["created_at", "event", "data"]
    readonly_fields = fields


class PaymentIssueInline(EntryInline):
    model = PaymentIssue
    fields = ["created_at", "kind", "evidence", "resolved_at", "note"]
    readonly_fields = fields


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    """A payment's whole story: the gateway, its token and the bank's reference, the card, every event, and where
    the reconciliation stands."""

    list_display = ["reference", "user", "amount", "currency", "gateway", "status", "reconciliation", "created_at"]
    list_filter = ["status", "gateway"]
    search_fields = ["reference", "gateway_token", "gateway_reference", "user__email"]
    list_select_related = ["user"]
    fields = [
        "reference", "user", "amount", "currency", "gateway", "gateway_token", "gateway_reference", "card_mask",
        "status", "reconciliation", "checked_at", "confirmed_at", "milestone", "fund_step", "created_at",
    ]  # fmt: skip
    readonly_fields = fields
    inlines = [PaymentIssueInline, PaymentEventInline]

    @admin.display(description=_("reconciliation"))
    def reconciliation(self, obj):
        if obj.issues.filter(resolved_at__isnull=True).exists():
            return _("Needs staff: see the issues below")
        if obj.confirmed_at:
            return _("Confirmed by the gateway")
        if obj.status in Payment.WAITING:
            return _("Waiting for the gateway; asked again every few minutes")
        return "—"


@admin.register(PaymentIssue)
class PaymentIssueAdmin(ReadOnlyAdmin):
    """What the gateways and our books disagree on. No money moves from here: settle it with the gateway and the
    payer, then mark it resolved with a note."""

    list_display = ["created_at", "kind", "gateway", "token", "payment", "resolved_at"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter), "kind", "gateway"]
    search_fields = ["token", "payment__reference", "payment__user__email"]
    list_select_related = ["payment"]
    fields = ["kind", "gateway", "token", "payment", "evidence", "created_at", "resolved_at", "resolved_by", "note"]
    readonly_fields = fields
    actions = ["mark_resolved"]

    @admin.action(description=_("Mark the selected issues resolved"))
    def mark_resolved(self, request, queryset):
        count = 0
        for issue in queryset:
            try:
                payment_issue_resolve(issue=issue, by=request.user, note=_("Resolved in the admin."))
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
                return
            count += 1
        self.message_user(request, _("%(count)s issue(s) marked resolved.") % {"count": count}, messages.SUCCESS)


class WithdrawalForm(forms.ModelForm):
    class Meta:
        model = Withdrawal
        fields = ["bank_reference", "staff_note"]


@admin.register(Withdrawal)
class WithdrawalAdmin(admin.ModelAdmin):
    """Staff pay a requested withdrawal at the bank, then record it here with the bank's reference (or return
    it to the user's wallet with a note). The buttons call the services; nothing else is editable."""

    form = WithdrawalForm
    change_form_template = "admin/escrow/withdrawal/change_form.html"
    list_display = ["id", "user", "amount", "currency", "status", "created_at", "processed_at"]
    list_filter = ["status", "currency"]
    search_fields = ["user__email", "sheba", "bank_reference"]
    list_select_related = ["user"]
    readonly_fields = [
        "user", "amount", "currency", "status", "sheba", "card_number", "account_holder",
        "processed_by", "created_at", "processed_at",
    ]  # fmt: skip
    fields = [*readonly_fields, "bank_reference", "staff_note"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != Withdrawal.Status.REQUESTED:
            return self.fields
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        """Never save the form directly: the pressed button decides which service runs."""
        try:
            if "_mark_paid" in request.POST:
                withdrawal_mark_paid(
                    withdrawal=obj, by=request.user, bank_reference=form.cleaned_data.get("bank_reference", "")
                )
                self.message_user(request, _("The withdrawal is marked paid and the user is told."), messages.SUCCESS)
            elif "_reject" in request.POST:
                withdrawal_reject(withdrawal=obj, by=request.user, note=form.cleaned_data.get("staff_note", ""))
                self.message_user(request, _("The withdrawal is returned to the user's wallet."), messages.SUCCESS)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)

    def log_change(self, request, obj, message):
        return super().log_change(request, obj, message or "processed")
