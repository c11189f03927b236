"""The built-in sandbox gateway: its "bank" page (escrow.views.sandbox_bank) pays or cancels, then calls back
with an HMAC-signed result, and `verify` reads the sandbox bank's own books. The default for `make run` and the
tests; production switches it off (SANDBOX_GATEWAY_ENABLED)."""

import hashlib
import hmac
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from escrow.gateways.base import CallbackRejected, CallbackResult, Verification
from escrow.models import SandboxBankTransaction


class SandboxGateway:
    name = "sandbox"
    currencies = None  # any
    cancel_is_final = True
    unpaid_on_return_is_final = True  # its bank answers at once

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
        return CallbackResult(status=status, reference=reference, amount=amount)

    def verify(self, payment) -> Verification:
        record = SandboxBankTransaction.objects.filter(reference=payment.reference).first()
        if record is None or record.status != SandboxBankTransaction.Status.PAID:
            return Verification(Verification.UNPAID, evidence={"sandbox": record.status if record else "unknown"})
        state = Verification.PAID if record.amount == payment.amount else Verification.MISMATCH
        return Verification(
            state, gateway_reference=f"SANDBOX-{record.pk}",
            card_mask=f"************{record.card_last4}" if record.card_last4 else "",
        )  # fmt: skip
