from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from invitations.forms import DeclineForm, InvitationForm
from invitations.models import Invitation
from invitations.selectors import invitations_sent_to, projects_to_invite_to
from invitations.services import invitation_decline, invitation_send
from marketplace.ratelimits import allowances
from marketplace.views_helpers import run_action


@login_required
def invitation_send_view(request, username: str):
    """Invite a freelancer to one of the signed-in employer's open projects. Its own page, reached from the
    profile and the directory, because those are cached for everyone and this list is the employer's own."""
    freelancer = get_object_or_404(User.objects.select_related("profile"), username=username, is_active=True)
    projects = projects_to_invite_to(employer=request.user)
    form = InvitationForm(request.POST or None, projects=projects)
    if request.method == "POST" and form.is_valid():
        sent = run_action(
            request,
            lambda: invitation_send(
                project=form.cleaned_data["project"], freelancer=freelancer, by=request.user,
                note=form.cleaned_data["note"],
            ),
            _("%(name)s is invited. They are notified and can answer with a proposal.")
            % {"name": freelancer.display_name},
            rate_limit="invitation",
        )  # fmt: skip
        if sent is not None:
            return redirect("invitation_send", username=freelancer.username)
    return render(
        request,
        "invitations/invitation_send.html",
        {
            "freelancer": freelancer,
            "profile": freelancer.profile,
            "form": form,
            "has_projects": bool(form.fields["project"].choices),
            "is_self": freelancer.pk == request.user.pk,
            "sent": invitations_sent_to(employer=request.user, freelancer=freelancer)[:20],
            "per_project_limit": settings.INVITATIONS_PER_PROJECT_PER_DAY,
            "user_limits": allowances(actions=("invitation",)),
        },
    )


@login_required
@require_POST
def invitation_decline_view(request, pk: int):
    invitation = get_object_or_404(Invitation, pk=pk)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["reason"]))
    else:
        run_action(
            request,
            lambda: invitation_decline(invitation=invitation, by=request.user, reason=form.cleaned_data["reason"]),
            _("You declined the invitation; the employer is told."),
        )
    return redirect(reverse("project_detail", args=[invitation.project_id]))
