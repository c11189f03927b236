"""Delivery and release: the freelancer uploads zips and marks the milestone done; the employer approves, or the
review clock (ESCROW_AUTO_RELEASE_DELAY, warned ESCROW_AUTO_RELEASE_WARNING before) releases it; the escrow goes
to the freelancer less commission."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from escrow.ledger import escrow_account, post_release, split_commission
from marketplace.errors import DomainError
from marketplace.uploads import atomic_with_file_cleanup, inspect_zip
from notifications.models import Notification
from workspace.models import Deliverable, Dispute, Milestone, MilestoneEvent
from workspace.services.funding import after_funding
from workspace.services.history import (
    contract_close_if_done,
    dispute_set_status,
    milestone_set_status,
    notify_parties,
    record_event,
)
from workspace.services.locks import lock_milestone
from workspace.services.rules import ensure, open_dispute


def deliverable_upload(*, milestone: Milestone, by: User, upload, note: str = ""):
    """The freelancer's zip: checked (workspace rules in marketplace.uploads.inspect_zip), stored privately."""
    report = inspect_zip(upload)  # raises ValidationError before anything is written

    def store(saved):
        locked = lock_milestone(milestone.pk)
        ensure("upload", user=by, milestone=locked)
        version = (locked.deliverables.order_by("-version").values_list("version", flat=True).first() or 0) + 1
        deliverable = Deliverable(
            milestone=locked, version=version, original_name=upload.name[:200], size=report.size,
            sha256=report.sha256, entries=report.entries, uploaded_by=by, note=note[:500],
        )  # fmt: skip
        deliverable.file.save(report.content.name, report.content, save=False)
        saved.append(deliverable.file)
        deliverable.save()
        record_event(
            locked, MilestoneEvent.Kind.UPLOADED, actor=by, note=f"v{version} {upload.name[:100]} {report.sha256}"
        )
        return deliverable

    return atomic_with_file_cleanup(store)


@transaction.atomic
def milestone_mark_delivered(*, milestone: Milestone, by: User) -> Milestone:
    """The freelancer's Operations → Done. The review clock starts once the milestone is also fully funded."""
    milestone = lock_milestone(milestone.pk)
    ensure("done", user=by, milestone=milestone)
    before = milestone_set_status(milestone, Milestone.Status.DELIVERED)
    now = timezone.now()
    milestone.delivered_at = now
    after_funding(milestone, now)
    if not milestone.fully_funded:  # the remainder clock: the employer pays the rest (or disputes) in time
        milestone.remainder_due_at = now + timedelta(days=settings.ESCROW_REMAINDER_DAYS)
        milestone.remainder_warned_for, milestone.remainder_lapsed = None, False
    milestone.save(
        update_fields=[
            "status", "delivered_at", "auto_release_at", "remainder_due_at", "remainder_warned_for", "remainder_lapsed"
        ]
    )  # fmt: skip
    record_event(milestone, MilestoneEvent.Kind.DELIVERED, actor=by, before=before)
    notify_parties(milestone, Notification.Kind.DELIVERED, [milestone.contract.employer], actor=by)
    return milestone


def milestone_release(milestone: Milestone, *, actor: User | None, kind: str) -> Milestone:
    """Pay what is in escrow to the freelancer less commission; complete the milestone (and the contract and
    project when it was the last one). The caller holds the milestone's lock."""
    contract = milestone.contract
    amount = milestone.in_escrow
    if amount > 0:
        post_release(
            escrow=escrow_account(milestone.escrow_key, contract.currency),
            freelancer=contract.freelancer,
            amount=amount,
            key=f"release:{milestone.pk}",
            actor=actor,
            memo=milestone.title,
            milestone=milestone,
        )
    milestone.released += amount
    before = milestone_set_status(milestone, Milestone.Status.COMPLETED)
    milestone.auto_release_at = milestone.remainder_due_at = None
    milestone.save(update_fields=["released", "status", "auto_release_at", "remainder_due_at"])
    record_event(milestone, kind, actor=actor, before=before, amount=amount)
    contract_close_if_done(contract)
    net = split_commission(amount, contract.currency)[0]
    if kind == MilestoneEvent.Kind.AUTO_RELEASED:
        notify_parties(milestone, Notification.Kind.AUTO_RELEASED, [contract.employer, contract.freelancer], amount=net)
    else:
        notify_parties(milestone, Notification.Kind.RELEASED, [contract.freelancer], actor=actor, amount=net)
    return milestone


