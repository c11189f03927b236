"""Invitations to send a proposal: an employer invites a freelancer to one of their open projects; the freelancer
answers with a proposal (proposals.services.proposal_submit) or declines. Each action locks the project's row
first, as every action on a project's proposals does, so the checks below cannot race one another."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from invitations.models import Invitation
from marketplace.errors import DomainError, InvalidTransition, NotAllowed
from marketplace.l10n import localize_digits
from marketplace.status import set_status
from notifications.models import Notification
from notifications.services import notify
from projects.models import Project
from proposals.models import Proposal


class DuplicateInvitation(DomainError):
    pass


class InvitationLimitReached(DomainError):
    pass


def _lock_project(project_id: int) -> Project:
    return Project.objects.select_for_update().get(pk=project_id)


def invitation_send(*, project: Project, freelancer: User, by: User, note: str = "") -> Invitation:
    """Invite `freelancer` to send a proposal on `project`; they are notified."""
    note = note.strip()
    if len(note) > Invitation.NOTE_MAX_LENGTH:
        raise DomainError(
            localize_digits(
                _("The note can be at most %(count)s characters long.") % {"count": Invitation.NOTE_MAX_LENGTH}
            )
        )
    with transaction.atomic():
        project = _lock_project(project.pk)
        name = freelancer.display_name
        if project.owner_id != by.pk:
            raise NotAllowed(_("Only the employer who posted this project can invite freelancers to it."))
        if freelancer.pk == by.pk:
            raise DomainError(_("You cannot invite yourself to your own project."))
        if project.status != Project.Status.OPEN:
            raise InvalidTransition(
                _("Only a project that is open for proposals can receive invitations; this one is %(status)s.")
                % {"status": project.get_status_display()}
            )
        if not freelancer.is_active:
            raise DomainError(_("This freelancer's account is not active, so they cannot be invited."))
        if project.proposals.filter(freelancer=freelancer, status__in=Proposal.LIVE).exists():
            raise DuplicateInvitation(
                _("%(name)s has already sent a proposal on this project; no invitation is needed.") % {"name": name}
            )
        if project.invitations.filter(freelancer=freelancer, status=Invitation.Status.OPEN).exists():
            raise DuplicateInvitation(
                _("You have already invited %(name)s to this project; they have not answered yet.") % {"name": name}
            )
        limit = settings.INVITATIONS_PER_PROJECT_PER_DAY
        if project.invitations.filter(created_at__gt=timezone.now() - timedelta(days=1)).count() >= limit:
            raise InvitationLimitReached(
                localize_digits(
                    _(
                        "A project can send at most %(count)s invitations in 24 hours, and this one has sent them "
                        "all. You can invite more once a day has passed since the earliest of them."
                    )
                    % {"count": limit}
                )
            )
        invitation = Invitation.objects.create(project=project, freelancer=freelancer, invited_by=by, note=note)
        notify(
            [freelancer], Notification.Kind.INVITATION, actor=by,
            url=f"{reverse('project_detail', args=[project.pk])}#invitation", project=project.title,
        )  # fmt: skip
        return invitation


@transaction.atomic
def invitation_decline(*, invitation: Invitation, by: User, reason: str = "") -> Invitation:
    """The freelancer says no; the employer is notified, with the reason when one is given."""
    reason = reason.strip()
    project = _lock_project(invitation.project_id)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.freelancer_id != by.pk:
        raise NotAllowed(_("Only the freelancer who was invited can answer this invitation."))
    if invitation.status == Invitation.Status.CLOSED or project.status != Project.Status.OPEN:
        raise InvalidTransition(
            _("This project is no longer open for proposals, so its invitation cannot be answered.")
        )
    if invitation.status != Invitation.Status.OPEN:
        raise InvalidTransition(_("You have already answered this invitation."))
    if len(reason) > Invitation.REASON_MAX_LENGTH:
        raise DomainError(
            localize_digits(
                _("The reason can be at most %(count)s characters long.") % {"count": Invitation.REASON_MAX_LENGTH}
            )
        )
    set_status(invitation, Invitation.Status.DECLINED)
    invitation.answered_at = timezone.now()
    invitation.decline_reason = reason
    invitation.save(update_fields=["status", "answered_at", "decline_reason"])
    notify(
        [invitation.invited_by], Notification.Kind.INVITATION_DECLINED, actor=by,
        url=f"{reverse('project_proposals', args=[project.pk])}#invited", project=project.title, note=reason,
    )  # fmt: skip
    return invitation


# --- what other actions do to invitations (their services call these, holding the project's lock) --------------


def invitation_mark_answered(*, project: Project, freelancer: User) -> Invitation | None:
    """The freelancer sent a proposal on the project (proposals.services.proposal_submit): their open invitation,
    if any, is answered."""
    invitation = project.invitations.select_for_update().filter(freelancer=freelancer, status=Invitation.Status.OPEN)
    invitation = invitation.first()
    if invitation is None:
        return None
    set_status(invitation, Invitation.Status.ANSWERED)
    invitation.answered_at = timezone.now()
    invitation.save(update_fields=["status", "answered_at"])
    return invitation


def invitations_close(*, project: Project) -> int:
    """The project stopped being open (closed, cancelled, or given to a contract): its open invitations can no
    longer be answered. Returns how many were closed. OPEN → CLOSED is in Invitation.ALLOWED_TRANSITIONS, and it is
    the only move from OPEN written in bulk."""
    return project.invitations.filter(status=Invitation.Status.OPEN).update(status=Invitation.Status.CLOSED)
