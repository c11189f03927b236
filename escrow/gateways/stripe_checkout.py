"""Stripe Checkout for USD and EUR, with the official `stripe` package (its base URL is a setting, so the tests
point it at a local server that speaks Stripe's API).

A Checkout Session carries the amount (in the currency's minor unit), our reference (`client_reference_id` and
`metadata[reference]`), and the success and cancel URLs; the browser goes to `session.url`. The payment is
verified by retrieving the session: `payment_status == "paid"` and `amount_total` equal to ours. Stripe also
sends the signed `checkout.session.completed` webhook (`Stripe-Signature`, the endpoint secret, 300 seconds of
tolerance), which settles through the same service as the browser's return, once.
"""

import logging
from decimal import Decimal

import stripe
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from escrow.gateways.base import CallbackRejected, CallbackResult, GatewayError, GatewayUnavailable, Verification
from marketplace.currency import minor_unit

logger = logging.getLogger(__name__)


def to_minor(amount: Decimal, currency: str) -> int:
    """Cents (or the currency's minor unit): what Stripe's `unit_amount` and `amount_total` count in."""
    scale = 10 ** minor_unit(currency)
    minor = amount * scale
    if minor != minor.to_integral_value():
        raise ValueError(f"{amount} {currency} has more decimals than the currency")
    return int(minor)


class StripeCheckoutGateway:
    name = "stripe"
    currencies = {"USD", "EUR"}
    cancel_is_final = False  # the session stays payable until it expires
    unpaid_on_return_is_final = False

    def _client(self) -> stripe.StripeClient:
        return stripe.StripeClient(
            settings.STRIPE_SECRET_KEY,
            base_addresses={"api": settings.STRIPE_API_BASE},
            max_network_retries=0,
            http_client=stripe.new_default_http_client(timeout=settings.PAYMENT_GATEWAY_TIMEOUT),
        )

    def start(self, payment, callback_url: str) -> str:
        try:
            session = self._client().v1.checkout.sessions.create(
                {
                    "mode": "payment",
                    "line_items": [
                        {
                            "quantity": 1,
                            "price_data": {
                                "currency": payment.currency.lower(),
                                "unit_amount": to_minor(payment.amount, payment.currency),
                                "product_data": {"name": f"Hamkar balance top-up {payment.reference[:8]}"},
                            },
                        }
                    ],
                    "client_reference_id": payment.reference,
                    "metadata": {"reference": payment.reference},
                    "customer_email": payment.user.email,
                    "success_url": f"{callback_url}?session_id={{CHECKOUT_SESSION_ID}}",
                    "cancel_url": f"{callback_url}?reference={payment.reference}&cancelled=1",
                }
            )
        except (stripe.APIConnectionError, stripe.APIError) as error:
            raise GatewayUnavailable(f"stripe {type(error).__name__}") from error
        except stripe.StripeError as error:
            logger.error("Stripe refused a Checkout Session: %s", error)
            raise GatewayError(_("The card payment could not be started. Please try again later."), "stripe") from error
        payment.gateway_token = session.id
        return session.url

    def parse_callback(self, params) -> CallbackResult:
        if params.get("cancelled") and params.get("reference"):
            return CallbackResult(status="cancelled", reference=str(params["reference"])[:64])
        session_id = params.get("session_id", "")
        if not session_id.startswith("cs_"):
            raise CallbackRejected("malformed callback")
        return CallbackResult(status="paid", token=session_id[:100])

    def verify(self, payment) -> Verification:
        try:
            session = self._client().v1.checkout.sessions.retrieve(payment.gateway_token)
        except stripe.InvalidRequestError as error:
            return Verification(Verification.UNPAID, evidence={"error": str(error)[:200]})
        except (stripe.APIConnectionError, stripe.APIError) as error:
            raise GatewayUnavailable(f"stripe {type(error).__name__}") from error
        except stripe.StripeError as error:
            raise GatewayUnavailable("stripe error") from error
        session = session.to_dict()
        amount_total = session.get("amount_total")
        evidence = {
            "session": session.get("id"),
            "payment_status": session.get("payment_status"),
            "amount_total": amount_total,
        }
        if session.get("payment_status") != "paid":
            return Verification(Verification.UNPAID, evidence=evidence)
        expected = to_minor(payment.amount, payment.currency)
        currency_ok = str(session.get("currency", "")).upper() == payment.currency
        if amount_total != expected or not currency_ok:
            return Verification(Verification.MISMATCH, evidence=evidence)
        return Verification(
            Verification.PAID, gateway_reference=str(session.get("payment_intent") or ""),
            evidence=evidence,
        )  # fmt: skip

    def parse_webhook(self, payload: bytes, signature: str) -> str | None:
        """The session id a signed `checkout.session.completed` event is about; None for other events. Raises
        CallbackRejected for a bad or old signature (Stripe's 300-second tolerance)."""
        try:
            event = stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=300)
        except (ValueError, stripe.SignatureVerificationError) as error:
            raise CallbackRejected(f"webhook: {type(error).__name__}") from error
        if event["type"] != "checkout.session.completed":
            return None
        return str(event["data"]["object"]["id"])
