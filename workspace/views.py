"""The per-contract workspace: budget, timeline, deliverables, and the Operations each person may take now."""

from uuid import uuid4

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.errors import DomainError, NotAllowed
from marketplace.storage import private_file_response
from marketplace.views_helpers import run_action
from proposals.models import Proposal
from reviews.forms import EmployerReviewForm, FreelancerReviewForm
from reviews.services import review_window_open
from workspace.forms import (
    BonusForm,
    ChangeForm,
    DisputeAnswerForm,
    LateCancelForm,
    OfferForm,
    PartialReleaseForm,
    RevisionForm,
    SideDisputeForm,
    UploadForm,
)
from workspace.models import Contract, ContractChange, Deliverable, Dispute, Milestone, Offer
from workspace.selectors import milestones_budget, workspace_contract
from workspace.services import changes, choosing, delivery, disputes, funding, rules, settling


def _contract_for(request, pk: int) -> Contract:
    contract = workspace_contract(pk=pk)
    if contract is None:
        raise Http404
    if contract.party(request.user) is None and not request.user.is_staff:
        raise PermissionDenied
    return contract


def _act(request, pk: int, action, done: str):
    run_action(request, action, done)
    return redirect("workspace", pk=pk)


def _milestone_of(contract: Contract, request) -> Milestone:
    """The milestone an action names (the form's `milestone` field); a single-delivery contract's only one."""
    milestones = list(contract.milestones.all())
    wanted = request.POST.get("milestone", "")
    if not wanted:
        return milestones[0]
    for milestone in milestones:
        if str(milestone.pk) == wanted:
            return milestone
    raise Http404


def _lazy(form_class, **kwargs):
    """A form made when the page first shows it: the page offers only the forms of the actions open now."""
    return SimpleLazyObject(lambda: form_class(**kwargs))


class _Fields:
    """A form's fields as the page shows them (partials/_field.html), each rendered once however often the page
    repeats the form (the change form, once per milestone and once to add one; the offer form, per milestone):
    Django renders a field through three templates, most of the page's rendering."""

    def __init__(self, form):
        self.form, self.html = form, {}

    def __getitem__(self, name: str) -> str:
        if name not in self.html:
            self.html[name] = render_to_string("partials/_field.html", {"field": self.form[name]})
        return self.html[name]


@login_required
def workspace(request, pk: int):
    contract = _contract_for(request, pk)
    party = contract.party(request.user)
    phases = []
    today = timezone.localdate()
    for milestone in contract.milestones.all():
        if milestone.status == Milestone.Status.CANCELLED:
            continue
        dispute = rules.open_dispute(milestone)
        phases.append(
            {
                "milestone": milestone,
                "deliverables": milestone.deliverables.all(),
                "dispute": dispute,
                "dispute_side": dispute.side_of_opener() if dispute else "",
                "offer": rules.open_offer(milestone),
                "offers": [o for o in milestone.offers.all() if dispute is None or o.dispute_id == dispute.pk],
                "operations": rules.available_operations(milestone=milestone, user=request.user),
                "funding_due": rules.funding_due(milestone),
                "may_download": rules.refusal("download", user=request.user, milestone=milestone) is None,
                "late": milestone.is_late(today),
                "remainder_lapsed": bool(milestone.remainder_due_at and milestone.remainder_due_at <= timezone.now()),
                "dispute_form": _lazy(SideDisputeForm, reasons=rules.dispute_reasons(milestone, party)),
            }
        )
    events = sorted(
        (event for phase in phases for event in phase["milestone"].events.all()), key=lambda e: (e.created_at, e.pk)
    )
    reviews = list(contract.reviews.select_related("author__profile"))
    my_review = next((r for r in reviews if r.author_id == request.user.pk), None)
    can_review = party is not None and my_review is None and review_window_open(contract)
    # Their idempotency tokens are in hidden inputs; their other fields through _Fields.
    release_form = _lazy(PartialReleaseForm, initial={"token": uuid4().hex})
    bonus_form = _lazy(BonusForm, initial={"token": uuid4().hex})
    return render(
        request,
        "workspace/workspace.html",
        {
            "contract": contract,
            "can_review": can_review,
            "review_form": (FreelancerReviewForm if party == "employer" else EmployerReviewForm)()
            if can_review
            else None,
            "my_review": my_review,
            "published_reviews": [r for r in reviews if r.published_at],
            "phases": phases,
            "phased": len(phases) > 1 or (phases and phases[0]["milestone"].upfront_share == 1),
            "budget": milestones_budget(contract.milestones.all()),
            "events": events,
            "upload_fields": _Fields(_lazy(UploadForm)),
            "answer_fields": _Fields(_lazy(DisputeAnswerForm)),
            "revision_fields": _Fields(_lazy(RevisionForm)),
            "late_fields": _Fields(_lazy(LateCancelForm)),
            "offer_fields": _Fields(_lazy(OfferForm)),
            "release_form": release_form,
            "release_fields": _Fields(release_form),
            "bonus_form": bonus_form,
            "bonus_fields": _Fields(bonus_form),
            "change_fields": _Fields(_lazy(ChangeForm)),
            "contract_operations": rules.contract_operations(contract=contract, user=request.user),
            "open_change": rules.open_change(contract),
            "past_changes": [c for c in contract.changes.all() if c.status != ContractChange.Status.OPEN][:10],
            "REVISION_LIMIT": settings.REVISION_LIMIT,
            "DISPUTE_ANSWER_DAYS": settings.DISPUTE_ANSWER_DAYS,
            "DISPUTE_NEGOTIATION_DAYS": settings.DISPUTE_NEGOTIATION_DAYS,
            "ESCROW_REMAINDER_DAYS": settings.ESCROW_REMAINDER_DAYS,
            "MILESTONE_LATE_GRACE_DAYS": settings.MILESTONE_LATE_GRACE_DAYS,
            "party": party,
            "ACCEPTANCE_DAYS": settings.ACCEPTANCE_DAYS,
            "cancel_allowed_from": rules.cancel_allowed_from(contract),
        },
    )


