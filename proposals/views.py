from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from invitations.selectors import invitations_for_project
from marketplace.errors import DomainError, NotAllowed
from marketplace.ratelimits import user_rate_limit
from marketplace.storage import private_file_response
from marketplace.views_helpers import run_action
from projects.models import Project
from proposals import poll
from proposals.forms import MessageForm, PhasingCommentForm, ProposalForm, phase_formset
from proposals.models import Conversation, Message, Proposal
from proposals.selectors import (
    conversation_detail,
    conversation_ids,
    conversations_for,
    messages_after,
    messages_page,
    proposals_for_employer,
)
from proposals.services import (
    conversation_can_read,
    conversation_can_write,
    conversation_mark_read,
    conversation_typing,
    message_send,
    proposal_edit,
    proposal_review,
    proposal_submit,
    proposal_withdraw,
)
from reviews.selectors import reputations
from workspace.models import PhasingOffer
from workspace.selectors import reassignable_phases
from workspace.services.phasing import (
    PhaseInput,
    phasing_comment,
    phasing_offer_accept,
    phasing_offer_reject,
    phasing_offer_send,
)


def _back_to_project(project_id: int, anchor: str = "proposal"):
    return redirect(f"{reverse('project_detail', args=[project_id])}#{anchor}")


@login_required
@require_POST
def proposal_create(request, pk: int):
    project = get_object_or_404(Project, pk=pk)
    form = ProposalForm(request.POST)
    if not form.is_valid():
        request.session["proposal_form"] = request.POST.dict()  # shown again, with its errors, on the project page
        return _back_to_project(pk)
    run_action(
        request,
        lambda: proposal_submit(project=project, freelancer=request.user, **form.cleaned_data),
        _("Your proposal is sent. You can talk with the employer and edit it until you are chosen."),
        rate_limit="proposal",
    )
    return _back_to_project(pk)


@login_required
@require_POST
def proposal_update(request, pk: int):
    proposal = get_object_or_404(Proposal, pk=pk)
    if proposal.freelancer_id != request.user.pk:
        raise PermissionDenied
    form = ProposalForm(request.POST)
    if not form.is_valid():
        request.session["proposal_form"] = request.POST.dict()
        return _back_to_project(proposal.project_id)
    run_action(
        request,
        lambda: proposal_edit(proposal=proposal, by=request.user, **form.cleaned_data),
        _("Your proposal is updated."),
        rate_limit="proposal_edit",
    )
    return _back_to_project(proposal.project_id)


@login_required
@require_POST
def proposal_withdraw_view(request, pk: int):
    proposal = get_object_or_404(Proposal, pk=pk)
    run_action(request, lambda: proposal_withdraw(proposal=proposal, by=request.user), _("Your proposal is withdrawn."))
    return _back_to_project(proposal.project_id)


REVIEW_ACTIONS = {
    "shortlist": Proposal.Status.SHORTLISTED,
    "unshortlist": Proposal.Status.SENT,
    "decline": Proposal.Status.DECLINED,
}


@login_required
@require_POST
def proposal_review_view(request, pk: int):
    proposal = get_object_or_404(Proposal.objects.select_related("project"), pk=pk)
    status = REVIEW_ACTIONS.get(request.POST.get("action", ""))
    if proposal.project.owner_id != request.user.pk:
        raise PermissionDenied
    if status is None:
        messages.error(request, _("Unknown action."))
    else:
        run_action(request, lambda: proposal_review(proposal=proposal, by=request.user, status=status), _("Saved."))
    return redirect(f"{reverse('project_proposals', args=[proposal.project_id])}#proposal-{proposal.pk}")


