"""Contracts and milestones: select and fund, accept, deliver, release (by hand or by the clock), disputes.

Every action locks the milestone row, checks who acts and the transition table, moves money only through
escrow.ledger, and writes a MilestoneEvent (the workspace timeline).
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from escrow.ledger import (
    escrow_account,
    post_funding,
    post_refund,
    post_release,
    post_split,
    split_commission,
    wallet_of,
)
from escrow.locks import lock_contract, lock_dispute, lock_milestone
from escrow.models import Contract, Dispute, Milestone, MilestoneEvent
from marketplace.currency import round_amount
from marketplace.errors import DomainError, InvalidTransition, NotAllowed
from marketplace.uploads import atomic_with_file_cleanup, clean_attachment, inspect_zip
from notifications.models import Notification
from notifications.services import notify
from projects.models import Project
from proposals.models import Proposal


def _lock(milestone: Milestone) -> Milestone:
    return lock_milestone(milestone.pk)  # contract, then milestone (escrow.locks)


def record_event(milestone: Milestone, kind: str, *, actor=None, before="", amount=None, note="") -> None:
    """A line on the workspace timeline, ending in the milestone's current status."""
    MilestoneEvent.objects.create(
        milestone=milestone, kind=kind, actor=actor, from_status=before, to_status=milestone.status,
        amount=amount, note=note[:2000],
    )  # fmt: skip


def move_status(milestone: Milestone, to: str) -> str:
    """Change the milestone's status as the table allows; returns the status it had."""
    before = milestone.status
    if to not in Milestone.ALLOWED_TRANSITIONS[before]:
        raise InvalidTransition(
            _("This is no longer possible: the milestone is %(status)s.") % {"status": milestone.get_status_display()}
        )
    milestone.status = to
    return before


def notify_parties(milestone: Milestone, kind: str, recipients, *, actor=None, **params) -> None:
    """Notify about a milestone's event, linking to its workspace; `role` tells each side's text apart."""
    contract = milestone.contract
    url = reverse("workspace", args=[contract.pk])
    details = {"project": contract.project.title, "phase": milestone.title, "currency": contract.currency, **params}
    for user in recipients:
        role = contract.party(user) or ""
        notify([user], kind, actor=actor, url=url, role=role, **details)


def _employer_only(milestone: Milestone, user: User) -> None:
    if milestone.contract.employer_id != user.pk:
        raise NotAllowed(_("Only the employer can do this."))


def _freelancer_only(milestone: Milestone, user: User) -> None:
    if milestone.contract.freelancer_id != user.pk:
        raise NotAllowed(_("Only the freelancer can do this."))


# --- select, fund, accept ------------------------------------------------------------------------------


@transaction.atomic
def contract_select(*, proposal: Proposal, by: User) -> Contract:
    """The employer chooses a proposal: a contract with one milestone of the proposal's amount, its upfront
    share still to be paid. The project takes no new proposals."""
    project = Project.objects.select_for_update().get(pk=proposal.project_id)
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if project.owner_id != by.pk:
        raise NotAllowed(_("Only the employer of this project can do this."))
    if project.status != Project.Status.OPEN:
        raise InvalidTransition(_("This project is not open for proposals."))
    if not proposal.is_editable:
        raise InvalidTransition(_("This proposal can no longer be chosen."))
    proposal.status = Proposal.Status.SELECTED
    proposal.save(update_fields=["status", "updated_at"])
    project.status = Project.Status.IN_PROGRESS
    project.save(update_fields=["status", "updated_at"])
    contract = Contract.objects.create(
        project=project, proposal=proposal, employer=by, freelancer=proposal.freelancer, currency=project.currency
    )
    milestone = Milestone.objects.create(
        contract=contract, position=1, title=project.title[:200], amount=proposal.amount,
        upfront_share=settings.ESCROW_UPFRONT_SHARE,
    )  # fmt: skip
    record_event(milestone, MilestoneEvent.Kind.CREATED, actor=by, amount=proposal.amount)
    notify_parties(milestone, Notification.Kind.PROPOSAL_SELECTED, [contract.freelancer], actor=by)
    return contract


def _after_funding(milestone: Milestone, now) -> None:
    if milestone.status == Milestone.Status.PENDING and milestone.work_may_start:
        move_status(milestone, Milestone.Status.FUNDED)
    if milestone.status == Milestone.Status.DELIVERED and milestone.fully_funded and not milestone.auto_release_at:
        milestone.auto_release_at = now + settings.ESCROW_AUTO_RELEASE_DELAY


