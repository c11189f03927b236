"""Payments in through a gateway, and withdrawals out. Every money movement goes through escrow.ledger."""

import logging
import secrets
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
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
from escrow.models import Payment, PaymentEvent, Transaction, Withdrawal
from marketplace.currency import round_amount
from marketplace.errors import InvalidTransition, NotAllowed

logger = logging.getLogger(__name__)

__all__ = ["CallbackRejected", "EscrowError", "InsufficientFunds"]


def _event(payment: Payment, event: str, **data) -> None:
    PaymentEvent.objects.create(payment=payment, event=event, data={k: str(v) for k, v in data.items()})


# --- payments in ---------------------------------------------------------------------------------------


@transaction.atomic
def payment_start(*, user: User, amount: Decimal, callback_url: str, currency: str | None = None, next_url: str = ""):
    """Create a top-up payment and register it with the gateway. Returns (payment, URL to send the browser to)."""
    currency = currency or settings.DEFAULT_CURRENCY
    amount = round_amount(amount, currency)
    low, high = settings.TOP_UP_LIMITS.get(currency, (Decimal(1), Decimal(10**9)))
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
    )
    _event(payment, "created", amount=amount, currency=currency)
    redirect_url = gateway.start(payment, callback_url)
    payment.status = Payment.Status.PENDING
    payment.save(update_fields=["status", "updated_at"])
    _event(payment, "sent_to_gateway", gateway=gateway.name)
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
        _event(payment, "callback_rejected", reason="amount mismatch", claimed=result.amount)
        raise CallbackRejected("amount mismatch")
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status in (Payment.Status.PAID, Payment.Status.CANCELLED, Payment.Status.FAILED):
            _event(payment, "callback_repeated", status=result.status)
            return payment
        if result.status == "cancelled":
            payment.status = Payment.Status.CANCELLED
            payment.save(update_fields=["status", "updated_at"])
            _event(payment, "cancelled_by_payer")
            return payment
        verification = gateway.verify(payment)
        _event(payment, "verified", paid=verification.paid, amount=verification.amount)
        if not verification.paid or verification.amount != payment.amount:
            payment.status = Payment.Status.FAILED
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
        payment.status = Payment.Status.PAID
        payment.gateway_reference = verification.gateway_reference
        payment.save(update_fields=["status", "gateway_reference", "updated_at"])
        _event(payment, "credited", amount=payment.amount)
        return payment


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


def _lock_requested(withdrawal: Withdrawal, by: User) -> Withdrawal | None:
    if not by.is_staff:
        raise NotAllowed(_("Only staff can process withdrawals."))
    locked = Withdrawal.objects.select_for_update().get(pk=withdrawal.pk)
    return locked if locked.status == Withdrawal.Status.REQUESTED else None


def _notify_withdrawal(withdrawal: Withdrawal) -> None:
    user = withdrawal.user
    with translation.override(user.language or settings.LANGUAGE_CODE):
        body = render_to_string(
            "escrow/email/withdrawal_processed.txt",
            {"withdrawal": withdrawal, "user": user, "site_url": settings.SITE_URL, "SITE_NAME": settings.SITE_NAME},
        )
        subject = (
            _("Your withdrawal is paid")
            if withdrawal.status == Withdrawal.Status.PAID
            else _("Your withdrawal was returned to your wallet")
        )
        send_mail(subject, body, None, [user.email])


@transaction.atomic
def withdrawal_mark_paid(*, withdrawal: Withdrawal, by: User, bank_reference: str) -> Withdrawal:
    """Staff paid it at the bank: payout −X, clearing +X. A second call changes nothing."""
    locked = _lock_requested(withdrawal, by)
    if locked is None:
        current = Withdrawal.objects.get(pk=withdrawal.pk)
        if current.status == Withdrawal.Status.PAID:
            return current
        raise InvalidTransition(_("This withdrawal was already processed."))
    bank_reference = bank_reference.strip()
    if not bank_reference:
        raise EscrowError(_("Give the bank's reference for the transfer."))
    ledger_post(
        kind=Transaction.Kind.WITHDRAWAL_PAID,
        idempotency_key=f"withdrawal:{locked.pk}:paid",
        legs=[
            Leg(payout_of(locked.user, locked.currency), -locked.amount),
            Leg(clearing_account("bank", locked.currency), locked.amount),
        ],
        memo=_("Withdrawal paid"),
        actor=by,
        withdrawal=locked,
    )
    locked.status = Withdrawal.Status.PAID
    locked.bank_reference = bank_reference[:100]
    locked.processed_by = by
    locked.processed_at = timezone.now()
    locked.save(update_fields=["status", "bank_reference", "processed_by", "processed_at"])
    _notify_withdrawal(locked)
    return locked


@transaction.atomic
def withdrawal_reject(*, withdrawal: Withdrawal, by: User, note: str = "") -> Withdrawal:
    """Staff could not pay it: payout −X, wallet +X. A second call changes nothing."""
    locked = _lock_requested(withdrawal, by)
    if locked is None:
        current = Withdrawal.objects.get(pk=withdrawal.pk)
        if current.status == Withdrawal.Status.REJECTED:
            return current
        raise InvalidTransition(_("This withdrawal was already processed."))
    ledger_post(
        kind=Transaction.Kind.WITHDRAWAL_REJECTED,
        idempotency_key=f"withdrawal:{locked.pk}:rejected",
        legs=[
            Leg(payout_of(locked.user, locked.currency), -locked.amount),
            Leg(wallet_of(locked.user, locked.currency), locked.amount),
        ],
        memo=_("Withdrawal returned"),
        actor=by,
        withdrawal=locked,
    )
    locked.status = Withdrawal.Status.REJECTED
    locked.staff_note = note.strip()[:255]
    locked.processed_by = by
    locked.processed_at = timezone.now()
    locked.save(update_fields=["status", "staff_note", "processed_by", "processed_at"])
    _notify_withdrawal(locked)
    return locked
