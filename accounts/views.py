from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms import (
    BankDetailsForm,
    BasicInfoForm,
    EducationForm,
    ExperienceForm,
    FreelancerSearchForm,
    PortfolioItemForm,
    ResumeFileForm,
    SkillsForm,
)
from accounts.models import Education, PortfolioItem, Profile, WorkExperience
from accounts.selectors import freelancer_directory, profile_for_editing, profile_public
from accounts.services import (
    portfolio_item_create,
    portfolio_item_delete,
    profile_set_bank_details,
    profile_set_resume,
    profile_set_skills,
    profile_update_basic,
    resume_entry_add,
    resume_entry_delete,
)
from marketplace.errors import DomainError
from marketplace.pagecache import visitor_cache
from marketplace.storage import private_file_response
from marketplace.views_helpers import run_action
from projects.listing import listing_context
from projects.selectors import categories_with_skills
from reviews.models import Review
from reviews.selectors import feedback_for, reputation
from workspace.selectors import completed_projects

TABS = ["basic", "skills", "resume", "portfolio", "bank"]
DIRECTORY_PAGE_SIZE = 20


def _tab_url(tab: str) -> str:
    return reverse("profile_edit_tab", args=[tab])


def _initial_forms(profile) -> dict:
    return {
        "basic": BasicInfoForm(
            initial={
                "display_name": profile.display_name,
                "headline": profile.headline,
                "city": profile.city,
                "bio": profile.bio,
            }
        ),
        "skills": SkillsForm(initial={"skills": [skill.pk for skill in profile.skills.all()]}),
        "resume_file": ResumeFileForm(),
        "experience": ExperienceForm(prefix="experience"),
        "education": EducationForm(prefix="education"),
        "portfolio": PortfolioItemForm(),
        "bank": BankDetailsForm(
            initial={
                "card_number": profile.bank_card_number,
                "sheba": profile.bank_sheba,
                "account_holder": profile.bank_account_holder,
            }
        ),
    }


def _post_actions(user) -> dict:
    """For each form on the edit pages: how to build it from a request, what to do with its cleaned data,
    what to say, and which tab to go back to."""
    return {
        "basic": (
            lambda data, files: BasicInfoForm(data, files),
            lambda d: profile_update_basic(
                user=user,
                display_name=d["display_name"],
                headline=d["headline"],
                bio=d["bio"],
                city=d["city"],
                avatar=d["avatar"],
                remove_avatar=d["remove_avatar"],
            ),
            _("Your profile is saved."),
            "basic",
        ),
        "skills": (
            lambda data, files: SkillsForm(data),
            lambda d: profile_set_skills(user=user, skills=d["skills"]),
            _("Your skills are saved."),
            "skills",
        ),
        "resume_file": (
            lambda data, files: ResumeFileForm(data, files),
            lambda d: profile_set_resume(user=user, resume=d["resume"], remove=d["remove_resume"]),
            _("Your résumé is saved."),
            "resume",
        ),
        "experience": (
            lambda data, files: ExperienceForm(data, prefix="experience"),
            lambda d: resume_entry_add(user=user, model=WorkExperience, **d),
            _("The work experience is added."),
            "resume",
        ),
        "education": (
            lambda data, files: EducationForm(data, prefix="education"),
            lambda d: resume_entry_add(user=user, model=Education, **d),
            _("The education is added."),
            "resume",
        ),
        "portfolio": (
            lambda data, files: PortfolioItemForm(data, files),
            lambda d: portfolio_item_create(user=user, **d),
            _("The portfolio item is added."),
            "portfolio",
        ),
        "bank": (
            lambda data, files: BankDetailsForm(data),
            lambda d: profile_set_bank_details(user=user, **d),
            _("Your bank details are saved."),
            "bank",
        ),
    }


@login_required
def profile_edit(request, tab: str = "basic"):
    if tab not in TABS:
        raise Http404
    profile = profile_for_editing(user=request.user)
    forms = _initial_forms(profile)
    if request.method == "POST":
        actions = _post_actions(request.user)
        which = request.POST.get("form", "")
        if which not in actions:
            raise Http404
        build, act, done, back_to = actions[which]
        form = forms[which] = build(request.POST, request.FILES)
        if form.is_valid():
            try:
                act(form.cleaned_data)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, done)
                return redirect(_tab_url(back_to))
    context = {"tab": tab, "profile": profile, "forms": forms}
    if tab == "skills":
        context["categories"] = categories_with_skills()
    return render(request, f"accounts/profile_edit_{tab}.html", context)


def _delete(request, model, pk: int, delete, tab: str):
    entry = get_object_or_404(model, pk=pk)
    run_action(request, lambda: delete(entry), _("Deleted."))
    return redirect(_tab_url(tab))


@login_required
@require_POST
def experience_delete(request, pk: int):
    return _delete(request, WorkExperience, pk, lambda e: resume_entry_delete(user=request.user, entry=e), "resume")


@login_required
@require_POST
def education_delete(request, pk: int):
    return _delete(request, Education, pk, lambda e: resume_entry_delete(user=request.user, entry=e), "resume")


@login_required
@require_POST
def portfolio_delete(request, pk: int):
    return _delete(
        request, PortfolioItem, pk, lambda item: portfolio_item_delete(user=request.user, item=item), "portfolio"
    )


@visitor_cache
def profile_public_view(request, username: str):
    member = profile_public(username=username)
    if member is None:
        raise Http404
    return render(
        request,
        "accounts/profile_public.html",
        {
            "member": member,
            "profile": member.profile,
            "is_owner": request.user.pk == member.pk,
            "completed": _with_ratings(completed_projects(user=member)[:20], member),
            "reputation": reputation(user=member),
            "feedback": feedback_for(user=member)[:20],
            "employer_feedback": feedback_for(user=member, role=Review.Role.OF_EMPLOYER)[:20],
        },
    )


@visitor_cache
def freelancer_directory_view(request):
    """Find freelancers: words, skills, category, minimum rating and completed projects, in pages. Built like
    Active projects (projects.views.project_list): the same for everyone who asks the same question, so the
    template caches the results by the query, and nothing below is read unless that part is rendered."""
    context = listing_context(
        request,
        form=FreelancerSearchForm(request.GET or None),
        rows=lambda filters: freelancer_directory(filters=filters),
        page_size=DIRECTORY_PAGE_SIZE,
        cap=settings.FREELANCER_DIRECTORY_COUNT_CAP,
    )
    return render(request, "accounts/freelancer_directory.html", context)


def resume_download(request, username: str):
    profile = get_object_or_404(Profile.objects.select_related("user"), user__username=username, user__is_active=True)
    if not profile.resume:
        raise Http404
    return private_file_response(
        profile.resume, filename=f"{profile.user.username}-resume.pdf", content_type="application/pdf"
    )


def _with_ratings(projects, member):
    """Each completed project with the published rating the member received on it (one query)."""
    projects = list(projects)
    ratings = dict(
        Review.objects.filter(
            subject=member, published_at__isnull=False, contract__project__in=[p.pk for p in projects]
        ).values_list("contract__project_id", "rating")
    )
    for project in projects:
        project.rating_received = ratings.get(project.pk)
    return projects
