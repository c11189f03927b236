"""The ledger in the admin: read-only. Withdrawals are processed here, through escrow.services."""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from escrow.models import Account, Contract, Dispute, Entry, Payment, PaymentEvent, Transaction, Withdrawal
from escrow.services import withdrawal_mark_paid, withdrawal_reject
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


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["reference", "user", "amount", "currency", "gateway", "status", "created_at"]
    list_filter = ["status", "gateway"]
    search_fields = ["reference", "gateway_reference", "user__email"]
    list_select_related = ["user"]
    inlines = [PaymentEventInline]


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


# --- disputes: the whole case on one page, resolved through escrow.contracts ---------------------------


class DisputeResolutionForm(forms.ModelForm):
    outcome = forms.ChoiceField(
        label=_("Resolution"),
        required=False,
        choices=[
            ("", "—"),
            ("release", _("Release everything to the freelancer")),
            ("refund", _("Refund everything to the employer")),
            ("split", _("Split: the freelancer gets the amount below")),
        ],
    )
    to_freelancer = forms.DecimalField(label=_("Freelancer's share (for a split)"), required=False, min_value=0)
    note = forms.CharField(label=_("Note to both parties"), required=False, max_length=255)

    class Meta:
        model = Dispute
        fields = []

    def clean(self):
        data = super().clean()
        if data.get("outcome") == "split" and data.get("to_freelancer") is None:
            self.add_error("to_freelancer", _("Enter the freelancer's share."))
        return data


@admin.register(Dispute)
class DisputeAdmin(admin.ModelAdmin):
    form = DisputeResolutionForm
    list_display = ["id", "milestone", "reason", "status", "created_at"]
    list_filter = ["status", "reason"]
    search_fields = ["milestone__contract__project__title", "description"]
    list_select_related = ["milestone__contract__project"]
    readonly_fields = [
        "parties", "milestone", "money", "reason", "description", "status", "created_at", "resolution",
        "resolved_by", "resolved_at", "timeline", "deliverable_versions", "conversation",
    ]  # fmt: skip
    fieldsets = [
        (
            _("The case"),
            {"fields": ["parties", "milestone", "money", "reason", "description", "status", "created_at"]},
        ),
        (_("What happened"), {"fields": ["timeline", "deliverable_versions", "conversation"]}),
        (_("Resolution"), {"fields": ["resolution", "resolved_by", "resolved_at", "outcome", "to_freelancer", "note"]}),
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("parties"))
    def parties(self, obj):
        contract = obj.milestone.contract
        return f"{_('Employer')}: {contract.employer} · {_('Freelancer')}: {contract.freelancer}"

    @admin.display(description=_("money"))
    def money(self, obj):
        m = obj.milestone
        figures = f"{_('amount')} {m.amount} · {_('funded')} {m.funded} · {_('In escrow')} {m.in_escrow}"
        return f"{figures} ({m.contract.currency})"

    @admin.display(description=_("timeline"))
    def timeline(self, obj):
        rows = obj.milestone.events.select_related("actor").order_by("created_at")
        return format_html_join(
            "", "<div>{} · <b>{}</b> · {} {}</div>",
            (
                (e.created_at.strftime("%Y-%m-%d %H:%M"), e.get_kind_display(), e.actor or "—", e.note[:200])
                for e in rows
            ),
        )  # fmt: skip

    @admin.display(description=_("deliverable versions"))
    def deliverable_versions(self, obj):
        return format_html_join(
            "", "<div>v{} · {} · {} bytes · <code>{}</code></div>",
            ((d.version, d.original_name, d.size, d.sha256) for d in obj.milestone.deliverables.order_by("version")),
        )  # fmt: skip

    @admin.display(description=_("conversation"))
    def conversation(self, obj):
        from proposals.models import Message

        contract = obj.milestone.contract
        messages_ = (
            Message.objects.filter(conversation__project=contract.project, conversation__freelancer=contract.freelancer)
            .select_related("sender")
            .order_by("created_at")[:200]
        )
        return format_html_join(
            "", "<div>{} · <b>{}</b>: {}</div>",
            ((m.created_at.strftime("%Y-%m-%d %H:%M"), m.sender, m.body[:500]) for m in messages_),
        )  # fmt: skip

    def save_model(self, request, obj, form, change):
        """Never save the form itself: a chosen resolution runs escrow.contracts.dispute_resolve."""
        from escrow.contracts import dispute_resolve

        outcome = form.cleaned_data.get("outcome")
        if not outcome:
            return
        try:
            dispute_resolve(
                dispute=obj, by=request.user, outcome=outcome,
                to_freelancer=form.cleaned_data.get("to_freelancer"), note=form.cleaned_data.get("note", ""),
            )  # fmt: skip
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, _("The dispute is resolved and both parties are told."), messages.SUCCESS)


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdmin):
    list_display = ["id", "project", "employer", "freelancer", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["project__title", "employer__email", "freelancer__email"]
    list_select_related = ["project", "employer", "freelancer"]
