"""Ending a milestone by a division of its escrow, and paying the freelancer outside the review: the one way a
milestone closes with its escrow divided (`milestone_settle`: an accepted offer, a dispute's deadline, a staff
decision), offers and counter-offers between the parties, partial release, and a bonus."""

import re
from decimal import Decimal, InvalidOperation
from uuid import uuid4

from django.db import transaction
from django.utils.translation import gettext as _
from djmoney.money import Money

from accounts.models import User
from escrow.ledger import (
    InsufficientFunds,
    escrow_account,
    post_bonus,
    post_release,
    post_split,
    split_commission,
    wallet_of,
)
from escrow.models import Transaction
from marketplace.currency import round_amount
from marketplace.errors import DomainError, InvalidTransition
from marketplace.templatetags.l10n_fa import money
from notifications.models import Notification
from workspace.models import Contract, Dispute, Milestone, MilestoneEvent, Offer
from workspace.services.delivery import milestone_release
from workspace.services.funding import contract_wind_down, milestone_refund
from workspace.services.history import (
    contract_close_if_done,
    dispute_set_status,
    milestone_set_status,
    notify_parties,
    offer_set_status,
    record_event,
)
from workspace.services.locks import lock_contract, lock_milestone, lock_offer
from workspace.services.rules import ensure, negotiation_deadline


def shown(amount: Decimal, currency: str) -> str:
    """An amount as a message shows it ('1,250,000 toman' / '۱٬۲۵۰٬۰۰۰ تومان')."""
    return money(Money(amount, currency))


def parse_amount(value, currency: str) -> Decimal:
    """An amount typed by a person (Persian or Latin digits, thousands separators), rounded to the currency."""
    text = str(value).strip().translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩٫", "01234567890123456789."))
    text = re.sub(r"[,\s٬']", "", text)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise DomainError(_("Enter an amount in numbers.")) from None
    if not amount.is_finite() or amount < 0:
        raise DomainError(_("Enter an amount in numbers."))
    return round_amount(amount, currency)


def milestone_settle(milestone: Milestone, *, to_freelancer: Decimal, actor: User | None, kind: str, resolution=""):
    """Close the milestone dividing what is in its escrow: `to_freelancer` to the freelancer (less commission),
    the rest back to the employer, in one balanced transaction; its dispute (if any) is resolved. The caller holds
    the milestone's lock."""
    contract = milestone.contract
    total = milestone.in_escrow
    if not 0 <= to_freelancer <= total:
        raise DomainError(
            _("The freelancer's share must be between zero and the amount in escrow (%(total)s).")
            % {"total": shown(total, contract.currency)}
        )
    dispute = Dispute.objects.select_for_update().filter(milestone=milestone, status__in=Dispute.OPEN_STATUSES).first()
    # Nothing will have been paid to the freelancer on this contract: it ends as if they had never been chosen.
    nothing_paid = (
        not to_freelancer
        and not contract.milestones.exclude(pk=milestone.pk).exclude(status__in=Milestone.CLOSED).exists()
        and not contract.milestones.filter(released__gt=0).exists()
        and not Transaction.objects.filter(kind=Transaction.Kind.BONUS, milestone__contract=contract).exists()
    )
    if total and to_freelancer == total:
        milestone_release(milestone, actor=actor, kind=kind)
    elif total and not to_freelancer:
        milestone_refund(contract, milestone, actor=actor, kind=kind)
    elif total:
        post_split(
            escrow=escrow_account(milestone.escrow_key, contract.currency), employer=contract.employer,
            freelancer=contract.freelancer, total=total, to_freelancer=to_freelancer, key=f"split:{milestone.pk}",
            actor=actor, milestone=milestone,
        )  # fmt: skip
        milestone.released += to_freelancer
        milestone.refunded += total - to_freelancer
        before = milestone_set_status(milestone, Milestone.Status.COMPLETED)
        milestone.auto_release_at = milestone.remainder_due_at = None
        milestone.save(update_fields=["released", "refunded", "status", "auto_release_at", "remainder_due_at"])
        record_event(milestone, kind, actor=actor, before=before, amount=to_freelancer, note=resolution)
    else:  # nothing in escrow: an unfunded milestone ends by agreement
        closed = (
            Milestone.Status.CANCELLED if milestone.status == Milestone.Status.PENDING else Milestone.Status.COMPLETED
        )
        before = milestone_set_status(milestone, closed)
        milestone.auto_release_at = milestone.remainder_due_at = None
        milestone.save(update_fields=["status", "auto_release_at", "remainder_due_at"])
        record_event(milestone, kind, actor=actor, before=before, amount=Decimal(0), note=resolution)
    if nothing_paid:
        contract_wind_down(contract)
    else:
        contract_close_if_done(contract)  # (a release has closed it already: then this does nothing)
    if dispute is not None:
        dispute_set_status(dispute, Dispute.Status.RESOLVED, by=actor, resolution=resolution or kind)


