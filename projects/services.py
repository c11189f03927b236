"""Actions on projects. Each checks who acts and the project's state, in one transaction."""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from invitations.services import invitations_close
from marketplace.errors import InvalidTransition, NotAllowed
from marketplace.status import set_status
from marketplace.uploads import atomic_with_file_cleanup, clean_attachment, delete_file_on_commit
from projects.models import Category, Project, ProjectAttachment, Skill
from projects.search import normalize

MAX_ATTACHMENTS = 5


def _search_document(project: Project) -> str:
    return normalize(f"{project.title} {project.description}")


def _store_attachments(*, project: Project, uploads: list, saved: list) -> None:
    if project.attachments.count() + len(uploads) > MAX_ATTACHMENTS:
        raise InvalidTransition(_("A project can have at most %(count)s attachments.") % {"count": MAX_ATTACHMENTS})
    for upload in uploads:
        content = clean_attachment(upload)
        attachment = ProjectAttachment(project=project, name=upload.name[:200], size=upload.size)
        attachment.file.save(content.name, content, save=False)
        saved.append(attachment.file)
        attachment.save()


def project_create(
    *,
    owner: User,
    title: str,
    description: str,
    category: Category,
    skills: Iterable[Skill],
    currency: str,
    budget_min: Decimal,
    budget_max: Decimal,
    kind: str,
    deadline: date | None = None,
    duration_days: int | None = None,
    publish: bool = False,
    attachments: Iterable = (),
) -> Project:
    def create(saved):
        project = Project(
            owner=owner,
            title=title,
            description=description,
            category=category,
            currency=currency,
            budget_min=budget_min,
            budget_max=budget_max,
            kind=kind,
            deadline=deadline,
            duration_days=duration_days,
        )
        project.search_document = _search_document(project)
        if publish:
            set_status(project, Project.Status.OPEN)
            project.published_at = timezone.now()
        project.save()
        project.skills.set(skills)
        _store_attachments(project=project, uploads=list(attachments), saved=saved)
        if publish:
            _announce_on_commit(project)
        return project

    return atomic_with_file_cleanup(create)


def _announce_on_commit(project: Project) -> None:
    """A project is published for the first time: once that commits, the freelancers whose job alerts match it
    are told (alerts.services, in a Celery task)."""
    from alerts.services import project_alerts_queue  # Imported here to prevent an import cycle (alerts → projects)

    project_alerts_queue(project=project)


def _lock_own_project(*, project: Project, by: User) -> Project:
    project = Project.objects.select_for_update().get(pk=project.pk)
    if project.owner_id != by.pk:
        raise NotAllowed(_("Only the employer who posted this project can change it."))
    return project


def project_update(*, project: Project, by: User, skills: Iterable[Skill], attachments: Iterable = (), **fields):
    """Change what the project says; allowed to its owner while no contract binds it."""

    def update(saved):
        locked = _lock_own_project(project=project, by=by)
        if not locked.is_editable:
            raise InvalidTransition(_("This project can no longer be edited."))
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.search_document = _search_document(locked)
        locked.save()
        locked.skills.set(skills)
        _store_attachments(project=locked, uploads=list(attachments), saved=saved)
        return locked

    return atomic_with_file_cleanup(update)


@transaction.atomic
def project_set_status(*, project: Project, by: User, status: str) -> Project:
    """Publish, close, reopen or cancel, as the transition table allows."""
    locked = _lock_own_project(project=project, by=by)
    # A contract's status, not the employer's: a project in progress reopens only when its contract is cancelled.
    contract_owned = (Project.Status.IN_PROGRESS, Project.Status.COMPLETED)
    refusal = _("A project that is %(current)s cannot become %(new)s.") % {
        "current": locked.get_status_display(),
        "new": Project.Status(status).label if status in Project.Status.values else status,
    }
    if status in contract_owned or locked.status in contract_owned:
        raise InvalidTransition(refusal)
    before = set_status(locked, status, refusal=refusal)
    if before == Project.Status.OPEN:
        invitations_close(project=locked)
    if status == Project.Status.OPEN and locked.published_at is None:
        locked.published_at = timezone.now()
        _announce_on_commit(locked)
    locked.save(update_fields=["status", "published_at", "updated_at"])
    return locked


@transaction.atomic
def project_attachment_delete(*, attachment: ProjectAttachment, by: User) -> None:
    locked = _lock_own_project(project=attachment.project, by=by)
    if not locked.is_editable:
        raise InvalidTransition(_("This project can no longer be edited."))
    file = attachment.file
    attachment.delete()
    delete_file_on_commit(file.storage, file.name)


# --- what a contract does to its project (workspace.services call these, holding the project's lock) -------------


def _system_transition(project: Project, to: str) -> None:
    if set_status(project, to) == Project.Status.OPEN:
        invitations_close(project=project)
    project.save(update_fields=["status", "updated_at"])


def project_mark_in_progress(*, project: Project) -> None:
    """A contract was made: the project takes no new proposals. A no-op when it is in progress already (a later
    phase given to another freelancer)."""
    if project.status != Project.Status.IN_PROGRESS:
        _system_transition(project, Project.Status.IN_PROGRESS)


def project_reopen(*, project: Project) -> None:
    """Its only running contract was cancelled before any work was paid for: the project is open for proposals."""
    if project.status == Project.Status.IN_PROGRESS:
        _system_transition(project, Project.Status.OPEN)


def project_mark_completed(*, project: Project) -> None:
    """Every phase of every contract on it is closed."""
    if project.status == Project.Status.IN_PROGRESS:
        _system_transition(project, Project.Status.COMPLETED)
