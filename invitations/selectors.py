"""Reads of invitations that pages share; each a fixed number of queries."""

from django.db.models import QuerySet

from accounts.models import User
from invitations.models import Invitation
from projects.models import Project

RECENT = 30  # invitations a freelancer's list shows


def projects_to_invite_to(*, employer: User) -> QuerySet:
    """The employer's projects open for proposals, newest first: the only ones an invitation may name."""
    return Project.objects.filter(owner=employer, status=Project.Status.OPEN).order_by("-published_at", "-pk")


def invitations_received(*, freelancer: User) -> list[Invitation]:
    """The freelancer's recent invitations, the open ones first, each with its project and employer."""
    invitations = (
        Invitation.objects.filter(freelancer=freelancer)
        .select_related("project", "invited_by__profile")
        .order_by("-created_at", "-pk")[:RECENT]
    )
    return sorted(invitations, key=lambda invitation: not invitation.is_open)


def open_invitation(*, project: Project, freelancer: User) -> Invitation | None:
    """The invitation the freelancer may still answer on this project (one query), or None."""
    if not freelancer.is_authenticated:
        return None
    return (
        Invitation.objects.filter(project=project, freelancer=freelancer, status=Invitation.Status.OPEN)
        .select_related("invited_by__profile")
        .first()
    )


def invitations_for_project(*, project: Project) -> QuerySet:
    """Whom the project's employer invited, newest first, each with the freelancer's profile."""
    return Invitation.objects.filter(project=project).select_related("freelancer__profile").order_by("-created_at")


def invitations_sent_to(*, employer: User, freelancer: User) -> QuerySet:
    """What this employer has invited this freelancer to, newest first."""
    return (
        Invitation.objects.filter(invited_by=employer, freelancer=freelancer)
        .select_related("project")
        .order_by("-created_at")
    )