@transaction.atomic
def milestone_approve(*, milestone: Milestone, by: User) -> Milestone:
    """The employer's Operations → Done / Approve: release the escrow now."""
    milestone = lock_milestone(milestone.pk)
    ensure("approve", user=by, milestone=milestone)
    dispute = Dispute.objects.select_for_update().filter(milestone=milestone, status__in=Dispute.OPEN_STATUSES).first()
    milestone_release(milestone, actor=by, kind=MilestoneEvent.Kind.RELEASED)
    if dispute:  # approved while in dispute: the approval settles it
        dispute_set_status(dispute, Dispute.Status.RESOLVED, by=by, resolution=_("The employer approved the work."))
    return milestone


@transaction.atomic
def milestone_request_changes(*, milestone: Milestone, by: User, note: str) -> Milestone:
    """The employer sends the delivery back with what to change (at most REVISION_LIMIT times): the work is in
    progress again and the review clock stops; it starts again when the freelancer marks the next version done."""
    if not note.strip():
        raise DomainError(_("Say what should change."))
    milestone = lock_milestone(milestone.pk)
    ensure("revise", user=by, milestone=milestone)
    before = milestone_set_status(milestone, Milestone.Status.FUNDED)
    milestone.auto_release_at = milestone.remainder_due_at = None
    milestone.revisions_requested += 1
    milestone.save(update_fields=["status", "auto_release_at", "remainder_due_at", "revisions_requested"])
    record_event(milestone, MilestoneEvent.Kind.CHANGES_REQUESTED, actor=by, before=before, note=note.strip())
    notify_parties(
        milestone, Notification.Kind.CHANGES_REQUESTED, [milestone.contract.freelancer], actor=by, note=note[:500]
    )
    return milestone


def release_due_escrow(*, now=None) -> int:
    """The two-day clock: release every delivered, fully funded milestone whose time is up and that has no open
    dispute. Safe to run concurrently and repeatedly: each milestone is locked in the house order and re-read, and
    each release is idempotent. Returns how many were released."""
    now = now or timezone.now()
    due = list(
        Milestone.objects.filter(status=Milestone.Status.DELIVERED, auto_release_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    released = 0
    for pk in due:
        with transaction.atomic():
            milestone = lock_milestone(pk)  # waits for an action on it to finish, then reads what it left
            if (
                milestone.status != Milestone.Status.DELIVERED
                or not milestone.auto_release_at
                or milestone.auto_release_at > now
                or not milestone.fully_funded
                or open_dispute(milestone)
            ):
                continue
            milestone_release(milestone, actor=None, kind=MilestoneEvent.Kind.AUTO_RELEASED)
            released += 1
    return released


def warn_before_auto_release(*, now=None) -> int:
    """Tell employers whose review clock runs out within ESCROW_AUTO_RELEASE_WARNING. Each release time is warned
    about once, however often and concurrently this runs. Returns how many were warned."""
    now = now or timezone.now()
    due = Milestone.objects.filter(
        status=Milestone.Status.DELIVERED, auto_release_at__gt=now,
        auto_release_at__lte=now + settings.ESCROW_AUTO_RELEASE_WARNING,
    ).exclude(release_warned_for=F("auto_release_at"))  # fmt: skip
    warned = 0
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            milestone = (
                Milestone.objects.select_for_update(skip_locked=True)
                .select_related("contract__project", "contract__employer")
                .filter(pk=pk, status=Milestone.Status.DELIVERED, auto_release_at__gt=now)
                .exclude(release_warned_for=F("auto_release_at"))
                .first()
            )
            if milestone is None or open_dispute(milestone):
                continue
            milestone.release_warned_for = milestone.auto_release_at
            milestone.save(update_fields=["release_warned_for"])
            notify_parties(
                milestone, Notification.Kind.AUTO_RELEASE_SOON, [milestone.contract.employer],
                when=milestone.auto_release_at.isoformat(),
            )  # fmt: skip
            warned += 1
    return warned


def deliverable_check_download(*, deliverable: Deliverable, user: User) -> None:
    """Only the parties and staff, and only once the milestone is fully funded (the view then streams it)."""
    ensure("download", user=user, milestone=deliverable.milestone)