@login_required
@require_POST
def select_proposal(request, proposal_pk: int):
    """The employer's "Choose and pay": the contract, then the upfront share (wallet or gateway)."""
    proposal = get_object_or_404(Proposal, pk=proposal_pk)
    try:
        contract = choosing.contract_select(proposal=proposal, by=request.user)
    except NotAllowed as error:
        raise PermissionDenied(error.message) from error
    except DomainError as error:
        running = (
            Contract.objects.filter(project_id=proposal.project_id, employer=request.user)
            .exclude(status__in=[Contract.Status.CANCELLED, Contract.Status.COMPLETED])
            .first()
        )
        if running is None:
            messages.error(request, error.message)
        else:  # chosen already (a second tab, the Back button): say where the contract is
            messages.info(
                request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    _("You already chose a freelancer for this project."),
                    reverse("workspace", args=[running.pk]),
                    _("Open the workspace"),
                ),
            )
        return redirect("project_proposals", pk=proposal.project_id)
    return _pay_step(request, contract.milestones.get(), "upfront")


def _pay_step(request, milestone: Milestone, step: str):
    """Pay the named step (funding.milestone_pay: from the wallet, or the shortfall through the gateway)."""
    contract_pk = milestone.contract_id
    try:
        outcome = funding.milestone_pay(
            milestone=milestone, by=request.user, step=step, site_url=request.build_absolute_uri("/"),
            next_url=reverse("workspace", args=[contract_pk]),
        )  # fmt: skip
    except NotAllowed as error:
        raise PermissionDenied(error.message) from error
    except (DomainError, LookupError) as error:
        messages.error(request, getattr(error, "message", str(error)))
        return redirect("workspace", pk=contract_pk)
    if outcome.redirect_url:
        return redirect(outcome.redirect_url)
    messages.success(request, _("The amount is paid into secure payment."))
    return redirect("workspace", pk=contract_pk)


@login_required
@require_POST
def fund(request, pk: int):
    contract = _contract_for(request, pk)
    milestone = _milestone_of(contract, request)
    return _pay_step(request, milestone, request.POST.get("step", ""))


