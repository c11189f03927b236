"""Contracts in any state, reached through the real services (no row is written by hand but the clock).

`contract_in(state)` is the one way tests and the demo seed (marketplace seed_demo) walk a contract forward:

    unpaid → awaiting → in_progress → uploaded → delivered → review → completed
                     ↘ declined                          ↘ disputed → answered → escalated
    awaiting_overdue (the freelancer's answer time is over), cancelled (then cancelled by the employer)

`phased_contract_in(5, 10, 5, states=(...))` does the same for a phased project: the phasing offered and accepted,
then each phase walked by `phase_to(milestone, state)`: pending → funded → delivered → completed.
"""

import io
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import User
from escrow.ledger import post_deposit
from projects.models import Category, Project
from projects.services import project_create
from proposals.models import Proposal
from proposals.services import proposal_submit
from workspace.models import Contract, ContractChange, Dispute, Milestone, Offer
from workspace.services import changes, choosing, delivery, disputes, funding, settling
from workspace.services.phasing import PhaseInput, phasing_offer_accept, phasing_offer_send

STATES = (
    "unpaid",
    "awaiting",
    "awaiting_overdue",
    "cancelled",
    "declined",
    "in_progress",
    "uploaded",
    "delivered",
    "review",
    "disputed",
    "answered",
    "escalated",
    "completed",
    # two-sided contracts
    "remainder_lapsed",  # delivered, the rest unpaid past the remainder clock: the freelancer may dispute
    "freelancer_disputed",  # ... and did (not paid)
    "negotiating",  # the employer's dispute, answered by the freelancer's offer
    "late",  # in progress, past its due date and the grace period: the employer may cancel it
    "cancel_offered",  # in progress, the employer offers to end it by agreement
    "change_proposed",  # in progress, the freelancer proposes a later due date
)
PHASE_STATES = ("pending", "funded", "delivered", "completed")


def zip_file(name: str = "work.zip", files: dict | None = None, **extra) -> SimpleUploadedFile:
    """A delivery as the browser sends it; `infos=[(ZipInfo, content)]` adds hand-made entries."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in (files or {"index.html": "<h1>Shop</h1>", "css/site.css": "body{}"}).items():
            archive.writestr(path, content)
        for info, content in extra.get("infos", []):
            archive.writestr(info, content)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/zip")


def phases(*millions, start_in_days: int = 10) -> list[PhaseInput]:
    """Phase inputs of the given amounts (in millions of toman), due ten days apart."""
    today = timezone.localdate()
    return [
        PhaseInput(
            title=f"Phase {n}", amount=Decimal(amount) * 1_000_000, due_date=today + timedelta(days=start_in_days * n)
        )
        for n, amount in enumerate(millions, start=1)
    ]


@dataclass
class Deal:
    employer: User
    freelancer: User
    project: Project
    proposal: Proposal
    contract: Contract
    milestone: Milestone
    dispute: Dispute | None = None
    offer: Offer | None = None
    change: ContractChange | None = None

    def refresh(self) -> "Deal":
        """The same deal read back from the database."""
        self.contract = Contract.objects.get(pk=self.contract.pk)
        self.milestone = Milestone.objects.select_related("contract").get(pk=self.milestone.pk)
        self.project = Project.objects.get(pk=self.project.pk)
        if self.dispute:
            self.dispute = Dispute.objects.get(pk=self.dispute.pk)
        if self.offer:
            self.offer = Offer.objects.get(pk=self.offer.pk)
        if self.change:
            self.change = ContractChange.objects.get(pk=self.change.pk)
        return self


def contract_in(
    state: str,
    *,
    employer: User | None = None,
    freelancer: User | None = None,
    proposal: Proposal | None = None,
    title: str = "Build an online shop",
    amount: str = "1000000",
    currency: str = "IRT",
    category=None,
    wallet: str | None = None,
    upload=None,
) -> Deal:
    """A single-delivery contract in `state`, walked there by the services a person would use.

    A new project and proposal are made, unless `proposal` (one already sent, e.g. after a chat or beside other
    bids) is given: the walk then starts by choosing it, and its project, people and amount are the deal's.
    The employer's wallet gets `wallet` (default: twice the amount) through a ledger deposit first; wallet="0"
    deposits nothing (the employer pays from what the wallet holds, as the demo seed does).
    """
    if state not in STATES:
        raise ValueError(f"unknown contract state {state!r}; one of {', '.join(STATES)}")
    if proposal is None:
        proposal = _proposal(Project.Kind.SINGLE, employer, freelancer, title, amount, currency, category)
    _top_up(proposal, wallet)
    employer = proposal.project.owner
    contract = choosing.contract_select(proposal=proposal, by=employer)
    deal = Deal(employer, proposal.freelancer, proposal.project, proposal, contract, contract.milestones.get())
    _walk(deal, state, upload)
    return deal.refresh()


def _proposal(kind, employer, freelancer, title, amount, currency, category) -> Proposal:
    """A published project of `employer` and the freelancer's proposal of `amount` on it."""
    if employer is None or freelancer is None:
        # Imported here so the demo seed, which passes its own users, runs without factory_boy (a test tool).
        from accounts.tests.factories import UserFactory

        employer, freelancer = employer or UserFactory(), freelancer or UserFactory()
    if category is None:
        category = Category.objects.order_by("position").first()
    project = project_create(
        owner=employer, title=title, description=f"{title}: what is to be done, written at some length.",
        category=category, skills=list(category.skills.all()[:2]), currency=currency, budget_min=Decimal(amount),
        budget_max=Decimal(amount), duration_days=30, kind=kind, publish=True,
    )  # fmt: skip
    return proposal_submit(
        project=project, freelancer=freelancer, amount=Decimal(amount), delivery_days=20,
        cover_letter="I have done this kind of work many times; here is how I would go about it.",
    )  # fmt: skip


