"""Payments in through a gateway, and withdrawals out. Every money movement goes through escrow.ledger."""

import logging
import secrets
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Profile, User
from escrow.gateways import CallbackRejected, get_gateway
from escrow.ledger import (
    EscrowError,
    InsufficientFunds,
    Leg,
    clearing_account,
    ledger_post,
    payout_of,
    post_deposit,
    wallet_of,
)
from escrow.models import Payment, PaymentEvent, SandboxBankTransaction, Transaction, Withdrawal
from escrow.signals import payment_credited
from marketplace.currency import round_amount
from marketplace.errors import NotAllowed
from marketplace.status import set_status
from notifications.models import Notification
from notifications.services import notify

logger = logging.getLogger(__name__)

__all__ = ["CallbackRejected", "EscrowError", "InsufficientFunds"]


def payment_event(payment: Payment, event: str, **data) -> None:
    """A line in the payment's append-only history."""
    PaymentEvent.objects.create(payment=payment, event=event, data={k: str(v) for k, v in data.items()})


# --- payments in ---------------------------------------------------------------------------------------


@transaction.atomic
def payment_start(
    *,
    user: User,
    amount: Decimal,
    callback_url: str,
    currency: str | None = None,
    next_url: str = "",
    milestone=None,
    fund_amount: Decimal | None = None,
    fund_step: str = "",
):
    """Create a payment and register it with the gateway. Returns (payment, URL to send the browser to).

    With `milestone`, the verified payment goes on to pay `fund_step` of that milestone (its amount is
    `fund_amount`); only the milestone's employer may start such a payment.
    """
    if milestone is not None:
        if milestone.contract.employer_id != user.pk:
            raise NotAllowed(_("Only the employer can do this."))
        if fund_step not in Payment.FundStep.values:
            raise EscrowError(_("Choose what to pay."))
    currency = currency or settings.DEFAULT_CURRENCY
    amount = round_amount(amount, currency)
    low, high = settings.TOP_UP_LIMITS.get(currency, (Decimal(1), Decimal(10**9)))
    if milestone is not None:
        amount = max(amount, low)  # a gateway has a minimum; what is left over stays in the wallet
    if not low <= amount <= high:
        raise EscrowError(_("A top-up must be between %(low)s and %(high)s.") % {"low": low, "high": high})
    gateway = get_gateway()
    payment = Payment.objects.create(
        user=user,
        amount=amount,
        currency=currency,
        gateway=gateway.name,
        reference=secrets.token_hex(16),
        next_url=next_url[:300],
        milestone=milestone,
        fund_amount=fund_amount,
        fund_step=fund_step,
    )
    payment_event(payment, "created", amount=amount, currency=currency)
    redirect_url = gateway.start(payment, callback_url)
    set_status(payment, Payment.Status.PENDING)
    payment.save(update_fields=["status", "updated_at"])
    payment_event(payment, "sent_to_gateway", gateway=gateway.name)
    return payment, redirect_url


def payment_callback(*, gateway_name: str, params) -> Payment:
    """Handle the gateway's callback: check it, verify with the gateway, credit the wallet once.

    Raises CallbackRejected (the view answers 400) for a forged, stale, unknown or mismatched callback; nothing
    is credited then. A replayed or concurrent duplicate of a good callback credits nothing more.
    """
    gateway = get_gateway(gateway_name)
    result = gateway.parse_callback(params)  # signature, freshness, shape
    payment = Payment.objects.filter(reference=result.reference, gateway=gateway.name).first()
    if payment is None:
        raise CallbackRejected("unknown reference")
    if result.amount != payment.amount:
        # Recorded in its own transaction: the payment's history keeps the attempt.
        payment_event(payment, "callback_rejected", reason="amount mismatch", claimed=result.amount)
        raise CallbackRejected("amount mismatch")
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status in (Payment.Status.PAID, Payment.Status.CANCELLED, Payment.Status.FAILED):
            payment_event(payment, "callback_repeated", status=result.status)
            return payment
        if result.status == "cancelled":
            set_status(payment, Payment.Status.CANCELLED)
            payment.save(update_fields=["status", "updated_at"])
            payment_event(payment, "cancelled_by_payer")
            return payment
        verification = gateway.verify(payment)
        payment_event(payment, "verified", paid=verification.paid, amount=verification.amount)
        if not verification.paid or verification.amount != payment.amount:
            set_status(payment, Payment.Status.FAILED)
            payment.save(update_fields=["status", "updated_at"])
            return payment
        # The amount credited is ours, from the database; the idempotency key makes a second credit impossible.
        post_deposit(
            user=payment.user,
            amount=payment.amount,
            currency=payment.currency,
            gateway=gateway.name,
            key=f"deposit:{payment.pk}",
            payment=payment,
        )
        set_status(payment, Payment.Status.PAID)
        payment.gateway_reference = verification.gateway_reference
        payment.save(update_fields=["status", "gateway_reference", "updated_at"])
        payment_event(payment, "credited", amount=payment.amount)
        # What the money was for (a milestone's funding, in workspace) goes on in this same transaction.
        payment_credited.send(sender=Payment, payment=payment)
        return payment


