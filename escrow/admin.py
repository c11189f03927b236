"""The ledger in the admin: read-only. Withdrawals are processed here, through escrow.services."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from djmoney.money import Money

from escrow.models import Account, Entry, Payment, PaymentEvent, PaymentIssue, PayoutBatch, Transaction, Withdrawal
from escrow.payouts import payout_batch_create, payout_batch_file, payout_batch_import
from escrow.services import payment_issue_resolve, withdrawal_mark_paid, withdrawal_reject
from marketplace.errors import DomainError
from marketplace.templatetags.l10n_fa import digits, money


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

    def get_queryset(self, request):
        open_issues = PaymentIssue.objects.filter(payment=OuterRef("pk"), resolved_at__isnull=True)
        return super().get_queryset(request).annotate(has_open_issue=Exists(open_issues))

    @admin.display(description=_("reconciliation"))
    def reconciliation(self, obj):
        if obj.has_open_issue:
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
    list_display = ["id", "user", "amount", "currency", "status", "batch", "created_at", "processed_at"]
    list_filter = ["status", "currency"]
    search_fields = ["user__email", "sheba", "bank_reference"]
    list_select_related = ["user", "batch"]
    readonly_fields = [
        "user", "amount", "currency", "status", "batch", "sheba", "card_number", "account_holder",
        "processed_by", "created_at", "processed_at",
    ]  # fmt: skip
    actions = ["make_payout_batch"]

    @admin.action(description=_("Send the selected withdrawals to the bank as a payout batch"))
    def make_payout_batch(self, request, queryset):
        try:
            batch = payout_batch_create(withdrawals=list(queryset), by=request.user)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return None
        self.message_user(
            request, _("Payout batch %(batch)s is made: download its file for the bank.") % {"batch": batch.reference},
            messages.SUCCESS,
        )  # fmt: skip
        return HttpResponseRedirect(reverse("admin:escrow_payoutbatch_change", args=[batch.pk]))

    fields = [*readonly_fields, "bank_reference", "staff_note"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status not in Withdrawal.OPEN:
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


class BatchWithdrawalInline(admin.TabularInline):
    model = Withdrawal
    fields = ["id", "user", "amount", "sheba", "account_holder", "status", "bank_reference", "staff_note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class ResultFileForm(forms.Form):
    result_file = forms.FileField(label=_("The bank's result file (CSV)"))


@admin.register(PayoutBatch)
class PayoutBatchAdmin(ReadOnlyAdmin):
    """A payout batch: download its transfer file for the bank's group Paya, then upload the bank's result file;
    each line pays or returns its withdrawal (escrow.payouts has both layouts)."""

    change_form_template = "admin/escrow/payoutbatch/change_form.html"
    list_display = ["batch_reference", "currency", "status", "created_by", "created_at", "settled_at"]
    list_filter = ["status", "currency"]
    fields = [
        "batch_reference", "currency", "status", "total", "created_by", "created_at", "settled_at", "import_history"
    ]  # fmt: skip
    readonly_fields = fields
    inlines = [BatchWithdrawalInline]

    @admin.display(description=_("reference"))
    def batch_reference(self, obj):
        return obj.reference

    @admin.display(description=_("total"))
    def total(self, obj):
        withdrawals = list(obj.withdrawals.all())
        amount = money(Money(sum((w.amount for w in withdrawals), Decimal(0)), obj.currency))
        count = ngettext("%(count)s withdrawal", "%(count)s withdrawals", len(withdrawals)) % {
            "count": digits(len(withdrawals))
        }
        return f"{amount} · {count}"

    @admin.display(description=_("result files imported"))
    def import_history(self, obj):
        return format_html_join(
            "", "<div>{} · {} {} · {} {} · {} {}{}</div>",
            (
                (
                    entry["at"][:16].replace("T", " "), entry["paid"], _("paid"), entry["returned"], _("returned"),
                    entry["unchanged"], _("unchanged"),
                    format_html_join("", "<br>{}", ((p,) for p in entry["problems"])),
                )
                for entry in obj.imports
            ),
        )  # fmt: skip

    def get_urls(self):
        return [
            path("<int:pk>/file/", self.admin_site.admin_view(self.transfer_file), name="escrow_payoutbatch_file"),
            path("<int:pk>/result/", self.admin_site.admin_view(self.result_file), name="escrow_payoutbatch_result"),
            *super().get_urls(),
        ]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "result_form": ResultFileForm()}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def transfer_file(self, request, pk: int):
        if not request.user.is_staff:
            raise PermissionDenied
        batch = get_object_or_404(PayoutBatch, pk=pk)
        response = HttpResponse(payout_batch_file(batch=batch), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{batch.reference}.csv"'
        return response

    def result_file(self, request, pk: int):
        if request.method != "POST" or not request.user.is_staff:
            raise PermissionDenied
        batch = get_object_or_404(PayoutBatch, pk=pk)
        form = ResultFileForm(request.POST, request.FILES)
        if not form.is_valid():
            self.message_user(request, _("Choose the bank's result file."), messages.ERROR)
        elif form.cleaned_data["result_file"].size > 5 * 1024 * 1024:
            self.message_user(request, _("This file is too large to be a result file."), messages.ERROR)
        else:
            try:
                report = payout_batch_import(
                    batch=batch, by=request.user, content=form.cleaned_data["result_file"].read()
                )
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                summary = _("%(paid)s paid, %(returned)s returned, %(unchanged)s unchanged.") % report.as_dict()
                self.message_user(request, summary, messages.WARNING if report.problems else messages.SUCCESS)
                for problem in report.problems:
                    self.message_user(request, problem, messages.WARNING)
        return HttpResponseRedirect(reverse("admin:escrow_payoutbatch_change", args=[batch.pk]))
