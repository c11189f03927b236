"""Payment gateways: one small interface, and the built-in sandbox gateway that implements it.

The protocol every gateway follows (Zarinpal, Stripe Checkout and the sandbox alike):
1. `start(payment, callback_url)` registers the payment with the gateway and returns the URL to send the
   browser to;
2. the gateway sends the browser back to `callback_url` with a signed result;
3. `parse_callback(params)` checks the signature and returns what the callback claims;
4. `verify(payment)` asks the gateway itself whether it really holds the money, and how much.
Only after 4 does escrow.services credit anything, and always the amount from our own database.
"""

import hashlib
import hmac
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from escrow.models import SandboxBankTransaction


class CallbackRejected(Exception):
    """The callback is not to be trusted (bad signature, stale, malformed). Nothing is credited."""


@dataclass(frozen=True)
class CallbackResult:
    reference: str
    amount: Decimal
    status: str  # "paid" or "cancelled"
    timestamp: int


@dataclass(frozen=True)
class Verification:
    paid: bool
    amount: Decimal
    gateway_reference: str


class SandboxGateway:
    """A gateway inside the app: its "bank" page (escrow.views.sandbox_bank) pays or cancels, then calls back
    with an HMAC-signed result, and `verify` reads the sandbox bank's own books."""

    name = "sandbox"

    @staticmethod
    def _secret() -> bytes:
        return (settings.SANDBOX_GATEWAY_SECRET or settings.SECRET_KEY + ":sandbox-gateway").encode()

    @classmethod
    def sign(cls, *, reference: str, amount: Decimal, status: str, timestamp: int) -> str:
        message = f"{reference}|{amount:.2f}|{status}|{timestamp}".encode()
        return hmac.new(cls._secret(), message, hashlib.sha256).hexdigest()

    def start(self, payment, callback_url: str) -> str:
        SandboxBankTransaction.objects.get_or_create(
            reference=payment.reference, defaults={"amount": payment.amount, "currency": payment.currency}
        )
        return f"{reverse('sandbox_bank', args=[payment.reference])}?{urlencode({'callback': callback_url})}"

    def callback_query(self, *, reference: str, amount: Decimal, status: str) -> str:
        """What the sandbox bank appends to the callback URL (used by its own page)."""
        timestamp = int(timezone.now().timestamp())
        signature = self.sign(reference=reference, amount=amount, status=status, timestamp=timestamp)
        return urlencode(
            {"reference": reference, "amount": f"{amount:.2f}", "status": status, "ts": timestamp, "sig": signature}
        )

    def parse_callback(self, params) -> CallbackResult:
        try:
            reference = str(params["reference"])
            amount = Decimal(str(params["amount"]))
            status = str(params["status"])
            timestamp = int(params["ts"])
            signature = str(params["sig"])
        except (KeyError, ValueError, TypeError, InvalidOperation) as error:
            raise CallbackRejected("malformed callback") from error
        expected = self.sign(reference=reference, amount=amount, status=status, timestamp=timestamp)
        if not hmac.compare_digest(expected, signature):
            raise CallbackRejected("bad signature")
        age = timezone.now().timestamp() - timestamp
        if age > settings.PAYMENT_CALLBACK_MAX_AGE or age < -60:
            raise CallbackRejected("stale callback")
        if status not in ("paid", "cancelled"):
            raise CallbackRejected("unknown status")
        return CallbackResult(reference=reference, amount=amount, status=status, timestamp=timestamp)

    def verify(self, payment) -> Verification:
        record = SandboxBankTransaction.objects.filter(reference=payment.reference).first()
        if record is None:
            return Verification(paid=False, amount=Decimal(0), gateway_reference="")
        return Verification(
            paid=record.status == "paid", amount=record.amount, gateway_reference=f"SANDBOX-{record.pk}"
        )


GATEWAYS = {"sandbox": SandboxGateway}


def get_gateway(name: str | None = None):
    name = name or settings.PAYMENT_GATEWAY
    if name == "sandbox" and not settings.SANDBOX_GATEWAY_ENABLED:
        raise LookupError("the sandbox gateway is switched off (SANDBOX_GATEWAY_ENABLED)")
    return GATEWAYS[name]()