@login_required
@require_POST
def operate(request, pk: int, operation: str):
    """The Operations menu's simple actions."""
    contract = _contract_for(request, pk)
    milestone = _milestone_of(contract, request)
    user = request.user
    table = {
        "accept": (
            lambda: choosing.contract_accept(contract=contract, by=user),
            _("You accepted the work. Good luck!"),
        ),
        "decline": (lambda: choosing.contract_decline(contract=contract, by=user), _("You declined the work.")),
        "cancel": (
            lambda: choosing.contract_cancel_unanswered(contract=contract, by=user),
            _("The contract is cancelled and the guarantee is back in your wallet."),
        ),
        "done": (lambda: delivery.milestone_mark_delivered(milestone=milestone, by=user), _("Marked as done.")),
        "approve": (
            lambda: delivery.milestone_approve(milestone=milestone, by=user),
            _("The payment is released to the freelancer."),
        ),
    }
    if operation not in table:
        raise Http404
    action, done = table[operation]
    return _act(request, pk, action, done)


@login_required
@require_POST
def upload(request, pk: int):
    contract = _contract_for(request, pk)
    milestone = _milestone_of(contract, request)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        response = redirect("workspace", pk=pk)
    else:
        response = _act(
            request, pk,
            lambda: delivery.deliverable_upload(
                milestone=milestone, by=request.user, upload=form.cleaned_data["file"], note=form.cleaned_data["note"]
            ),
            _("The file is uploaded. When the work is complete, choose Operations → Done."),
        )  # fmt: skip
    if request.htmx:  # the upload form posts with a progress bar; the page then reloads itself
        reply = HttpResponse(status=204)
        reply["HX-Redirect"] = reverse("workspace", args=[pk])
        return reply
    return response


def _form_refused(request, form) -> bool:
    """Say what is wrong with a form (nothing is done); True when it was refused."""
    if form.is_valid():
        return False
    messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
    return True


@login_required
@require_POST
def dispute_create(request, pk: int):
    contract = _contract_for(request, pk)
    milestone = _milestone_of(contract, request)
    form = SideDisputeForm(request.POST, request.FILES)
    if _form_refused(request, form):
        return redirect("workspace", pk=pk)
    return _act(
        request, pk,
        lambda: disputes.dispute_open(milestone=milestone, by=request.user, **form.cleaned_data),
        _("The dispute is created. The other side has %(days)s days to answer.")
        % {"days": settings.DISPUTE_ANSWER_DAYS},
    )  # fmt: skip


@login_required
@require_POST
def cancel_late(request, pk: int):
    """The employer cancels late work: a dispute with reason `late`, refunded unless the freelancer answers."""
    contract = _contract_for(request, pk)
    milestone = _milestone_of(contract, request)
    form = LateCancelForm(request.POST)
    if _form_refused(request, form):
        return redirect("workspace", pk=pk)
    return _act(
        request, pk,
        lambda: disputes.dispute_open(
            milestone=milestone, by=request.user, reason=Dispute.Reason.LATE,
            description=form.cleaned_data["description"],
        ),
        _("The freelancer has %(days)s days to dispute the cancellation; otherwise the amount is refunded to you.")
        % {"days": settings.DISPUTE_ANSWER_DAYS},
    )  # fmt: skip


@login_required
@require_POST
def offer_create(request, pk: int):
    contract = _contract_for(request, pk)
    milestone = _milestone_of(contract, request)
    form = OfferForm(request.POST)
    if _form_refused(request, form):
        return redirect("workspace", pk=pk)
    return _act(
        request, pk,
        lambda: settling.offer_make(
            milestone=milestone, by=request.user, to_freelancer=form.cleaned_data["to_freelancer"],
            note=form.cleaned_data["note"],
        ),
        _("Your offer is sent; the other side can accept, decline or counter it."),
    )  # fmt: skip


def _answer(request, pk: int, table: dict, operation: str, **target):
    """Accept, decline or withdraw an offer or a change: the operation named in the address, or 404."""
    if operation not in table:
        raise Http404
    service, done = table[operation]
    return _act(request, pk, lambda: service(by=request.user, **target), done)


@login_required
@require_POST
def offer_action(request, pk: int, offer_pk: int, operation: str):
    contract = _contract_for(request, pk)
    offer = get_object_or_404(Offer, pk=offer_pk, milestone__contract=contract)
    table = {
        "accept": (settling.offer_accept, _("The offer is accepted and carried out.")),
        "decline": (settling.offer_decline, _("The offer is declined.")),
        "withdraw": (settling.offer_withdraw, _("Your offer is withdrawn.")),
    }
    return _answer(request, pk, table, operation, offer=offer)