FUNDING_STEPS = ("upfront", "rest")


def milestone_funding_due(milestone: Milestone) -> tuple[str, Decimal] | None:
    """The step the employer may pay now, and its amount: the upfront share until it is in; then, once the
    freelancer has accepted, the rest. None when nothing is due. The page, the menu and the service ask this."""
    if milestone.status in Milestone.CLOSED:
        return None
    if milestone.funded < milestone.upfront_amount:
        return "upfront", milestone.upfront_amount - milestone.funded
    if milestone.remaining_to_fund > 0 and milestone.contract.status != Contract.Status.AWAITING_ACCEPTANCE:
        return "rest", milestone.remaining_to_fund
    return None


@transaction.atomic
def milestone_fund(*, milestone: Milestone, by: User, step: str) -> Milestone:
    """Pay one step of the milestone (`upfront` or `rest`) into escrow from the employer's wallet. The step is
    named by the request, never inferred: a repeat of a step already paid, or a step not yet due, moves nothing
    (two clicks, two tabs, or two paid gateway shortfalls pay once)."""
    if step not in FUNDING_STEPS:
        raise DomainError(_("Choose what to pay."))
    milestone = _lock(milestone)
    _employer_only(milestone, by)
    target = milestone.upfront_amount if step == "upfront" else milestone.amount
    if milestone.funded >= target:
        raise InvalidTransition(_("This payment is already paid."))
    due = milestone_funding_due(milestone)
    if due is None or due[0] != step:
        raise InvalidTransition(_("This payment is not due yet."))
    amount = round_amount(due[1], milestone.contract.currency)
    post_funding(
        payer=by,
        escrow=escrow_account(milestone.escrow_key, milestone.contract.currency),
        amount=amount,
        key=f"fund:{milestone.pk}:to:{target}",
        memo=milestone.title,
        milestone=milestone,
    )
    before = milestone.status
    milestone.funded = target
    _after_funding(milestone, timezone.now())
    milestone.save(update_fields=["funded", "status", "auto_release_at"])
    record_event(milestone, MilestoneEvent.Kind.FUNDED, actor=by, before=before, amount=amount)
    if before == Milestone.Status.PENDING and milestone.status == Milestone.Status.FUNDED:
        # The upfront share of a single delivery (the freelancer may accept), or a phase paid in full (may start).
        active = milestone.contract.status == Contract.Status.ACTIVE
        kind = Notification.Kind.PHASE_FUNDED if active else Notification.Kind.UPFRONT_PAID
    elif before != Milestone.Status.PENDING and milestone.fully_funded:
        kind = Notification.Kind.REMAINDER_PAID
    else:
        kind = None
    if kind:
        notify_parties(milestone, kind, [milestone.contract.freelancer], actor=by, amount=amount)
    return milestone


def milestone_fund_next(*, milestone: Milestone, by: User) -> Milestone:
    """Pay whatever step is due now (the demo seed and test set-up, which walk a contract forward)."""
    due = milestone_funding_due(Milestone.objects.select_related("contract").get(pk=milestone.pk))
    if due is None:
        raise DomainError(_("Nothing is due on this milestone."))
    return milestone_fund(milestone=milestone, by=by, step=due[0])


def wallet_shortfall(*, milestone: Milestone, user: User) -> Decimal:
    """How much of the step due now the employer's wallet cannot cover (paid through the gateway)."""
    due = milestone_funding_due(milestone)
    balance = wallet_of(user, milestone.contract.currency).balance
    return max((due[1] if due else Decimal(0)) - balance, Decimal(0))


def _lock_awaiting_answer(contract: Contract, by: User, side: str) -> Contract:
    """Lock a contract that waits for the freelancer's answer; only `side` ("employer"/"freelancer") may act."""
    contract = lock_contract(contract.pk)
    if contract.party(by) != side:
        raise NotAllowed(
            _("Only the employer can do this.") if side == "employer" else _("Only the freelancer can do this.")
        )
    if contract.status != Contract.Status.AWAITING_ACCEPTANCE:
        raise InvalidTransition(_("This contract is not waiting for an answer."))
    return contract


