"""Contracts and disputes in the admin. A dispute's page holds the whole case (the parties, the money, the
timeline, every delivered version and the conversation); staff settle it through the same service as everything
else (workspace.services.disputes.dispute_resolve). Contracts are read-only."""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from escrow.admin import ReadOnlyAdmin
from marketplace.errors import DomainError
from proposals.models import Message
from workspace.models import Contract, Dispute
from workspace.services.disputes import dispute_resolve

RESOLVED = _("The dispute is resolved and both parties are told.")


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
    list_display = ["id", "milestone", "opened_by", "reason", "status", "deadline", "created_at"]
    list_filter = ["status", "reason"]
    search_fields = ["milestone__contract__project__title", "description"]
    list_select_related = ["milestone__contract__project"]
    readonly_fields = [
        "parties", "milestone", "money", "opened_by", "reason", "description", "attachment", "status", "claim",
        "deadline", "created_at", "answered_at", "resolution", "resolved_by", "resolved_at", "timeline",
        "offer_history", "deliverable_versions", "conversation",
    ]  # fmt: skip
    fieldsets = [
        (
            _("The case"),
            {
                "fields": [
                    "parties",
                    "milestone",
                    "money",
                    "opened_by",
                    "reason",
                    "description",
                    "attachment",
                    "status",
                    "claim",
                    "deadline",
                    "created_at",
                    "answered_at",
                ]
            },
        ),
        (_("What happened"), {"fields": ["timeline", "offer_history", "deliverable_versions", "conversation"]}),
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

    @admin.display(description=_("offers"))
    def offer_history(self, obj):
        offers = obj.milestone.offers.select_related("made_by").order_by("created_at")
        return format_html_join(
            "", "<div>{} · <b>{}</b> → {} {} · {} · {}</div>",
            (
                (o.created_at.strftime("%Y-%m-%d %H:%M"), o.made_by, o.to_freelancer, obj.milestone.contract.currency,
                 o.get_status_display(), o.note[:300])
                for o in offers
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
        """Never save the form itself: a chosen resolution runs workspace.services.disputes.dispute_resolve."""
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
            self.message_user(request, RESOLVED, messages.SUCCESS)
            request._dispute_resolved = True

    def message_user(self, request, message, *args, **kwargs):
        """After a resolution, one message: ours says what happened; the admin's '…was changed successfully' is
        dropped (nothing was edited)."""
        if getattr(request, "_dispute_resolved", False) and str(message) != str(RESOLVED):
            return
        super().message_user(request, message, *args, **kwargs)


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdmin):
    list_display = ["id", "project", "employer", "freelancer", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["project__title", "employer__email", "freelancer__email"]
    list_select_related = ["project", "employer", "freelancer"]