@transaction.atomic
def sandbox_bank_answer(*, record: SandboxBankTransaction, paid: bool, card_number: str = "") -> SandboxBankTransaction:
    """The sandbox bank's page paid or cancelled; a second answer (a second tab) changes nothing."""
    record = SandboxBankTransaction.objects.select_for_update().get(pk=record.pk)
    if record.status != SandboxBankTransaction.Status.PENDING:
        return record
    set_status(record, SandboxBankTransaction.Status.PAID if paid else SandboxBankTransaction.Status.CANCELLED)
    record.card_last4 = card_number.replace(" ", "")[-4:] if paid else ""
    record.save(update_fields=["status", "card_last4"])
    return record


# --- withdrawals out -----------------------------------------------------------------------------------


def minimum_withdrawal(currency: str) -> Decimal:
    return settings.WITHDRAWAL_MINIMUM.get(currency, Decimal(1))


@transaction.atomic
def withdrawal_request(*, user: User, amount: Decimal, currency: str | None = None) -> Withdrawal:
    """Move money from the wallet to "awaiting payout", to the user's saved bank account."""
    currency = currency or settings.DEFAULT_CURRENCY
    amount = round_amount(amount, currency)
    if amount < minimum_withdrawal(currency):
        raise EscrowError(
            _("The smallest withdrawal is %(amount)s.") % {"amount": f"{minimum_withdrawal(currency):,.0f}"}
        )
    profile = Profile.objects.get(user=user)
    if not profile.bank_sheba or not profile.bank_account_holder:
        raise EscrowError(_("Save your bank details (Sheba and account holder) before asking for a withdrawal."))
    withdrawal = Withdrawal.objects.create(
        user=user,
        amount=amount,
        currency=currency,
        sheba=profile.bank_sheba,
        card_number=profile.bank_card_number,
        account_holder=profile.bank_account_holder,
    )
    ledger_post(
        kind=Transaction.Kind.WITHDRAWAL_REQUEST,
        idempotency_key=f"withdrawal:{withdrawal.pk}:request",
        legs=[Leg(wallet_of(user, currency), -amount), Leg(payout_of(user, currency), amount)],
        memo=_("Withdrawal request"),
        actor=user,
        withdrawal=withdrawal,
    )  # InsufficientFunds rolls the withdrawal row back with it
    return withdrawal


def _notify_withdrawal(withdrawal: Withdrawal) -> None:
    paid = withdrawal.status == Withdrawal.Status.PAID
    notify(
        [withdrawal.user], Notification.Kind.WITHDRAWAL_PAID if paid else Notification.Kind.WITHDRAWAL_REJECTED,
        url=reverse("payment_settings"), amount=withdrawal.amount, currency=withdrawal.currency,
        reference=withdrawal.bank_reference, note=withdrawal.staff_note,
    )  # fmt: skip


def _withdrawal_process(*, withdrawal: Withdrawal, by: User, to: str, **fields) -> Withdrawal:
    """Pay or return a requested withdrawal: one ledger movement, the new status, the user e-mailed.

    Staff only. Asking again for the outcome it already has changes nothing; the other outcome is refused.
    """
    if not by.is_staff:
        raise NotAllowed(_("Only staff can process withdrawals."))
    locked = Withdrawal.objects.select_for_update().select_related("user").get(pk=withdrawal.pk)
    if locked.status == to:
        return locked
    set_status(locked, to, refusal=_("This withdrawal was already processed."))
    payout = payout_of(locked.user, locked.currency)
    if to == Withdrawal.Status.PAID:
        kind, memo, destination = (
            Transaction.Kind.WITHDRAWAL_PAID,
            _("Withdrawal paid"),
            clearing_account("bank", locked.currency),
        )
    else:
        kind, memo, destination = (
            Transaction.Kind.WITHDRAWAL_REJECTED,
            _("Withdrawal returned"),
            wallet_of(locked.user, locked.currency),
        )
    ledger_post(
        kind=kind,
        idempotency_key=f"withdrawal:{locked.pk}:{to}",
        legs=[Leg(payout, -locked.amount), Leg(destination, locked.amount)],
        memo=memo,
        actor=by,
        withdrawal=locked,
    )
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.processed_by, locked.processed_at = by, timezone.now()
    locked.save(update_fields=["status", "processed_by", "processed_at", *fields])
    _notify_withdrawal(locked)
    return locked


@transaction.atomic
def withdrawal_mark_paid(*, withdrawal: Withdrawal, by: User, bank_reference: str) -> Withdrawal:
    """Staff paid it at the bank: payout −X, clearing +X, with the bank's reference."""
    bank_reference = bank_reference.strip()[:100]
    current = Withdrawal.objects.get(pk=withdrawal.pk)
    if not bank_reference and current.status == Withdrawal.Status.REQUESTED:
        raise EscrowError(_("Give the bank's reference for the transfer."))
    return _withdrawal_process(withdrawal=withdrawal, by=by, to=Withdrawal.Status.PAID, bank_reference=bank_reference)


@transaction.atomic
def withdrawal_reject(*, withdrawal: Withdrawal, by: User, note: str = "") -> Withdrawal:
    """Staff could not pay it: payout −X, back to the wallet +X, with a note for the user."""
    return _withdrawal_process(
        withdrawal=withdrawal, by=by, to=Withdrawal.Status.REJECTED, staff_note=note.strip()[:255]
    )
