"""Choosing a freelancer for a single delivery: the employer selects a proposal (a contract and its one
milestone), pays the upfront share (workspace.services.funding), and the freelancer accepts or declines; an
unanswered contract may be cancelled by the employer after ACCEPTANCE_DAYS."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from marketplace.errors import InvalidTransition, NotAllowed
from notifications.models import Notification
from notifications.services import notify
from projects.models import Project
from projects.services import project_mark_in_progress
from proposals.models import Proposal
from proposals.services import proposal_mark_selected
from workspace.models import Contract, Milestone, MilestoneEvent
from workspace.services.funding import contract_unwind
from workspace.services.history import contract_set_status, notify_parties, record_event
from workspace.services.locks import lock_milestone, lock_proposal
from workspace.services.rules import ensure


@transaction.atomic
def contract_select(*, proposal: Proposal, by: User) -> Contract:
    """The employer chooses a proposal: a contract with one milestone of the proposal's amount, its upfront
    share still to be paid. The project takes no new proposals."""
    proposal = lock_proposal(proposal.pk)
    project = proposal.project
    if project.owner_id != by.pk:
        raise NotAllowed(_("Only the employer of this project can do this."))
    if project.status != Project.Status.OPEN:
        raise InvalidTransition(_("This project is not open for proposals."))
    if not proposal.is_editable:
        raise InvalidTransition(_("This proposal can no longer be chosen."))
    proposal_mark_selected(proposal=proposal)
    project_mark_in_progress(project=project)
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


def _lock_single_milestone(contract: Contract) -> Milestone:
    """The contract's (first) milestone, locked in the house order with its contract and project."""
    return lock_milestone(contract.milestones.order_by("position").values_list("pk", flat=True).first())


@transaction.atomic
def contract_accept(*, contract: Contract, by: User) -> Contract:
    milestone = _lock_single_milestone(contract)
    ensure("accept", user=by, milestone=milestone)
    contract = milestone.contract
    contract_set_status(contract, Contract.Status.ACTIVE)
    if milestone.due_date is None and contract.proposal_id:  # the proposal's delivery time runs from today
        days = Proposal.objects.values_list("delivery_days", flat=True).get(pk=contract.proposal_id)
        milestone.due_date = timezone.localdate() + timedelta(days=days)
        milestone.save(update_fields=["due_date"])
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


@transaction.atomic
def contract_decline(*, contract: Contract, by: User) -> Contract:
    milestone = _lock_single_milestone(contract)
    ensure("decline", user=by, milestone=milestone)
    contract_unwind(milestone.contract, milestone, actor=by, kind=MilestoneEvent.Kind.DECLINED)
    notify_parties(milestone, Notification.Kind.WORK_DECLINED, [milestone.contract.employer], actor=by)
    return milestone.contract


@transaction.atomic
def contract_cancel_unanswered(*, contract: Contract, by: User, now=None) -> Contract:
    milestone = _lock_single_milestone(contract)
    ensure("cancel", user=by, milestone=milestone, now=now)
    contract_unwind(milestone.contract, milestone, actor=by, kind=MilestoneEvent.Kind.CANCELLED)
    notify_parties(milestone, Notification.Kind.CONTRACT_CANCELLED, [milestone.contract.freelancer], actor=by)
    return milestone.contract
