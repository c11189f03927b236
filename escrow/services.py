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
from escrow.gateways import CallbackRejected, GatewayError, GatewayUnavailable, gateway_for, get_gateway
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
from escrow.models import Payment, PaymentEvent, PaymentIssue, SandboxBankTransaction, Transaction, Withdrawal
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


def payment_start(
    *,
    user: User,
    amount: Decimal,
    site_url: str,
    currency: str | None = None,
    next_url: str = "",
    milestone=None,
    fund_amount: Decimal | None = None,
    fund_step: str = "",
):
    """Create a payment and register it with the gateway that takes its currency. Returns (payment, URL to send
    the browser to). `site_url` is the site's address as the browser sees it (the gateway returns there).
    Not one transaction: the row is written before the gateway is called, so a refusal or a timeout stays in
    the payment's history.

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
    gateway = gateway_for(currency)
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
    callback_url = f"{site_url.rstrip('/')}{reverse('payment_callback', args=[gateway.name])}"
    try:
        redirect_url = gateway.start(payment, callback_url)
    except GatewayError as error:
        # Kept, failed, with the gateway's answer, for staff to see.
        set_status(payment, Payment.Status.FAILED)
        payment.save(update_fields=["status", "updated_at"])
        payment_event(payment, "start_refused", code=error.code)
        raise EscrowError(error.message) from error
    set_status(payment, Payment.Status.PENDING)
    payment.save(update_fields=["status", "gateway_token", "updated_at"])
    payment_event(payment, "sent_to_gateway", gateway=gateway.name, token=payment.gateway_token)
    return payment, redirect_url


def payment_callback(*, gateway_name: str, params) -> Payment:
    """The browser is back from the gateway: find the payment the return names and settle it (verify with the
    gateway, credit once). Raises CallbackRejected (the view answers 400) for a forged, stale, unknown or
    mismatched return; nothing is credited then."""
    gateway = get_gateway(gateway_name)
    result = gateway.parse_callback(params)  # signature, freshness, shape
    payments = Payment.objects.filter(gateway=gateway.name)
    payment = (
        payments.filter(reference=result.reference).first()
        if result.reference
        else payments.filter(gateway_token=result.token).first()
        if result.token
        else None
    )
    if payment is None:
        logger.warning("A %s return names no payment of ours: %s", gateway.name, result)
        raise CallbackRejected("unknown reference")
    if result.amount is not None and result.amount != payment.amount:
        payment_event(payment, "callback_rejected", reason="amount mismatch", claimed=result.amount)
        raise CallbackRejected("amount mismatch")
    if result.status == "cancelled":
        return _payment_cancelled(payment, gateway)
    return payment_settle(payment=payment, source="callback")


def _payment_cancelled(payment: Payment, gateway) -> Payment:
    """The payer cancelled at the gateway. Where that is final (`gateway.cancel_is_final`) the payment is
    cancelled; otherwise (a Stripe session stays open until it expires) it waits, and the reconciliation expires
    it."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status != Payment.Status.PENDING:
            payment_event(payment, "callback_repeated", status="cancelled")
            return payment
        payment_event(payment, "cancelled_by_payer")
        if gateway.cancel_is_final:
            set_status(payment, Payment.Status.CANCELLED)
            payment.save(update_fields=["status", "updated_at"])
    return payment


def payment_webhook(*, gateway_name: str, payload: bytes, signature: str) -> Payment | None:
    """A gateway's signed server-to-server notice (Stripe's checkout.session.completed): settle the payment it
    names through the same service as the browser's return. Raises CallbackRejected for a bad or old signature."""
    gateway = get_gateway(gateway_name)
    if not hasattr(gateway, "parse_webhook"):
        raise LookupError(f"the {gateway.name} gateway sends no webhooks")
    token = gateway.parse_webhook(payload, signature)
    if token is None:
        return None  # an event we do not act on
    payment = Payment.objects.filter(gateway=gateway.name, gateway_token=token).first()
    if payment is None:
        logger.warning("A %s webhook names no payment of ours: %s", gateway.name, token)
        payment_issue_report(gateway.name, token, PaymentIssue.Kind.UNKNOWN_HERE, None, {"source": "webhook"})
        return None
    return payment_settle(payment=payment, source="webhook")