@login_required
def project_proposals(request, pk: int):
    """The employer's view of every proposal on a project (staff may look too)."""
    project = get_object_or_404(Project.objects.select_related("owner"), pk=pk)
    if project.owner_id != request.user.pk and not request.user.is_staff:
        raise PermissionDenied
    sort = request.GET.get("sort", "date")
    proposals = proposals_for_employer(project=project, sort=sort)
    conversations = conversation_ids(project_ids=[project.pk])
    ratings = reputations(user_ids=[p.freelancer_id for p in proposals])
    for proposal in proposals:
        proposal.conversation_id = conversations.get((project.pk, proposal.freelancer_id))
        proposal.rating = ratings.get(proposal.freelancer_id)
    return render(
        request,
        "proposals/project_proposals.html",
        {
            "project": project,
            "proposals": proposals,
            "invitations": invitations_for_project(project=project),
            "sort": sort if sort in ("date", "amount") else "date",
            "upfront_percent": settings.ESCROW_UPFRONT_SHARE * 100,
        },
    )


# --- chat ----------------------------------------------------------------------------------------------


def _conversation_for(request, pk: int):
    conversation = conversation_detail(pk=pk)
    if conversation is None:
        raise Http404
    if not conversation_can_read(conversation=conversation, user=request.user):
        raise PermissionDenied
    return conversation


@login_required
def project_chat(request, pk: int):
    """The freelancer's conversation about a project (the employer reaches each one from the proposals)."""
    conversation = get_object_or_404(Conversation, project_id=pk, freelancer=request.user)
    return redirect("conversation_detail", pk=conversation.pk)


@login_required
def conversation_list(request):
    return render(request, "proposals/conversation_list.html", {"conversations": conversations_for(user=request.user)})


@login_required
def conversation_view(request, pk: int):
    conversation = _conversation_for(request, pk)
    before = request.GET.get("before")
    page, has_older = messages_page(conversation=conversation, before=int(before) if (before or "").isdigit() else None)
    conversation_mark_read(conversation=conversation, user=request.user)
    return render(
        request,
        "proposals/conversation_detail.html",
        {
            "conversation": conversation,
            "page": page,
            "has_older": has_older,
            "form": MessageForm() if conversation_can_write(conversation=conversation, user=request.user) else None,
            "other": conversation.project.owner
            if conversation.side_of(request.user) == "freelancer"
            else conversation.freelancer,
            "seen_until": conversation.seen_until(request.user),
            "poll_seconds": settings.CHAT_POLL_SECONDS,
        },
    )


@login_required
@require_GET
def conversation_poll(request, pk: int):
    """htmx asks every few seconds for messages after the last one it shows."""
    conversation = _conversation_for(request, pk)
    after = request.GET.get("after", "0")
    new = messages_after(conversation=conversation, after=int(after) if after.isdigit() else 0)
    if new:
        conversation_mark_read(conversation=conversation, user=request.user)
    if conversation_can_write(conversation=conversation, user=request.user):
        # The next polls of this thread are answered by IdleChatPollMiddleware until something is said.
        poll.remember(conversation, conversation.messages.order_by("-pk").values_list("pk", flat=True).first() or 0)
    return render(
        request,
        "proposals/_messages.html",
        {"page": new, "conversation": conversation, "seen_until": conversation.seen_until(request.user)},
    )


@login_required
@require_POST
def conversation_read(request, pk: int):
    """The open thread showed a message that arrived live: the reader has read it (the other side sees "seen")."""
    conversation = _conversation_for(request, pk)
    conversation_mark_read(conversation=conversation, user=request.user)
    return HttpResponse(status=204)


@login_required
@require_POST
def conversation_typing_view(request, pk: int):
    conversation = _conversation_for(request, pk)
    try:
        conversation_typing(conversation=conversation, user=request.user)
    except NotAllowed as refusal:
        raise PermissionDenied(refusal.message) from refusal
    return HttpResponse(status=204)


