"""What every payment gateway answers, whatever protocol it speaks underneath.

1. `start(payment, callback_url)` registers the payment with the gateway (it may set `payment.gateway_token`, the
   gateway's own id for it) and returns the URL to send the browser to;
2. the gateway sends the browser back to `callback_url`;
3. `parse_callback(params)` reads what the return claims (our reference or the gateway's token, and whether the
   payer paid or cancelled); nothing in it is trusted yet;
4. `verify(payment)` asks the gateway itself whether it holds the money, and how much, sending the amount from our
   database where the protocol takes one.
Only after 4 does escrow.services credit anything, always the amount from our own database, once.

Gateways that can list payments nobody came back for (Zarinpal's unVerified) also have `unverified()`.

Two attributes say how final a return is: `cancel_is_final` (a "cancelled" return ends the payment; a Stripe
session can still be paid, so it waits) and `unpaid_on_return_is_final` (the gateway has answered for good when
the browser comes back unpaid: the sandbox bank; elsewhere the reconciliation asks again).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext_lazy as _


class CallbackRejected(Exception):
    """The return or webhook is not to be trusted (bad signature, stale, malformed, unknown). Nothing is credited."""


class GatewayError(Exception):
    """The gateway refused or failed; `message` is for the payer (translatable), `code` for staff."""

    def __init__(self, message, code: str = ""):
        super().__init__(f"{code}: {message}")
        self.message, self.code = message, code


class GatewayUnavailable(GatewayError):
    """No answer we can rely on (timeout, 5xx, garbage): nothing is decided; the reconciliation asks again."""

    def __init__(self, code: str = "unavailable"):
        super().__init__(_("The payment gateway does not answer right now. Please try again in a few minutes."), code)


@dataclass(frozen=True)
class CallbackResult:
    status: str  # "paid" or "cancelled": what the return claims
    reference: str = ""  # ours, when the gateway sends it back
    token: str = ""  # the gateway's own id for the payment (Zarinpal's authority, Stripe's session)
    amount: Decimal | None = None  # when the gateway sends one back


@dataclass(frozen=True)
class Verification:
    """What the gateway itself says about a payment."""

    PAID = "paid"  # holds the money; verified now
    PAID_BEFORE = "paid_before"  # holds the money; verified earlier (Zarinpal's 101)
    UNPAID = "unpaid"  # not paid (yet, or ever)
    MISMATCH = "mismatch"  # paid, but not the amount we asked for

    state: str
    gateway_reference: str = ""  # the bank's tracking number (Zarinpal's ref_id, Stripe's payment intent)
    card_mask: str = ""
    evidence: dict = field(default_factory=dict)  # what the gateway answered, for the payment's history

    @property
    def paid(self) -> bool:
        return self.state in (self.PAID, self.PAID_BEFORE)


@dataclass(frozen=True)
class Unverified:
    """A payment the gateway holds that nobody verified yet (the payer never came back)."""

    token: str
    amount: Decimal