@transaction.atomic
def contract_accept(*, contract: Contract, by: User) -> Contract:
    contract = _lock_awaiting_answer(contract, by, "freelancer")
    milestone = _lock(contract.milestones.order_by("position").first())
    if not milestone.work_may_start:
        raise InvalidTransition(_("The employer has not paid the guarantee yet."))
    contract.status = Contract.Status.ACTIVE
    contract.accepted_at = timezone.now()
    contract.save(update_fields=["status", "accepted_at"])
    record_event(milestone, MilestoneEvent.Kind.ACCEPTED, actor=by)
    notify_parties(milestone, Notification.Kind.WORK_ACCEPTED, [contract.employer], actor=by)
    others = User.objects.filter(
        proposals__project=contract.project, proposals__status__in=[Proposal.Status.SENT, Proposal.Status.SHORTLISTED]
    ).exclude(pk=by.pk)
    notify(
        others, Notification.Kind.PROPOSAL_NOT_SELECTED,
        url=reverse("project_detail", args=[contract.project_id]), project=contract.project.title,
    )  # fmt: skip
    return contract


def _refund(contract: Contract, milestone: Milestone, *, actor: User, kind: str) -> None:
    """Refund whatever is in the milestone's escrow to the employer; the milestone ends refunded."""
    if milestone.in_escrow > 0:
        post_refund(
            escrow=escrow_account(milestone.escrow_key, contract.currency),
            employer=contract.employer,
            amount=milestone.in_escrow,
            key=f"refund:{milestone.pk}",
            actor=actor,
            milestone=milestone,
        )
    refunded = milestone.in_escrow
    milestone.refunded += refunded
    before = move_status(milestone, Milestone.Status.REFUNDED)
    milestone.auto_release_at = None
    milestone.save(update_fields=["refunded", "status", "auto_release_at"])
    record_event(milestone, kind, actor=actor, before=before, amount=refunded)


def _unwind(contract: Contract, milestone: Milestone, *, actor: User, kind: str) -> None:
    """Refund whatever is in escrow to the employer, close the contract, reopen the project."""
    _refund(contract, milestone, actor=actor, kind=kind)
    contract.status, contract.closed_at = Contract.Status.CANCELLED, timezone.now()
    contract.save(update_fields=["status", "closed_at"])
    if contract.proposal_id:
        Proposal.objects.filter(pk=contract.proposal_id).update(status=Proposal.Status.WITHDRAWN)
    Project.objects.filter(pk=contract.project_id, status=Project.Status.IN_PROGRESS).update(status=Project.Status.OPEN)


@transaction.atomic
def contract_decline(*, contract: Contract, by: User) -> Contract:
    contract = _lock_awaiting_answer(contract, by, "freelancer")
    milestone = _lock(contract.milestones.first())
    _unwind(contract, milestone, actor=by, kind=MilestoneEvent.Kind.DECLINED)
    notify_parties(milestone, Notification.Kind.WORK_DECLINED, [contract.employer], actor=by)
    return contract


@transaction.atomic
def contract_cancel_unanswered(*, contract: Contract, by: User, now=None) -> Contract:
    contract = _lock_awaiting_answer(contract, by, "employer")
    if (now or timezone.now()) < contract.created_at + timedelta(days=settings.ACCEPTANCE_DAYS):
        raise InvalidTransition(_("The freelancer has %(days)s days to answer.") % {"days": settings.ACCEPTANCE_DAYS})
    milestone = _lock(contract.milestones.first())
    _unwind(contract, milestone, actor=by, kind=MilestoneEvent.Kind.CANCELLED)
    notify_parties(milestone, Notification.Kind.CONTRACT_CANCELLED, [contract.freelancer], actor=by)
    return contract


# --- delivery ------------------------------------------------------------------------------------------


def deliverable_upload(*, milestone: Milestone, by: User, upload, note: str = ""):
    """The freelancer's zip: checked (workspace rules in marketplace.uploads.inspect_zip), stored privately."""
    from workspace.models import Deliverable

    report = inspect_zip(upload)  # raises ValidationError before anything is written

    def store(saved):
        locked = _lock(milestone)
        _freelancer_only(locked, by)
        if locked.contract.status != Contract.Status.ACTIVE or locked.status not in (
            Milestone.Status.FUNDED,
            Milestone.Status.DISPUTED,
        ):
            raise InvalidTransition(_("Files can be uploaded while the work is in progress or in dispute."))
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
    milestone = _lock(milestone)
    _freelancer_only(milestone, by)
    if not milestone.deliverables.exists():
        raise InvalidTransition(_("Upload the work as a zip file first."))
    before = move_status(milestone, Milestone.Status.DELIVERED)
    now = timezone.now()
    milestone.delivered_at = now
    _after_funding(milestone, now)
    milestone.save(update_fields=["status", "delivered_at", "auto_release_at"])
    record_event(milestone, MilestoneEvent.Kind.DELIVERED, actor=by, before=before)
    notify_parties(milestone, Notification.Kind.DELIVERED, [milestone.contract.employer], actor=by)
    return milestone


