from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from invitations.selectors import invitations_received, open_invitation
from marketplace.errors import DomainError, NotAllowed
from marketplace.markdown import render_markdown
from marketplace.pagecache import visitor_cache
from marketplace.ratelimits import allowances, user_rate_limit
from marketplace.storage import private_file_response
from marketplace.views_helpers import run_action
from projects.forms import ProjectForm, ProjectSearchForm
from projects.listing import listing_context
from projects.models import Project, ProjectAttachment
from projects.selectors import (
    categories_with_skills,
    employer_projects,
    project_detail,
    project_list_open,
    project_list_open_subsets,
    project_visible_to,
)
from projects.services import project_attachment_delete, project_create, project_set_status, project_update
from proposals.forms import ProposalForm
from proposals.selectors import freelancer_proposals, proposal_of
from reviews.selectors import reputation
from workspace.selectors import completed_projects, project_budget, project_phases

PAGE_SIZE = 20


@visitor_cache
def project_list(request):
    """Active projects: search, filters, sorting, pages. The form and the results are the same for everyone who
    asks the same question: the template caches them by the query (pagecache); nothing below is read from the
    database unless that part is rendered."""
    form = ProjectSearchForm(request.GET or None)
    return render(
        request,
        "projects/project_list.html",
        {
            **listing_context(
                request,
                form=form,
                rows=lambda filters: project_list_open(filters=filters),
                subsets=lambda filters: project_list_open_subsets(filters=filters),
                page_size=PAGE_SIZE,
                cap=settings.PROJECT_LIST_COUNT_CAP,
            ),
            # The question as asked, for "Save this search as an alert" (alerts.views checks it like the listing).
            "alert_query": [
                (name, value) for name in form.fields if name != "sort" for value in request.GET.getlist(name) if value
            ],
        },
    )


@visitor_cache
def project_detail_view(request, pk: int):
    project = project_detail(pk=pk, user=request.user)
    if project is None:
        raise Http404
    is_owner = request.user.is_authenticated and project.owner_id == request.user.pk
    my_proposal = None if is_owner else proposal_of(project=project, freelancer=request.user)
    invitation = None if is_owner or my_proposal else open_invitation(project=project, freelancer=request.user)
    returned = request.session.pop("proposal_form", None)  # a rejected submission, shown with its errors
    if returned is not None:
        proposal_form = ProposalForm(returned)
        proposal_form.is_valid()
    elif my_proposal is not None:
        proposal_form = ProposalForm(
            initial={
                "amount": my_proposal.amount,
                "delivery_days": my_proposal.delivery_days,
                "cover_letter": my_proposal.cover_letter,
            }
        )
    else:
        proposal_form = ProposalForm()
    parties = {c.employer_id for c in project.contracts.all()} | {c.freelancer_id for c in project.contracts.all()}
    budget = phases = None
    if request.user.is_authenticated and request.user.pk in parties:
        budget = project_budget(project=project)
        phases = project_phases(project=project)
    return render(
        request,
        "projects/project_detail.html",
        {
            "project": project,
            "budget": budget,
            "employer_rating": _employer_rating(project),
            "phases": phases,
            "phased": project.kind == Project.Kind.PHASED,
            "description_html": render_markdown(project.description),
            "is_owner": is_owner,
            "my_proposal": my_proposal,
            "invitation": invitation,
            "proposal_form": proposal_form,
            "form_has_errors": returned is not None,
        },
    )


def _save_project(request, form, project=None):
    data = form.cleaned_data
    fields = {name: data[name] for name in ProjectForm.Meta.fields if name != "skills"}
    try:
        if project is None:
            with user_rate_limit(request, action="project"):
                project = project_create(
                    owner=request.user,
                    skills=data["skills"],
                    attachments=data["attachments"],
                    publish=request.POST.get("action") == "publish",
                    **fields,
                )
        else:
            project = project_update(
                project=project, by=request.user, skills=data["skills"], attachments=data["attachments"], **fields
            )
            if request.POST.get("action") == "publish" and project.status == Project.Status.DRAFT:
                project = project_set_status(project=project, by=request.user, status=Project.Status.OPEN)
    except ValidationError as error:
        form.add_error("attachments", error)
        return None
    except NotAllowed as error:
        raise PermissionDenied(error.message) from error
    except DomainError as error:
        form.add_error(None, error.message)
        return None
    return project


@login_required
def project_create_view(request):
    form = ProjectForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        project = _save_project(request, form)
        if project is not None:
            if project.status == Project.Status.OPEN:
                messages.success(request, _("Your project is published. Proposals will appear under My activities."))
            else:
                messages.success(request, _("Your project is saved as a draft."))
            return redirect("project_detail", pk=project.pk)
    return render(request, "projects/project_form.html", {"form": form, "categories": categories_with_skills()})