# --- offers ------------------------------------------------------------------------------------------------


def _lock_open_offer(milestone: Milestone) -> Offer | None:
    return Offer.objects.select_for_update().filter(milestone=milestone, status=Offer.Status.OPEN).first()


@transaction.atomic
def offer_make(*, milestone: Milestone, by: User, to_freelancer, note: str = "") -> Offer:
    """Offer an amount of the escrow to the freelancer (the rest to the employer): to settle the milestone's
    dispute, or, with none, to end the milestone by agreement. Made while the other side's offer waits, it is a
    counter-offer and replaces it. An offer from the side that must answer a dispute answers it."""
    locked = lock_milestone(milestone.pk)
    contract = locked.contract
    dispute = Dispute.objects.select_for_update().filter(milestone=locked, status__in=Dispute.OPEN_STATUSES).first()
    waiting = _lock_open_offer(locked)
    ensure("offer", user=by, milestone=locked, offer=waiting)
    amount = parse_amount(to_freelancer, contract.currency)
    if amount > locked.in_escrow:
        raise DomainError(
            _("Offer at most what is in secure payment for this milestone: %(total)s.")
            % {"total": shown(locked.in_escrow, contract.currency)}
        )
    if waiting is not None:
        offer_set_status(waiting, Offer.Status.COUNTERED)
    if dispute is not None and dispute.status == Dispute.Status.OPEN and dispute.opened_by_id != by.pk:
        dispute_set_status(dispute, Dispute.Status.ANSWERED, deadline=negotiation_deadline())
    offer = Offer.objects.create(milestone=locked, dispute=dispute, made_by=by, to_freelancer=amount, note=note[:2000])
    record_event(locked, MilestoneEvent.Kind.OFFER_MADE, actor=by, amount=amount, note=note)
    notify_parties(
        locked, Notification.Kind.OFFER_MADE, [contract.other_party(by)], actor=by, amount=amount,
        note=note[:300],
    )  # fmt: skip
    return offer


@transaction.atomic
def offer_accept(*, offer: Offer, by: User) -> Offer:
    """The other side accepts: the split is carried out at once, without staff."""
    offer = lock_offer(offer.pk)
    milestone = offer.milestone
    ensure("accept_offer", user=by, milestone=milestone, offer=offer)
    if offer.to_freelancer > milestone.in_escrow:
        raise InvalidTransition(_("The amount in secure payment has changed since this offer; make a new one."))
    offer_set_status(offer, Offer.Status.ACCEPTED)
    milestone_settle(
        milestone, to_freelancer=offer.to_freelancer, actor=by, kind=MilestoneEvent.Kind.SETTLED,
        resolution=_("Settled by agreement: %(amount)s to the freelancer.")
        % {"amount": shown(offer.to_freelancer, milestone.contract.currency)},
    )  # fmt: skip
    contract = milestone.contract
    notify_parties(
        milestone, Notification.Kind.OFFER_ACCEPTED, [contract.employer, contract.freelancer], actor=by,
        amount=offer.to_freelancer,
    )  # fmt: skip
    return offer


@transaction.atomic
def offer_decline(*, offer: Offer, by: User) -> Offer:
    offer = lock_offer(offer.pk)
    ensure("decline_offer", user=by, milestone=offer.milestone, offer=offer)
    offer_set_status(offer, Offer.Status.DECLINED)
    dispute = Dispute.objects.select_for_update().filter(pk=offer.dispute_id, status=Dispute.Status.OPEN).first()
    if dispute is not None and dispute.opened_by_id != by.pk:  # declining is an answer: the parties negotiate
        dispute_set_status(dispute, Dispute.Status.ANSWERED, deadline=negotiation_deadline())
    record_event(offer.milestone, MilestoneEvent.Kind.OFFER_DECLINED, actor=by, amount=offer.to_freelancer)
    notify_parties(offer.milestone, Notification.Kind.OFFER_DECLINED, [offer.made_by], actor=by)
    return offer


