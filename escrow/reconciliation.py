"""Reconciliation: the commonest real payment failure is a payer charged at the gateway whose browser never came
back (tab closed, network dropped). Every few minutes (the beat task, or `manage.py reconcile_payments`) we ask
the gateways ourselves:

1. every payment still waiting after PAYMENT_RECONCILE_AFTER is verified: paid → credited (the same idempotent
   service as the browser's return); still unpaid after PAYMENT_EXPIRE_AFTER → expired;
2. what a gateway holds that nobody verified (Zarinpal's unVerified list) is matched to our payments and settled;
   one we do not know is reported to staff;
3. a credited payment the gateway has not confirmed to us yet is asked about once; unknown there → reported.

Anything inconsistent becomes a PaymentIssue (admin → Payment issues) with the evidence; money never moves
because of one. Running it twice, or alongside a late return or webhook, moves money once.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from escrow.gateways import GatewayUnavailable, get_gateway
from escrow.models import Payment, PaymentIssue
from escrow.services import payment_event, payment_issue_report, payment_settle

logger = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    asked: int = 0
    credited: int = 0
    expired: int = 0
    confirmed: int = 0
    issues: int = 0
    unavailable: int = 0

    def __str__(self) -> str:
        return (
            f"{self.asked} payment(s) asked about, {self.credited} credited, {self.expired} expired, "
            f"{self.confirmed} confirmed, {self.issues} issue(s) reported, {self.unavailable} gateway(s) unavailable"
        )


def _gateway(name: str):
    try:
        return get_gateway(name)
    except LookupError:
        return None  # a gateway switched off since (the sandbox in production): nothing to ask


def payments_reconcile(*, now=None) -> ReconcileReport:
    now = now or timezone.now()
    report = ReconcileReport()
    due = now - settings.PAYMENT_RECONCILE_AFTER

    # 1. Payments nobody came back for (asked again at most every PAYMENT_RECONCILE_AFTER).
    waiting = Payment.objects.filter(status=Payment.Status.PENDING, created_at__lte=due).filter(
        Q(checked_at__isnull=True) | Q(checked_at__lte=due)
    )
    for payment in waiting.order_by("created_at").iterator():
        if _gateway(payment.gateway) is None:
            continue
        report.asked += 1
        _count(report, payment_settle(payment=payment, source="reconcile", now=now))

    # 2. What the gateways hold that nobody verified.
    for name in Payment.objects.values_list("gateway", flat=True).distinct().order_by("gateway"):
        gateway = _gateway(name)
        if gateway is None or not hasattr(gateway, "unverified"):
            continue
        try:
            held = gateway.unverified()
        except GatewayUnavailable as error:
            logger.warning("Reconciliation: %s's unverified list did not come (%s)", name, error.code)
            report.unavailable += 1
            continue
        tokens = [item.token for item in held]
        ours = {p.gateway_token: p for p in Payment.objects.filter(gateway=name, gateway_token__in=tokens)}
        for item in held:
            payment = ours.get(item.token)
            if payment is None:
                report.issues += payment_issue_report(
                    name, item.token, PaymentIssue.Kind.UNKNOWN_HERE, None, {"amount": item.amount}
                )
            elif payment.created_at > due:
                continue  # its payer may be on the way back; asked about next time
            elif payment.status in Payment.SETTLEABLE_BY_GATEWAY:
                # Listed as paid by the gateway itself: verified and credited, even after a "cancelled" return.
                report.asked += 1
                _count(report, payment_settle(payment=payment, source="reconcile", now=now))

    # 3. Credited here, not yet confirmed by the gateway (credited before confirmation was recorded).
    unconfirmed = Payment.objects.filter(
        status=Payment.Status.PAID, confirmed_at__isnull=True, updated_at__gte=now - settings.PAYMENT_CONFIRM_WITHIN
    )
    for payment in unconfirmed.iterator():
        gateway = _gateway(payment.gateway)
        if gateway is None:
            continue
        try:
            verification = gateway.verify(payment)
        except GatewayUnavailable:
            report.unavailable += 1
            continue
        if verification.paid:
            Payment.objects.filter(pk=payment.pk).update(confirmed_at=now, checked_at=now)
            payment_event(payment, "confirmed", state=verification.state)
            report.confirmed += 1
        else:
            token = payment.gateway_token or payment.reference
            report.issues += payment_issue_report(
                payment.gateway, token, PaymentIssue.Kind.UNKNOWN_THERE, payment, verification.evidence
            )
    return report


def _count(report: ReconcileReport, payment: Payment) -> None:
    outcome = getattr(payment, "outcome", "")  # what this very call did (payment_settle says)
    report.credited += outcome == "credited"
    report.expired += outcome == "expired"
    report.issues += outcome == "issue"
