"""Disputes, from either side: the employer's about delivered (or late) work, the freelancer's about an unpaid
rest (once the remainder clock has run out) or changes beyond the scope. Each stage has a deadline and a default
(workspace.models.Dispute): the other side answers within DISPUTE_ANSWER_DAYS or the claim stands; the parties
negotiate by offers (workspace.services.settling) for DISPUTE_NEGOTIATION_DAYS, then it goes to staff, who
release, refund, or split by an amount. Either side may send it to staff at once; the side who opened it may
withdraw it, and the milestone goes back to where it was with its clock started again."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from marketplace.currency import round_amount
from marketplace.errors import DomainError, InvalidTransition, NotAllowed
from marketplace.uploads import atomic_with_file_cleanup, clean_attachment
from notifications.models import Notification
from notifications.services import notify
from workspace.models import Dispute, Milestone, MilestoneEvent, Offer
from workspace.services.history import dispute_set_status, milestone_set_status, notify_parties, record_event
from workspace.services.locks import lock_dispute, lock_milestone
from workspace.services.rules import answer_deadline, ensure, negotiation_deadline
from workspace.services.settling import milestone_settle


def dispute_open(*, milestone: Milestone, by: User, reason: str, description: str, attachment=None) -> Dispute:
    """Either side's Create dispute (a late cancellation is the employer's with reason `late`): the milestone's
    clocks stop and the other side has DISPUTE_ANSWER_DAYS to answer; without an answer the claim stands
    (release to the freelancer who opened it, refund to the employer who opened it)."""
    content = clean_attachment(attachment) if attachment is not None else None
    if not description.strip():
        raise DomainError(_("Describe the problem."))

    def open_(saved):
        locked = lock_milestone(milestone.pk)
        if reason == Dispute.Reason.LATE:
            ensure("cancel_late", user=by, milestone=locked)
        else:
            ensure("dispute", user=by, milestone=locked, reason=reason)
        side = locked.contract.party(by)
        now = timezone.now()
        if locked.auto_release_at:
            paused = ("review", max(locked.auto_release_at - now, timedelta(0)))
        elif locked.remainder_due_at:
            paused = ("remainder", max(locked.remainder_due_at - now, timedelta(0)))
        else:
            paused = ("", None)
        before = milestone_set_status(locked, Milestone.Status.DISPUTED)
        locked.auto_release_at = locked.remainder_due_at = None
        locked.save(update_fields=["status", "auto_release_at", "remainder_due_at"])
        dispute = Dispute(
            milestone=locked, opened_by=by, reason=reason, description=description.strip(),
            claim=Dispute.Claim.RELEASE if side == "freelancer" else Dispute.Claim.REFUND,
            milestone_status_before=before, deadline=answer_deadline(), paused_clock=paused[0], paused_left=paused[1],
        )  # fmt: skip
        if content is not None:
            dispute.attachment.save(content.name, content, save=False)
            saved.append(dispute.attachment)
        dispute.save()
        # An offer to end the milestone by agreement, made before, now settles the dispute if accepted.
        Offer.objects.filter(milestone=locked, status=Offer.Status.OPEN, dispute=None).update(dispute=dispute)
        record_event(locked, MilestoneEvent.Kind.DISPUTE_OPENED, actor=by, before=before, note=description)
        notify_parties(
            locked, Notification.Kind.DISPUTE_OPENED, [locked.contract.other_party(by)], actor=by,
            when=dispute.deadline.isoformat(),
        )  # fmt: skip
        return dispute

    return atomic_with_file_cleanup(open_)


@transaction.atomic
def dispute_answer(*, dispute: Dispute, by: User, message: str) -> Dispute:
    """The other side answers (the freelancer may have uploaded a new version): the case moves to negotiation,
    with DISPUTE_NEGOTIATION_DAYS to agree by offers. Later answers add to the first."""
    dispute = lock_dispute(dispute.pk)
    ensure("answer", user=by, milestone=dispute.milestone, dispute=dispute)
    if not message.strip():
        raise InvalidTransition(_("Write your answer to an open dispute."))
    if dispute.status == Dispute.Status.OPEN:
        dispute_set_status(dispute, Dispute.Status.ANSWERED, deadline=negotiation_deadline())
    record_event(dispute.milestone, MilestoneEvent.Kind.DISPUTE_ANSWERED, actor=by, note=message)
    notify_parties(
        dispute.milestone, Notification.Kind.DISPUTE_ANSWERED, [dispute.milestone.contract.other_party(by)], actor=by,
        when=dispute.deadline.isoformat(),
    )  # fmt: skip
    return dispute


def _escalate(dispute: Dispute, *, by: User | None, note: str = "") -> None:
    """To staff: by a party (the other is told), or by the negotiation deadline (both are told)."""
    dispute_set_status(dispute, Dispute.Status.ESCALATED, deadline=None)
    record_event(dispute.milestone, MilestoneEvent.Kind.DISPUTE_ESCALATED, actor=by, note=note)
    contract = dispute.milestone.contract
    if by is None:
        kind, told = Notification.Kind.DISPUTE_DEADLINE_ESCALATED, [contract.employer, contract.freelancer]
    else:
        kind, told = Notification.Kind.DISPUTE_ESCALATED, [dispute.milestone.contract.other_party(by)]
    notify_parties(dispute.milestone, kind, told, actor=by)
    parties = [contract.employer_id, contract.freelancer_id]
    staff = User.objects.filter(is_staff=True, is_active=True).exclude(pk__in=parties)
    notify(
        staff, kind, actor=by, url=reverse("admin:workspace_dispute_change", args=[dispute.pk]),
        project=contract.project.title, phase=dispute.milestone.title,
    )  # fmt: skip


@transaction.atomic
def dispute_escalate(*, dispute: Dispute, by: User, note: str = "") -> Dispute:
    """Either side sends the case to staff at once."""
    dispute = lock_dispute(dispute.pk)
    ensure("escalate", user=by, milestone=dispute.milestone, dispute=dispute)
    _escalate(dispute, by=by, note=note)
    return dispute


@transaction.atomic
def dispute_withdraw(*, dispute: Dispute, by: User) -> Dispute:
    """The side who opened it drops it: nothing moves, the milestone goes back to where it was and its clock
    resumes with the time it had left when the dispute opened (the review or remainder clock of a delivery; a late
    cancellation leaves the work running)."""
    dispute = lock_dispute(dispute.pk)
    milestone = dispute.milestone
    ensure("withdraw_dispute", user=by, milestone=milestone, dispute=dispute)
    back = dispute.milestone_status_before or Milestone.Status.DELIVERED
    before = milestone_set_status(milestone, back)
    now = timezone.now()
    left = dispute.paused_left
    if back == Milestone.Status.DELIVERED and milestone.fully_funded:
        # the review clock resumes where it stopped (a fresh one if the rest was paid during the dispute)
        resumes = dispute.paused_clock == "review" and left is not None
        milestone.auto_release_at = now + (left if resumes else settings.ESCROW_AUTO_RELEASE_DELAY)
    elif back == Milestone.Status.DELIVERED:
        resumes = dispute.paused_clock == "remainder" and left is not None
        milestone.remainder_due_at = now + (left if resumes else timedelta(days=settings.ESCROW_REMAINDER_DAYS))
        milestone.remainder_warned_for = None
        milestone.remainder_lapsed = resumes and left <= timedelta(0)  # it had run out: it stays run out
    milestone.save(
        update_fields=["status", "auto_release_at", "remainder_due_at", "remainder_warned_for", "remainder_lapsed"]
    )
    dispute_set_status(dispute, Dispute.Status.RESOLVED, by=by, resolution=_("Withdrawn by the side who opened it."))
    record_event(milestone, MilestoneEvent.Kind.DISPUTE_WITHDRAWN, actor=by, before=before)
    notify_parties(milestone, Notification.Kind.DISPUTE_WITHDRAWN, [milestone.contract.other_party(by)], actor=by)
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
    kinds = {
        "release": MilestoneEvent.Kind.RELEASED,
        "refund": MilestoneEvent.Kind.REFUNDED,
        "split": MilestoneEvent.Kind.SPLIT,
    }
    if outcome not in kinds:
        raise DomainError(_("Unknown action."))
    share = {"release": total, "refund": Decimal(0)}.get(outcome)
    if share is None:
        share = round_amount(to_freelancer or Decimal(0), contract.currency)
    milestone_settle(milestone, to_freelancer=share, actor=by, kind=kinds[outcome], resolution=note or outcome)
    notify_parties(milestone, Notification.Kind.DISPUTE_RESOLVED, [contract.employer, contract.freelancer], actor=by)
    dispute.refresh_from_db()
    return dispute


# --- the deadlines (workspace.services.clocks runs these from the beat and the management command) ----------


def dispute_enforce_deadline(pk: int, *, now) -> str | None:
    """Carry out what a dispute's passed deadline says: unanswered → the claim stands; negotiation over → staff.
    Locked and re-read, so running it twice (or beside a party's action) does it once. Returns what it did."""
    with transaction.atomic():
        dispute = lock_dispute(pk)
        if dispute.deadline is None or dispute.deadline > now:
            return None
        milestone = dispute.milestone
        if dispute.status == Dispute.Status.OPEN:
            share = milestone.in_escrow if dispute.claim == Dispute.Claim.RELEASE else Decimal(0)
            milestone_settle(
                milestone, to_freelancer=share, actor=None, kind=MilestoneEvent.Kind.DISPUTE_DEFAULTED,
                resolution=_("Not answered in time: the claim of the side who opened it stands."),
            )  # fmt: skip
            contract = milestone.contract
            notify_parties(
                milestone, Notification.Kind.DISPUTE_DEFAULTED, [contract.employer, contract.freelancer], amount=share
            )
            return "defaulted"
        if dispute.status == Dispute.Status.ANSWERED:
            _escalate(dispute, by=None, note=_("The negotiation time ended without an agreement."))
            return "escalated"
        return None


def dispute_warn_deadline(pk: int, *, now) -> bool:
    """Tell whoever the deadline concerns, once per deadline: the side that must answer, or both while they
    negotiate. Skips a dispute another run holds."""
    with transaction.atomic():
        dispute = (
            Dispute.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related(
                "milestone__contract__project", "milestone__contract__employer", "milestone__contract__freelancer"
            )
            .filter(pk=pk, status__in=[Dispute.Status.OPEN, Dispute.Status.ANSWERED], deadline__gt=now)
            .first()
        )
        if dispute is None or dispute.deadline_warned_for == dispute.deadline:
            return False
        dispute.deadline_warned_for = dispute.deadline
        dispute.save(update_fields=["deadline_warned_for"])
        milestone, contract = dispute.milestone, dispute.milestone.contract
        when = dispute.deadline.isoformat()
        if dispute.status == Dispute.Status.OPEN:
            answering = milestone.contract.other_party(dispute.opened_by)
            notify_parties(milestone, Notification.Kind.DISPUTE_ANSWER_SOON, [answering], when=when)
        else:
            notify_parties(
                milestone, Notification.Kind.NEGOTIATION_ENDS_SOON, [contract.employer, contract.freelancer], when=when
            )
        return True