@transaction.atomic
def offer_withdraw(*, offer: Offer, by: User) -> Offer:
    offer = lock_offer(offer.pk)
    ensure("withdraw_offer", user=by, milestone=offer.milestone, offer=offer)
    offer_set_status(offer, Offer.Status.WITHDRAWN)
    record_event(offer.milestone, MilestoneEvent.Kind.OFFER_WITHDRAWN, actor=by, amount=offer.to_freelancer)
    return offer


# --- paying the freelancer outside the review --------------------------------------------------------------


@transaction.atomic
def milestone_release_part(*, milestone: Milestone, by: User, amount, token: str | None = None) -> Milestone:
    """The employer releases part of a milestone's escrow early (commission as for a release); the rest stays in
    escrow and the milestone goes on. `token` is the form's one-time key: the same form sent twice (a double
    click, two tabs) releases once. An offer waiting on the milestone lapses: it divided an escrow that changed."""
    if token is not None and not TOKEN.match(token):
        raise DomainError(_("The form has expired; open it again."))
    milestone = lock_milestone(milestone.pk)
    ensure("release_part", user=by, milestone=milestone)
    contract = milestone.contract
    key = f"release:{milestone.pk}:part:{token or uuid4().hex}"
    if Transaction.objects.filter(idempotency_key=key).exists():  # sent twice: released once (we hold the lock)
        return milestone
    amount = parse_amount(amount, contract.currency)
    if not 0 < amount < milestone.in_escrow:
        raise DomainError(
            _("Release more than zero and less than the %(total)s in secure payment; to release all of it, approve.")
            % {"total": shown(milestone.in_escrow, contract.currency)}
        )
    post_release(
        escrow=escrow_account(milestone.escrow_key, contract.currency), freelancer=contract.freelancer,
        amount=amount, key=key, actor=by, memo=milestone.title, milestone=milestone,
    )  # fmt: skip
    milestone.released += amount
    milestone.save(update_fields=["released"])
    lapse_open_offers(milestone)
    record_event(milestone, MilestoneEvent.Kind.PARTIAL_RELEASED, actor=by, before=milestone.status, amount=amount)
    net = split_commission(amount, contract.currency)[0]
    notify_parties(milestone, Notification.Kind.PARTIAL_RELEASED, [contract.freelancer], actor=by, amount=net)
    return milestone


def lapse_open_offers(milestone: Milestone) -> None:
    """The escrow an open offer divided has changed (part released, an agreed change of the amount): the offer no
    longer stands; either side may make a new one."""
    for offer in Offer.objects.select_for_update().filter(milestone=milestone, status=Offer.Status.OPEN):
        offer_set_status(offer, Offer.Status.LAPSED)


TOKEN = re.compile(r"^[0-9a-f]{32}$")


@transaction.atomic
def contract_bonus(*, contract: Contract, by: User, amount, note: str = "", token: str) -> Decimal:
    """A bonus from the employer's wallet to the freelancer, commission as for a release. `token` is the form's
    one-time key: the same form sent twice pays once. Returns what the freelancer received."""
    if not TOKEN.match(token or ""):
        raise DomainError(_("The form has expired; open it again."))
    contract = lock_contract(contract.pk)
    milestones = contract.milestones.order_by("-position")  # the bonus is recorded on the last one not cancelled
    milestone = milestones.exclude(status=Milestone.Status.CANCELLED).first() or milestones.first()
    milestone.contract = contract
    ensure("bonus", user=by, milestone=milestone)
    amount = parse_amount(amount, contract.currency)
    if amount <= 0:
        raise DomainError(_("Enter an amount greater than zero."))
    net = split_commission(amount, contract.currency)[0]
    key = f"bonus:{contract.pk}:{token}"
    first = Transaction.objects.filter(idempotency_key=key).first()
    if first is not None:  # sent twice: paid once (we hold the lock); the answer is what the first one paid
        return first.entries.get(account=wallet_of(contract.freelancer, contract.currency)).amount
    try:
        post_bonus(
            payer=by, freelancer=contract.freelancer, amount=amount, currency=contract.currency, key=key,
            memo=note[:255] or _("Bonus"), milestone=milestone,
        )  # fmt: skip
    except InsufficientFunds:
        raise DomainError(_("Your wallet does not hold this amount; top it up first.")) from None
    record_event(milestone, MilestoneEvent.Kind.BONUS, actor=by, before=milestone.status, amount=amount, note=note)
    notify_parties(milestone, Notification.Kind.BONUS_PAID, [contract.freelancer], actor=by, amount=net)
    return net