def _top_up(proposal: Proposal, wallet: str | None) -> None:
    """The employer's deposit for this deal (keyed by the proposal: two deals on one project get one each)."""
    amount = Decimal(wallet) if wallet is not None else proposal.amount * 2
    if amount:
        post_deposit(
            user=proposal.project.owner, amount=amount, currency=proposal.project.currency, gateway="sandbox",
            key=f"contract_in:{proposal.pk}",
        )  # fmt: skip


def _walk(deal: Deal, state: str, upload) -> None:
    if state == "unpaid":
        return
    funding.milestone_fund_next(milestone=deal.milestone, by=deal.employer)
    if state == "awaiting":
        return
    if state in ("awaiting_overdue", "cancelled"):
        # The clock is the one thing set by hand: the contract was made longer ago than the answer time.
        overdue = timezone.now() - timedelta(days=settings.ACCEPTANCE_DAYS, minutes=1)
        Contract.objects.filter(pk=deal.contract.pk).update(created_at=overdue)
        if state == "cancelled":
            choosing.contract_cancel_unanswered(contract=deal.contract, by=deal.employer)
        return
    if state == "declined":
        choosing.contract_decline(contract=deal.contract, by=deal.freelancer)
        return
    choosing.contract_accept(contract=deal.contract, by=deal.freelancer)
    if state == "in_progress":
        return
    if state == "late":  # the due date is the one thing set by hand: it passed longer ago than the grace period
        overdue = timezone.localdate() - timedelta(days=settings.MILESTONE_LATE_GRACE_DAYS + 1)
        Milestone.objects.filter(pk=deal.milestone.pk).update(due_date=overdue)
        return
    if state == "cancel_offered":
        deal.offer = settling.offer_make(milestone=deal.milestone, by=deal.employer, to_freelancer="100000",
                                         note="Let us stop here; I keep the rest.")  # fmt: skip
        return
    if state == "change_proposed":
        deal.change = changes.change_propose(
            contract=deal.contract, by=deal.freelancer, kind="edit", milestone=deal.milestone,
            due_date=timezone.localdate() + timedelta(days=40), note="Two more weeks, please.",
        )  # fmt: skip
        return
    delivery.deliverable_upload(milestone=deal.milestone, by=deal.freelancer, upload=upload or zip_file())
    if state == "uploaded":
        return
    delivery.milestone_mark_delivered(milestone=deal.milestone, by=deal.freelancer)
    if state == "delivered":
        return
    if state in ("remainder_lapsed", "freelancer_disputed"):  # the remainder clock ran out (set by hand)
        Milestone.objects.filter(pk=deal.milestone.pk).update(remainder_due_at=timezone.now() - timedelta(minutes=1))
        if state == "freelancer_disputed":
            deal.dispute = disputes.dispute_open(
                milestone=deal.milestone, by=deal.freelancer, reason=Dispute.Reason.NOT_PAID,
                description="The work was delivered a week ago and the rest is still unpaid.",
            )  # fmt: skip
        return
    funding.milestone_fund_next(milestone=deal.milestone, by=deal.employer)
    if state == "review":
        return
    if state == "completed":
        delivery.milestone_approve(milestone=deal.milestone, by=deal.employer)
        return
    deal.dispute = disputes.dispute_open(
        milestone=deal.milestone, by=deal.employer, reason=Dispute.Reason.INCOMPLETE,
        description="Two screens are still missing; please finish them.",
    )  # fmt: skip
    if state == "disputed":
        return
    if state == "negotiating":
        deal.offer = settling.offer_make(milestone=deal.milestone, by=deal.freelancer, to_freelancer="700000",
                                         note="I will take 700,000 for what is done.")  # fmt: skip
        return
    disputes.dispute_answer(dispute=deal.dispute, by=deal.freelancer, message="Both screens are in the new version.")
    if state == "answered":
        return
    disputes.dispute_escalate(dispute=deal.dispute, by=deal.employer)