@login_required
def project_edit(request, pk: int):
    project = get_object_or_404(Project, pk=pk)
    if project.owner_id != request.user.pk:
        raise PermissionDenied
    if not project.is_editable:
        messages.error(request, _("This project can no longer be edited."))
        return redirect("project_detail", pk=pk)
    form = ProjectForm(request.POST or None, request.FILES or None, instance=project)
    if request.method == "POST" and form.is_valid():
        saved = _save_project(request, form, project=Project.objects.get(pk=pk))
        if saved is not None:
            messages.success(request, _("Your changes are saved."))
            return redirect("project_detail", pk=pk)
    return render(
        request,
        "projects/project_form.html",
        {"form": form, "project": project, "categories": categories_with_skills()},
    )


@login_required
@require_POST
def project_status(request, pk: int):
    project = get_object_or_404(Project, pk=pk)
    targets = {
        "publish": (Project.Status.OPEN, _("Your project is published.")),
        "reopen": (Project.Status.OPEN, _("Your project is open for proposals again.")),
        "close": (Project.Status.CLOSED, _("Your project is closed to new proposals.")),
        "cancel": (Project.Status.CANCELLED, _("Your project is cancelled.")),
    }
    action = request.POST.get("action", "")
    if action not in targets:
        messages.error(request, _("Unknown action."))
        return redirect("project_detail", pk=pk)
    status, done = targets[action]
    run_action(request, lambda: project_set_status(project=project, by=request.user, status=status), done)
    return redirect("project_detail", pk=pk)


def attachment_download(request, pk: int, attachment_id: int):
    """Attachments of a project are for signed-in members who may see the project."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    project = get_object_or_404(project_visible_to(user=request.user), pk=pk)
    attachment = get_object_or_404(ProjectAttachment, pk=attachment_id, project=project)
    return private_file_response(attachment.file, filename=attachment.name)


@login_required
@require_POST
def attachment_delete(request, pk: int, attachment_id: int):
    attachment = get_object_or_404(ProjectAttachment, pk=attachment_id, project_id=pk)
    try:
        project_attachment_delete(attachment=attachment, by=request.user)
    except NotAllowed as error:
        raise PermissionDenied(error.message) from error
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("project_edit", pk=pk)


@login_required
def my_activities(request):
    tab = request.GET.get("tab")
    tab = tab if tab in ("employer", "freelancer") else "employer"
    context = {"tab": tab}
    if tab == "employer":
        context["projects"] = employer_projects(user=request.user)
    else:
        context["proposals"] = freelancer_proposals(user=request.user)
        context["completed"] = completed_projects(user=request.user)[:50]
        context["invitations"] = invitations_received(freelancer=request.user)
    return render(request, "projects/my_activities.html", context)


def _employer_rating(project):
    figures = reputation(user=project.owner)
    return figures if figures["count"] else None


HELP_PAGES = {
    "how-it-works": _lazy("Guide to using the site"),
    "work-guarantee": _lazy("What is the work guarantee?"),
    "choosing-a-proposal": _lazy("How do I choose the best proposal?"),
    "settling-my-account": _lazy("How do I settle my account?"),
    "writing-a-project": _lazy("How do I write a good project description?"),
    "phased-projects": _lazy("How do phased projects work?"),
    "settling-disputes": _lazy("How are disagreements settled?"),
}


def help_page(request, slug: str = "how-it-works"):
    """The help pages; every figure in them comes from the settings."""
    if slug not in HELP_PAGES:
        raise Http404
    hours = settings.ESCROW_AUTO_RELEASE_DELAY.total_seconds() / 3600
    return render(
        request,
        f"projects/help/{slug.replace('-', '_')}.html",
        {
            "pages": HELP_PAGES,
            "slug": slug,
            "title": HELP_PAGES[slug],
            "commission": settings.COMMISSION_RATE * 100,
            "upfront": settings.ESCROW_UPFRONT_SHARE * 100,
            "auto_release_days": Decimal(hours / 24).quantize(Decimal("0.1")).normalize(),
            "minimum_withdrawal": settings.WITHDRAWAL_MINIMUM.get(settings.DEFAULT_CURRENCY, 0),
            "acceptance_days": settings.ACCEPTANCE_DAYS,
            "warning_hours": Decimal(settings.ESCROW_AUTO_RELEASE_WARNING.total_seconds() / 3600).normalize(),
            "reconcile_minutes": int(settings.PAYMENT_RECONCILE_AFTER.total_seconds() // 60),
            "payout_days": settings.PAYOUT_WORKING_DAYS,
            "revision_limit": settings.REVISION_LIMIT,
            "expire_minutes": int(settings.PAYMENT_EXPIRE_AFTER.total_seconds() // 60),
            "remainder_days": settings.ESCROW_REMAINDER_DAYS,
            "remainder_warning_hours": Decimal(settings.ESCROW_REMAINDER_WARNING.total_seconds() / 3600).normalize(),
            "answer_days": settings.DISPUTE_ANSWER_DAYS,
            "negotiation_days": settings.DISPUTE_NEGOTIATION_DAYS,
            "deadline_warning_hours": Decimal(settings.DISPUTE_DEADLINE_WARNING.total_seconds() / 3600).normalize(),
            "late_grace_days": settings.MILESTONE_LATE_GRACE_DAYS,
            "chat_poll_seconds": settings.CHAT_POLL_SECONDS,
            "user_limits": allowances(actions=("message", "proposal", "proposal_edit", "project", "invitation")),
        },
    )
