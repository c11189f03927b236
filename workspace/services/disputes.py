"""Disputes: the employer opens one on a delivered milestone (the review clock stops), the freelancer answers
(and may upload a new version), either side sends it to the platform, and staff settle it: release, refund, or
split by an amount."""

from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from escrow.ledger import escrow_account, post_split
from marketplace.currency import round_amount
from marketplace.errors import DomainError, InvalidTransition, NotAllowed
from marketplace.uploads import atomic_with_file_cleanup, clean_attachment
from notifications.models import Notification
from notifications.services import notify
from workspace.models import Dispute, Milestone, MilestoneEvent
from workspace.services.delivery import milestone_release
from workspace.services.funding import contract_unwind, milestone_refund
from workspace.services.history import (
    contract_close_if_done,
    dispute_set_status,
    milestone_set_status,
    notify_parties,
    record_event,
)
from workspace.services.locks import lock_dispute, lock_milestone
from workspace.services.rules import ensure


def dispute_open(*, milestone: Milestone, by: User, reason: str, description: str, attachment=None) -> Dispute:
    """The employer's Create dispute: the clock stops, the freelancer is asked for a fix."""
    content = clean_attachment(attachment) if attachment is not None else None
    if not description.strip():
        raise DomainError(_("Describe the problem."))

    def open_(saved):
        locked = lock_milestone(milestone.pk)
        ensure("dispute", user=by, milestone=locked)
        before = milestone_set_status(locked, Milestone.Status.DISPUTED)
        locked.auto_release_at = None
        locked.save(update_fields=["status", "auto_release_at"])
        dispute = Dispute(milestone=locked, opened_by=by, reason=reason, description=description.strip())
        if content is not None:
            dispute.attachment.save(content.name, content, save=False)
            saved.append(dispute.attachment)
        dispute.save()
        record_event(locked, MilestoneEvent.Kind.DISPUTE_OPENED, actor=by, before=before, note=description)
        notify_parties(locked, Notification.Kind.DISPUTE_OPENED, [locked.contract.freelancer], actor=by)
        return dispute

    return atomic_with_file_cleanup(open_)


@transaction.atomic
def dispute_answer(*, dispute: Dispute, by: User, message: str) -> Dispute:
    """The freelancer answers (and may have uploaded a new version); the employer then approves or escalates."""
    dispute = lock_dispute(dispute.pk)
    ensure("answer", user=by, milestone=dispute.milestone, dispute=dispute)
    if not message.strip():
        raise InvalidTransition(_("Write your answer to an open dispute."))
    if dispute.status != Dispute.Status.ANSWERED:  # a second answer adds to the first
        dispute_set_status(dispute, Dispute.Status.ANSWERED)
    record_event(dispute.milestone, MilestoneEvent.Kind.DISPUTE_ANSWERED, actor=by, note=message)
    employer = dispute.milestone.contract.employer
    notify_parties(dispute.milestone, Notification.Kind.DISPUTE_ANSWERED, [employer], actor=by)
    return dispute


@transaction.atomic
def dispute_escalate(*, dispute: Dispute, by: User, note: str = "") -> Dispute:
    dispute = lock_dispute(dispute.pk)
    ensure("escalate", user=by, milestone=dispute.milestone, dispute=dispute)
    dispute_set_status(dispute, Dispute.Status.ESCALATED)
    record_event(dispute.milestone, MilestoneEvent.Kind.DISPUTE_ESCALATED, actor=by, note=note)
    contract = dispute.milestone.contract
    other = contract.freelancer if by.pk == contract.employer_id else contract.employer
    notify_parties(dispute.milestone, Notification.Kind.DISPUTE_ESCALATED, [other], actor=by)
    parties = [contract.employer_id, contract.freelancer_id]
    staff = User.objects.filter(is_staff=True, is_active=True).exclude(pk__in=parties)
    notify(
        staff, Notification.Kind.DISPUTE_ESCALATED, actor=by,
        url=reverse("admin:workspace_dispute_change", args=[dispute.pk]), project=contract.project.title,
    )  # fmt: skip
    return dispute


@transaction.atomic
def dispute_resolve(*, dispute: Dispute, by: User, outcome: str, to_freelancer: Decimal | None = None, note=""):
    """Staff settle a dispute: release to the freelancer, refund the employer, or split by an amount."""
    if not by.is_staff:
        raise NotAllowed(_("Only staff can resolve disputes."))
    dispute = lock_dispute(dispute.pk)  # contract, milestone, then the dispute, as every other action
    if dispute.status == Dispute.Status.RESOLVED:
        raise InvalidTransition(_("This dispute is already resolved."))
    milestone = dispute.milestone
    contract = milestone.contract
    total = milestone.in_escrow
    if outcome == "release":
        milestone_release(milestone, actor=by, kind=MilestoneEvent.Kind.RELEASED)
    elif (
        outcome == "refund"
        and contract.milestones.exclude(pk=milestone.pk).exclude(status__in=Milestone.CLOSED).exists()
    ):
        milestone_refund(contract, milestone, actor=by, kind=MilestoneEvent.Kind.REFUNDED)  # other phases go on
    elif outcome == "refund":
        contract_unwind(contract, milestone, actor=by, kind=MilestoneEvent.Kind.REFUNDED)
    elif outcome == "split":
        to_freelancer = round_amount(to_freelancer or Decimal(0), contract.currency)
        post_split(  # refuses a share outside 0…total
            escrow=escrow_account(milestone.escrow_key, contract.currency), employer=contract.employer,
            freelancer=contract.freelancer, total=total, to_freelancer=to_freelancer, key=f"split:{milestone.pk}",
            actor=by, milestone=milestone,
        )  # fmt: skip
        milestone.released += to_freelancer
        milestone.refunded += total - to_freelancer
        before = milestone_set_status(milestone, Milestone.Status.COMPLETED)
        milestone.save(update_fields=["released", "refunded", "status"])
        record_event(milestone, MilestoneEvent.Kind.SPLIT, actor=by, before=before, amount=to_freelancer, note=note)
        contract_close_if_done(contract)
    else:
        raise DomainError(_("Unknown action."))
    dispute.refresh_from_db()
    if dispute.status != Dispute.Status.RESOLVED:  # a release resolved it already, as the employer's approval
        dispute_set_status(dispute, Dispute.Status.RESOLVED, by=by, resolution=note or outcome)
    else:
        dispute.resolved_by, dispute.resolution = by, (note or outcome)[:255]
        dispute.save(update_fields=["resolved_by", "resolution"])
    notify_parties(milestone, Notification.Kind.DISPUTE_RESOLVED, [contract.employer, contract.freelancer], actor=by)
    return dispute