# --- phased contracts -------------------------------------------------------------------------------------


@dataclass
class PhasedDeal:
    employer: User
    freelancer: User
    project: Project
    proposal: Proposal
    contract: Contract
    milestones: list[Milestone]  # the phases, in order

    def refresh(self) -> "PhasedDeal":
        """The same deal read back from the database."""
        self.contract = Contract.objects.get(pk=self.contract.pk)
        self.milestones = list(self.contract.milestones.select_related("contract").order_by("position"))
        self.project = Project.objects.get(pk=self.project.pk)
        return self


def phased_contract_in(
    *millions,
    states: tuple[str, ...] = (),
    employer: User | None = None,
    freelancer: User | None = None,
    proposal: Proposal | None = None,
    title: str = "Online class app",
    currency: str = "IRT",
    category=None,
    wallet: str | None = None,
) -> PhasedDeal:
    """A phased contract: the employer offers `phases(*millions)` to the bidder, who accepts it (a contract of
    100%-upfront milestones); then phase n is walked to `states[n]` with `phase_to` (the phases past the end of
    `states` stay pending).

    The proposal asks the phases' total, unless `proposal` (one already sent on a phased project) is given. The
    employer's wallet gets `wallet` (default: twice the total) through a ledger deposit first, as in contract_in.
    """
    if not millions or len(states) > len(millions):
        raise ValueError("give each phase its amount, and at most one state per phase")
    if proposal is None:
        total = str(sum(Decimal(amount) for amount in millions) * 1_000_000)
        proposal = _proposal(Project.Kind.PHASED, employer, freelancer, title, total, currency, category)
    _top_up(proposal, wallet)
    employer = proposal.project.owner
    offer = phasing_offer_send(proposal=proposal, by=employer, phases=phases(*millions))
    contract = phasing_offer_accept(offer=offer, by=proposal.freelancer, version=offer.version)
    milestones = list(contract.milestones.order_by("position"))
    for milestone, state in zip(milestones, states, strict=False):
        phase_to(milestone, state)
    deal = PhasedDeal(employer, proposal.freelancer, proposal.project, proposal, contract, milestones)
    return deal.refresh()


def phase_to(milestone: Milestone, state: str, *, upload=None) -> Milestone:
    """Walk one phase (a milestone paid in full upfront) from where it is to `state`: funded by the employer,
    delivered (a file uploaded and marked done by the freelancer), completed (approved). Returns it read back."""
    milestone = Milestone.objects.select_related("contract").get(pk=milestone.pk)
    where, to = (PHASE_STATES.index(s) if s in PHASE_STATES else None for s in (milestone.status, state))
    if where is None or to is None or to < where:
        raise ValueError(f"a phase walks {' → '.join(PHASE_STATES)}; not {milestone.status!r} → {state!r}")
    employer, freelancer = milestone.contract.employer, milestone.contract.freelancer
    for step in PHASE_STATES[where + 1 : to + 1]:
        if step == "funded":
            funding.milestone_fund_next(milestone=milestone, by=employer)
        elif step == "delivered":
            delivery.deliverable_upload(milestone=milestone, by=freelancer, upload=upload or zip_file())
            delivery.milestone_mark_delivered(milestone=milestone, by=freelancer)
        else:
            delivery.milestone_approve(milestone=milestone, by=employer)
    return Milestone.objects.select_related("contract").get(pk=milestone.pk)