def complete_if_done(contract: Contract) -> None:
    """A contract is completed when all its milestones are closed; the project when every contract's are."""
    if not contract.milestones.exclude(status__in=Milestone.CLOSED).exists():
        Contract.objects.filter(pk=contract.pk, status=Contract.Status.ACTIVE).update(
            status=Contract.Status.COMPLETED, closed_at=timezone.now()
        )
        if (
            not Milestone.objects.filter(contract__project_id=contract.project_id)
            .exclude(status__in=Milestone.CLOSED)
            .exists()
        ):
            Project.objects.filter(pk=contract.project_id, status=Project.Status.IN_PROGRESS).update(
                status=Project.Status.COMPLETED
            )


def _open_dispute(milestone: Milestone):
    return milestone.disputes.filter(status__in=Dispute.OPEN_STATUSES).first()


def _release(milestone: Milestone, *, actor: User | None, kind: str) -> Milestone:
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
    before = move_status(milestone, Milestone.Status.COMPLETED)
    milestone.auto_release_at = None
    milestone.save(update_fields=["released", "status", "auto_release_at"])
    record_event(milestone, kind, actor=actor, before=before, amount=amount)
    dispute = _open_dispute(milestone)
    if dispute:
        dispute.status, dispute.resolved_at = Dispute.Status.RESOLVED, timezone.now()
        dispute.resolution = _("The employer approved the work.")
        dispute.save(update_fields=["status", "resolved_at", "resolution"])
    complete_if_done(contract)
    net = split_commission(amount, contract.currency)[0]
    if kind == MilestoneEvent.Kind.AUTO_RELEASED:
        notify_parties(milestone, Notification.Kind.AUTO_RELEASED, [contract.employer, contract.freelancer], amount=net)
    else:
        notify_parties(milestone, Notification.Kind.RELEASED, [contract.freelancer], actor=actor, amount=net)
    return milestone


@transaction.atomic
def milestone_approve(*, milestone: Milestone, by: User) -> Milestone:
    """The employer's Operations → Done / Approve: release the escrow now."""
    milestone = _lock(milestone)
    _employer_only(milestone, by)
    if milestone.status not in (Milestone.Status.DELIVERED, Milestone.Status.DISPUTED):
        raise InvalidTransition(
            _("This is no longer possible: the milestone is %(status)s.") % {"status": milestone.get_status_display()}
        )
    if not milestone.fully_funded:
        raise InvalidTransition(_("Pay the rest of the amount into escrow first."))
    return _release(milestone, actor=by, kind=MilestoneEvent.Kind.RELEASED)