@login_required
@require_POST
def message_create(request, pk: int):
    conversation = _conversation_for(request, pk)
    form = MessageForm(request.POST, request.FILES)
    error = None
    if form.is_valid():
        try:
            with user_rate_limit(request, action="message"):
                message_send(
                    conversation=conversation,
                    sender=request.user,
                    body=form.cleaned_data["body"],
                    attachment=form.cleaned_data["attachment"],
                )
        except NotAllowed as refusal:
            raise PermissionDenied(refusal.message) from refusal
        except (DomainError, ValidationError) as refusal:
            error = getattr(refusal, "message", None) or " ".join(refusal.messages)
    else:
        error = " ".join(message for errors in form.errors.values() for message in errors)
    if request.htmx:
        # The form's error slot receives the error, or nothing; on success the thread polls at once.
        response = HttpResponse(format_html('<p class="field-errors" role="alert">{}</p>', error) if error else "")
        if not error:
            response["HX-Trigger"] = "message-sent"
        return response
    if error:
        messages.error(request, error)
    return redirect("conversation_detail", pk=pk)


@login_required
def message_attachment(request, pk: int, message_id: int):
    conversation = _conversation_for(request, pk)
    message = get_object_or_404(Message, pk=message_id, conversation=conversation)
    if not message.attachment:
        raise Http404
    return private_file_response(message.attachment, filename=message.attachment_name)


# --- phasing offers (seed 002) -----------------------------------------------------------------------


@login_required
def phasing_offer(request, pk: int):
    """The employer splits the project into phases for one bidder (or revises the offer)."""
    proposal = get_object_or_404(Proposal.objects.select_related("project", "freelancer__profile"), pk=pk)
    project = proposal.project
    if project.owner_id != request.user.pk:
        raise PermissionDenied
    unpaid = list(
        reassignable_phases(project=project)
        .exclude(contract__freelancer=proposal.freelancer)
        .select_related("contract__freelancer")
    )
    offers = list(proposal.phasing_offers.prefetch_related("phases"))
    # A first offer starts with three optional rows; a revision starts from the previous version's phases.
    formset_class = phase_formset(extra=0 if offers else 3)
    initial = _initial_phases(offers) if offers and not request.POST else None
    formset = formset_class(request.POST or None, prefix="phases", initial=initial)
    if request.method == "POST" and formset.is_valid():
        phases = [PhaseInput(**form.cleaned_data) for form in formset if form.cleaned_data]
        replaces = [m for m in unpaid if str(m.pk) in request.POST.getlist("replaces")]
        sent = run_action(
            request,
            lambda: phasing_offer_send(
                proposal=proposal, by=request.user, phases=phases, note=request.POST.get("note", ""), replaces=replaces
            ),
            _("The phasing is sent to the freelancer."),
        )
        if sent is not None:
            return redirect("project_proposals", pk=project.pk)
    return render(
        request,
        "proposals/phasing_offer.html",
        {"proposal": proposal, "project": project, "formset": formset, "offers": offers, "unpaid": unpaid},
    )


def _initial_phases(offers) -> list[dict]:
    return [
        {"title": p.title, "scope": p.scope, "due_date": p.due_date, "amount": p.amount} for p in offers[0].phases.all()
    ]


@login_required
@require_POST
def phasing_answer(request, offer_pk: int, operation: str):
    """The freelancer's side: accept (the version they saw), reject, or comment."""
    offer = get_object_or_404(PhasingOffer.objects.select_related("proposal"), pk=offer_pk)
    project_id = offer.proposal.project_id
    if operation == "accept":
        version = request.POST.get("version", "")
        result = run_action(
            request,
            lambda: phasing_offer_accept(
                offer=offer, by=request.user, version=int(version) if version.isdigit() else 0
            ),
            _("You accepted the phasing. Work on a phase starts once the employer has paid it."),
        )
        if result is not None:
            return redirect("workspace", pk=result.pk)
    elif operation == "reject":
        run_action(request, lambda: phasing_offer_reject(offer=offer, by=request.user), _("You rejected the phasing."))
    elif operation == "comment":
        form = PhasingCommentForm(request.POST)
        if form.is_valid():
            run_action(
                request,
                lambda: phasing_comment(offer=offer, by=request.user, text=form.cleaned_data["text"]),
                _("Your comment is sent to the employer's chat."),
            )
        else:
            messages.error(request, " ".join(form.errors["text"]))
    else:
        raise Http404
    return _back_to_project(project_id)