def payment_settle(*, payment: Payment, source: str, now=None) -> Payment:
    """Ask the gateway about `payment` and act on its answer, once: paid → the wallet is credited (and what the
    payment was for goes on); a different amount → never credited, flagged to staff; unpaid → nothing, or
    expired once PAYMENT_EXPIRE_AFTER has passed (the reconciliation); no answer → nothing, asked again later.

    The return, the webhook and the reconciliation all come here, concurrently or repeatedly: the row lock and the
    ledger's idempotency key (`deposit:<payment>`) credit it once. The payment returned says in `outcome` what
    this call did ("credited", "expired", or "")."""
    now = now or timezone.now()
    # A cancelled payment is asked about again only when the gateway itself lists it as paid (the reconciliation).
    open_ = Payment.SETTLEABLE_BY_GATEWAY if source == "reconcile" else Payment.SETTLEABLE
    if payment.status not in open_:
        payment_event(payment, "callback_repeated", source=source, status=payment.status)
        return payment
    gateway = get_gateway(payment.gateway)
    try:
        verification = gateway.verify(payment)  # outside the lock: a slow gateway holds no row
    except GatewayUnavailable as error:
        logger.warning("Payment %s: %s did not answer (%s)", payment.reference, payment.gateway, error.code)
        Payment.objects.filter(pk=payment.pk).update(checked_at=now)
        payment_event(payment, "verify_unavailable", source=source, code=error.code)
        return Payment.objects.get(pk=payment.pk)
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        payment.checked_at = now
        payment_event(payment, "verified", source=source, state=verification.state, **verification.evidence)
        if payment.status not in open_:
            payment.save(update_fields=["checked_at"])
            return payment  # settled by a concurrent return, webhook or sweep
        if verification.paid:
            _credit(payment, gateway, verification, source)
            payment.outcome = "credited"
        elif verification.state == verification.MISMATCH:
            set_status(payment, Payment.Status.FAILED)
            payment.save(update_fields=["status", "checked_at", "updated_at"])
            token = payment.gateway_token or payment.reference
            evidence = {"source": source, **verification.evidence}
            if payment_issue_report(payment.gateway, token, PaymentIssue.Kind.AMOUNT_MISMATCH, payment, evidence):
                payment.outcome = "issue"
        elif (
            source == "reconcile"
            and payment.status == Payment.Status.PENDING
            and (payment.created_at <= now - settings.PAYMENT_EXPIRE_AFTER)
        ):
            set_status(payment, Payment.Status.EXPIRED)
            payment.save(update_fields=["status", "checked_at", "updated_at"])
            payment_event(payment, "expired")
            payment.outcome = "expired"
        elif source == "callback" and gateway.unpaid_on_return_is_final:
            set_status(payment, Payment.Status.FAILED)
            payment.save(update_fields=["status", "checked_at", "updated_at"])
        else:
            payment.save(update_fields=["checked_at"])
    return payment


def _credit(payment: Payment, gateway, verification, source: str) -> None:
    """Credit the wallet with the amount from our database, once; the caller holds the payment's lock."""
    if payment.status != Payment.Status.PENDING:  # expired or cancelled here, paid at the gateway
        payment_event(payment, f"paid_after_{payment.status}")
    post_deposit(
        user=payment.user,
        amount=payment.amount,
        currency=payment.currency,
        gateway=gateway.name,
        key=f"deposit:{payment.pk}",
        payment=payment,
    )
    set_status(payment, Payment.Status.PAID)
    payment.gateway_reference = verification.gateway_reference[:100]
    payment.card_mask = verification.card_mask[:32]
    payment.confirmed_at = payment.checked_at
    payment.save(update_fields=["status", "gateway_reference", "card_mask", "checked_at", "confirmed_at", "updated_at"])
    payment_event(payment, "credited", amount=payment.amount)
    if source != "callback":  # nobody is on the page to read it: the payer is told
        notify(
            [payment.user], Notification.Kind.PAYMENT_CONFIRMED, url=payment.next_url or reverse("payment_settings"),
            amount=payment.amount, currency=payment.currency,
        )  # fmt: skip
    # What the money was for (a milestone's funding, in workspace) goes on in this same transaction.
    payment_credited.send(sender=Payment, payment=payment)


@transaction.atomic
def payment_issue_resolve(*, issue: PaymentIssue, by: User, note: str = "") -> PaymentIssue:
    """Staff settled the disagreement outside (with the gateway, with the payer): it leaves the open list."""
    if not by.is_staff:
        raise NotAllowed(_("Only staff can do this."))
    issue = PaymentIssue.objects.select_for_update().get(pk=issue.pk)
    if issue.resolved_at is None:
        issue.resolved_at, issue.resolved_by, issue.note = timezone.now(), by, note.strip()[:255]
        issue.save(update_fields=["resolved_at", "resolved_by", "note"])
    return issue


def payment_issue_report(gateway: str, token: str, kind: str, payment: Payment | None, evidence: dict) -> bool:
    """Report a disagreement to staff, once: True for a new report, False when it was reported before."""
    issue, created = PaymentIssue.objects.get_or_create(
        gateway=gateway, token=token[:100], kind=kind,
        defaults={"payment": payment, "evidence": {k: str(v) for k, v in evidence.items()}},
    )  # fmt: skip
    if created:
        logger.error("Payment issue: %s", issue)
        if payment is not None:
            payment_event(payment, "issue_reported", kind=kind)
    return created


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
    if not bank_reference and current.status in Withdrawal.OPEN:
        raise EscrowError(_("Give the bank's reference for the transfer."))
    return _withdrawal_process(withdrawal=withdrawal, by=by, to=Withdrawal.Status.PAID, bank_reference=bank_reference)


@transaction.atomic
def withdrawal_reject(*, withdrawal: Withdrawal, by: User, note: str = "", bank_reference: str = "") -> Withdrawal:
    """Staff could not pay it, or the bank returned it: payout −X, back to the wallet +X, with a note for the
    user (and the bank's tracking number of the returned transfer, when there is one)."""
    return _withdrawal_process(
        withdrawal=withdrawal, by=by, to=Withdrawal.Status.REJECTED, staff_note=note.strip()[:255],
        bank_reference=bank_reference.strip()[:100],
    )  # fmt: skip