def release_due_escrow(*, now=None) -> int:
    """The two-day clock: release every delivered, fully funded milestone whose time is up and that has no open
    dispute. Safe to run concurrently and repeatedly: rows another sweep holds are skipped, and each release is
    idempotent. Returns how many were released."""
    now = now or timezone.now()
    due = list(
        Milestone.objects.filter(status=Milestone.Status.DELIVERED, auto_release_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    released = 0
    for pk in due:
        with transaction.atomic():
            milestone = (
                Milestone.objects.select_for_update(skip_locked=True).select_related("contract").filter(pk=pk).first()
            )
            if (
                milestone is None
                or milestone.status != Milestone.Status.DELIVERED
                or not milestone.auto_release_at
                or milestone.auto_release_at > now
                or not milestone.fully_funded
                or _open_dispute(milestone)
            ):
                continue
            _release(milestone, actor=None, kind=MilestoneEvent.Kind.AUTO_RELEASED)
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
            if milestone is None or _open_dispute(milestone):
                continue
            milestone.release_warned_for = milestone.auto_release_at
            milestone.save(update_fields=["release_warned_for"])
            notify_parties(
                milestone, Notification.Kind.AUTO_RELEASE_SOON, [milestone.contract.employer],
                when=milestone.auto_release_at.isoformat(),
            )  # fmt: skip
            warned += 1
    return warned


# --- disputes ------------------------------------------------------------------------------------------


def dispute_open(*, milestone: Milestone, by: User, reason: str, description: str, attachment=None) -> Dispute:
    """The employer's Create dispute: the clock stops, the freelancer is asked for a fix."""
    content = clean_attachment(attachment) if attachment is not None else None
    if not description.strip():
        raise DomainError(_("Describe the problem."))

    def open_(saved):
        locked = _lock(milestone)
        _employer_only(locked, by)
        before = move_status(locked, Milestone.Status.DISPUTED)
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
    _freelancer_only(dispute.milestone, by)
    if dispute.status not in (Dispute.Status.OPEN, Dispute.Status.ANSWERED) or not message.strip():
        raise InvalidTransition(_("Write your answer to an open dispute."))
    dispute.status = Dispute.Status.ANSWERED
    dispute.save(update_fields=["status"])
    record_event(dispute.milestone, MilestoneEvent.Kind.DISPUTE_ANSWERED, actor=by, note=message)
    employer = dispute.milestone.contract.employer
    notify_parties(dispute.milestone, Notification.Kind.DISPUTE_ANSWERED, [employer], actor=by)
    return dispute


@transaction.atomic
def dispute_escalate(*, dispute: Dispute, by: User, note: str = "") -> Dispute:
    dispute = lock_dispute(dispute.pk)
    if dispute.milestone.contract.party(by) is None:
        raise NotAllowed(_("Only the two parties can do this."))
    if Dispute.Status.ESCALATED not in Dispute.ALLOWED_TRANSITIONS[dispute.status]:
        raise InvalidTransition(_("This dispute is already with the platform or resolved."))
    dispute.status = Dispute.Status.ESCALATED
    dispute.save(update_fields=["status"])
    record_event(dispute.milestone, MilestoneEvent.Kind.DISPUTE_ESCALATED, actor=by, note=note)
    contract = dispute.milestone.contract
    other = contract.freelancer if by.pk == contract.employer_id else contract.employer
    notify_parties(dispute.milestone, Notification.Kind.DISPUTE_ESCALATED, [other], actor=by)
    parties = [contract.employer_id, contract.freelancer_id]
    staff = User.objects.filter(is_staff=True, is_active=True).exclude(pk__in=parties)
    notify(
        staff, Notification.Kind.DISPUTE_ESCALATED, actor=by,
        url=reverse("admin:escrow_dispute_change", args=[dispute.pk]), project=contract.project.title,
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
        _release(milestone, actor=by, kind=MilestoneEvent.Kind.RELEASED)
    elif outcome == "refund" and contract.milestones.exclude(pk=milestone.pk).exclude(status__in=Milestone.CLOSED):
        _refund(contract, milestone, actor=by, kind=MilestoneEvent.Kind.REFUNDED)  # other phases go on
    elif outcome == "refund":
        _unwind(contract, milestone, actor=by, kind=MilestoneEvent.Kind.REFUNDED)
    elif outcome == "split":
        to_freelancer = round_amount(to_freelancer or Decimal(0), contract.currency)
        post_split(  # refuses a share outside 0…total
            escrow=escrow_account(milestone.escrow_key, contract.currency), employer=contract.employer,
            freelancer=contract.freelancer, total=total, to_freelancer=to_freelancer, key=f"split:{milestone.pk}",
            actor=by, milestone=milestone,
        )  # fmt: skip
        milestone.released += to_freelancer
        milestone.refunded += total - to_freelancer
        before = move_status(milestone, Milestone.Status.COMPLETED)
        milestone.save(update_fields=["released", "refunded", "status"])
        record_event(milestone, MilestoneEvent.Kind.SPLIT, actor=by, before=before, amount=to_freelancer, note=note)
        complete_if_done(contract)
    else:
        raise DomainError(_("Unknown action."))
    dispute.refresh_from_db()
    dispute.status, dispute.resolved_by, dispute.resolved_at = Dispute.Status.RESOLVED, by, timezone.now()
    dispute.resolution = (note or outcome)[:255]
    dispute.save(update_fields=["status", "resolved_by", "resolved_at", "resolution"])
    notify_parties(milestone, Notification.Kind.DISPUTE_RESOLVED, [contract.employer, contract.freelancer], actor=by)
    return dispute