@login_required
@require_POST
def release_part(request, pk: int):
    contract = _contract_for(request, pk)
    milestone = _milestone_of(contract, request)
    form = PartialReleaseForm(request.POST)
    if _form_refused(request, form):
        return redirect("workspace", pk=pk)
    return _act(
        request, pk,
        lambda: settling.milestone_release_part(
            milestone=milestone, by=request.user, amount=form.cleaned_data["amount"], token=form.cleaned_data["token"]
        ),
        _("The amount is released to the freelancer; the rest stays in secure payment."),
    )  # fmt: skip


@login_required
@require_POST
def bonus(request, pk: int):
    contract = _contract_for(request, pk)
    form = BonusForm(request.POST)
    if _form_refused(request, form):
        return redirect("workspace", pk=pk)
    data = form.cleaned_data
    return _act(
        request, pk,
        lambda: settling.contract_bonus(
            contract=contract, by=request.user, amount=data["amount"], note=data["note"], token=data["token"]
        ),
        _("The bonus is paid to the freelancer."),
    )  # fmt: skip


@login_required
@require_POST
def change_create(request, pk: int):
    contract = _contract_for(request, pk)
    kind = request.POST.get("kind", "")
    milestone = _milestone_of(contract, request) if kind == ContractChange.Kind.EDIT else None
    form = ChangeForm(request.POST)
    if _form_refused(request, form):
        return redirect("workspace", pk=pk)
    return _act(
        request, pk,
        lambda: changes.change_propose(contract=contract, by=request.user, kind=kind, milestone=milestone,
                                       **form.cleaned_data),
        _("The change is proposed; it applies when the other side accepts it."),
    )  # fmt: skip


@login_required
@require_POST
def change_action(request, pk: int, change_pk: int, operation: str):
    contract = _contract_for(request, pk)
    change = get_object_or_404(ContractChange, pk=change_pk, contract=contract)
    table = {
        "accept": (changes.change_accept, _("The change is accepted and applies now.")),
        "decline": (changes.change_decline, _("The change is declined.")),
        "withdraw": (changes.change_withdraw, _("The change is withdrawn.")),
    }
    return _answer(request, pk, table, operation, change=change)


@login_required
@require_POST
def request_changes(request, pk: int):
    contract = _contract_for(request, pk)
    milestone = _milestone_of(contract, request)
    form = RevisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _act(
        request, pk, lambda: delivery.milestone_request_changes(milestone=milestone, by=request.user, note=note),
        _("The freelancer is asked for the changes; the review clock starts again with the next delivery."),
    )  # fmt: skip


@login_required
@require_POST
def dispute_action(request, pk: int, dispute_pk: int, operation: str):
    contract = _contract_for(request, pk)
    dispute = get_object_or_404(Dispute, pk=dispute_pk, milestone__contract=contract)
    if operation == "answer":
        form = DisputeAnswerForm(request.POST)
        message = form.cleaned_data["message"] if form.is_valid() else ""
        return _act(
            request, pk, lambda: disputes.dispute_answer(dispute=dispute, by=request.user, message=message),
            _("Your answer is sent. Settle by an offer, or the platform decides after %(days)s days.")
            % {"days": settings.DISPUTE_NEGOTIATION_DAYS},
        )  # fmt: skip
    if operation == "escalate":
        return _act(
            request, pk, lambda: disputes.dispute_escalate(dispute=dispute, by=request.user),
            _("The dispute is sent to the platform; staff will settle it."),
        )  # fmt: skip
    if operation == "withdraw":
        return _act(
            request, pk, lambda: disputes.dispute_withdraw(dispute=dispute, by=request.user),
            _("The dispute is withdrawn; the work goes on and its clock starts again."),
        )  # fmt: skip
    raise Http404


@login_required
def deliverable_download(request, pk: int, deliverable_pk: int):
    """Only the parties and staff, and only once the milestone is fully funded. Never a MEDIA URL."""
    contract = _contract_for(request, pk)
    deliverable = get_object_or_404(
        Deliverable.objects.select_related("milestone"), pk=deliverable_pk, milestone__contract=contract
    )
    deliverable.milestone.contract = contract
    try:
        delivery.deliverable_check_download(deliverable=deliverable, user=request.user)
    except NotAllowed as error:
        raise PermissionDenied(error.message) from error
    filename = f"{contract.project_id}-v{deliverable.version}.zip"
    return private_file_response(deliverable.file, filename=filename, content_type="application/zip")
