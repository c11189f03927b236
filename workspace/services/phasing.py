"""Phased projects (seed 002): the employer offers a phasing to one bidder, who accepts it (a contract of
100%-upfront milestones, one per phase), rejects it (leaves the bidders) or comments in the chat; later phases may
be offered to another bidder, which makes a second contract on the same project.

Funding, delivery, release and disputes are per milestone, the same as for a single delivery.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from marketplace.currency import round_amount
from marketplace.errors import DomainError, InvalidTransition, NotAllowed
from marketplace.status import set_status
from notifications.models import Notification
from notifications.services import notify
from projects.models import Project
from projects.services import project_mark_in_progress
from proposals.models import Conversation, Proposal
from proposals.services import message_send, proposal_mark_selected, proposal_set_aside
from workspace.models import Contract, Milestone, MilestoneEvent, PhasingOffer, PhasingOfferPhase
from workspace.services.history import contract_close_if_done, milestone_set_status, record_event
from workspace.services.locks import lock_milestone, lock_phasing_offer, lock_proposal
from workspace.services.rules import MAX_DUE_DAYS

MAX_PHASES = 20


@dataclass(frozen=True)
class PhaseInput:
    title: str
    amount: Decimal
    due_date: date
    scope: str = ""


def _check_phases(phases: list[PhaseInput], currency: str) -> list[PhaseInput]:
    if not phases:
        raise DomainError(_("Add at least one phase."))
    if len(phases) > MAX_PHASES:
        raise DomainError(_("A project can have at most 20 phases."))
    today = timezone.localdate()
    checked, previous = [], None
    for number, phase in enumerate(phases, start=1):
        title, amount = phase.title.strip(), round_amount(phase.amount, currency)
        if not title:
            raise DomainError(_("Phase %(number)s needs a title.") % {"number": number})
        if amount <= 0:
            raise DomainError(_("Phase %(number)s needs an amount above zero.") % {"number": number})
        if phase.due_date <= today:
            raise DomainError(_("Phase %(number)s is due in the past.") % {"number": number})
        if (phase.due_date - today).days > MAX_DUE_DAYS:
            raise DomainError(_("A due date can be at most %(years)s years away.") % {"years": MAX_DUE_DAYS // 365})
        if previous and phase.due_date < previous:
            raise DomainError(_("Phase %(number)s is due before the phase above it.") % {"number": number})
        previous = phase.due_date
        checked.append(PhaseInput(title=title[:200], amount=amount, due_date=phase.due_date, scope=phase.scope.strip()))
    return checked


@transaction.atomic
def phasing_offer_send(
    *, proposal: Proposal, by: User, phases: list[PhaseInput], note: str = "", replaces: list[Milestone] = ()
) -> PhasingOffer:
    """Offer (or revise) a phasing to one bidder. With `replaces`, the offer takes over those unfunded phases of an
    earlier contract on the project (a different freelancer for later phases)."""
    proposal = lock_proposal(proposal.pk)
    project = proposal.project
    if project.owner_id != by.pk:
        raise NotAllowed(_("Only the employer of this project can do this."))
    if project.status not in (Project.Status.OPEN, Project.Status.IN_PROGRESS) or not proposal.is_editable:
        raise InvalidTransition(_("This proposal can no longer receive a phasing offer."))
    for milestone in replaces:
        if (
            milestone.contract.project_id != project.pk
            or milestone.status != Milestone.Status.PENDING
            or milestone.funded
        ):
            raise InvalidTransition(_("Only phases that are not paid yet can be offered to someone else."))
    phases = _check_phases(list(phases), project.currency)
    previous = proposal.phasing_offers.select_for_update().filter(status=PhasingOffer.Status.SENT).first()
    if previous:
        set_status(previous, PhasingOffer.Status.REVISED)
        previous.save(update_fields=["status"])
    version = (proposal.phasing_offers.order_by("-version").values_list("version", flat=True).first() or 0) + 1
    offer = PhasingOffer.objects.create(proposal=proposal, version=version, note=note.strip()[:2000])
    replaced = list(replaces)
    PhasingOfferPhase.objects.bulk_create(
        PhasingOfferPhase(
            offer=offer, position=n, title=p.title, scope=p.scope, due_date=p.due_date, amount=p.amount,
            replaces=replaced[n - 1] if n - 1 < len(replaced) else None,
        )
        for n, p in enumerate(phases, start=1)
    )  # fmt: skip
    notify(
        [proposal.freelancer], Notification.Kind.PHASING_REVISED if previous else Notification.Kind.PHASING_OFFERED,
        actor=by, url=f"{reverse('project_detail', args=[project.pk])}#proposal", project=project.title,
        amount=sum(p.amount for p in phases), currency=project.currency,
    )  # fmt: skip
    return offer


@transaction.atomic
def phasing_offer_accept(*, offer: PhasingOffer, by: User, version: int) -> Contract:
    """The freelancer accepts the version they saw. Work starts only when a phase is paid in full."""
    offer = lock_phasing_offer(offer.pk)
    proposal, project = offer.proposal, offer.proposal.project
    if proposal.freelancer_id != by.pk:
        raise NotAllowed(_("Only the freelancer can do this."))
    if offer.status != PhasingOffer.Status.SENT or offer.version != version:
        raise InvalidTransition(_("The employer has changed this offer since; read the new version first."))
    phases = list(offer.phases.all())
    earlier_contracts, moved, numbers = {}, {}, {}
    for phase in phases:
        if phase.replaces_id:
            old = lock_milestone(phase.replaces_id)
            earlier_contracts[old.contract_id] = old.contract
            moved.setdefault(old.contract_id, []).append(old)
            numbers[phase.pk] = old.position  # the project's phase number stays the phase's name
            if old.status != Milestone.Status.PENDING or old.funded:
                raise InvalidTransition(_("A phase of this offer has been paid meanwhile; ask for a new offer."))
            before = milestone_set_status(old, Milestone.Status.CANCELLED)
            old.save(update_fields=["status"])
            record_event(
                old, MilestoneEvent.Kind.CANCELLED, actor=by, before=before, note=_("Given to another freelancer.")
            )
    contract = Contract.objects.create(
        project=project, proposal=proposal, employer=project.owner, freelancer=by, currency=project.currency,
        status=Contract.Status.ACTIVE, accepted_at=timezone.now(),
    )  # fmt: skip
    for phase in phases:
        milestone = Milestone.objects.create(
            contract=contract, position=numbers.get(phase.pk, phase.position), title=phase.title, scope=phase.scope,
            due_date=phase.due_date, amount=phase.amount, upfront_share=Decimal(1),
        )  # fmt: skip
        record_event(milestone, MilestoneEvent.Kind.CREATED, actor=by, amount=phase.amount)
    for earlier in earlier_contracts.values():
        contract_close_if_done(earlier)  # its remaining phases went to this freelancer
        notify(
            [earlier.freelancer], Notification.Kind.PHASES_REASSIGNED, actor=project.owner,
            url=reverse("workspace", args=[earlier.pk]), project=project.title,
            phases=", ".join(f"{m.position}. {m.title}" for m in sorted(moved[earlier.pk], key=lambda m: m.position)),
        )  # fmt: skip
    set_status(offer, PhasingOffer.Status.ACCEPTED)
    offer.answered_at = timezone.now()
    offer.save(update_fields=["status", "answered_at"])
    proposal_mark_selected(proposal=proposal)
    project_mark_in_progress(project=project)
    notify(
        [project.owner], Notification.Kind.PHASING_ACCEPTED, actor=by,
        url=reverse("workspace", args=[contract.pk]), project=project.title,
    )  # fmt: skip
    return contract


@transaction.atomic
def phasing_offer_reject(*, offer: PhasingOffer, by: User) -> PhasingOffer:
    """The freelancer rejects: they leave the project's bidders; the employer may negotiate with someone else."""
    offer = lock_phasing_offer(offer.pk)
    if offer.proposal.freelancer_id != by.pk:
        raise NotAllowed(_("Only the freelancer can do this."))
    set_status(offer, PhasingOffer.Status.REJECTED, refusal=_("This offer is no longer open."))
    offer.answered_at = timezone.now()
    offer.save(update_fields=["status", "answered_at"])
    proposal_set_aside(proposal=offer.proposal)
    project = offer.proposal.project
    notify(
        [project.owner], Notification.Kind.PHASING_REJECTED, actor=by,
        url=reverse("project_proposals", args=[project.pk]), project=project.title,
    )  # fmt: skip
    return offer


def phasing_comment(*, offer: PhasingOffer, by: User, text: str):
    """The freelancer's "Comment on the project's phasing" reaches the employer in their chat."""
    if offer.proposal.freelancer_id != by.pk:
        raise NotAllowed(_("Only the freelancer can do this."))
    conversation = Conversation.objects.get(project_id=offer.proposal.project_id, freelancer=by)
    prefix = _("About the phasing (version %(version)s):") % {"version": offer.version}
    return message_send(conversation=conversation, sender=by, body=f"{prefix}\n{text.strip()}")
