"""Payment gateways (base.py says what each answers): the sandbox, Zarinpal for toman and rial, Stripe Checkout
for dollars and euros. Which one takes a payment is chosen by its currency: PAYMENT_GATEWAYS maps a currency to
a gateway, PAYMENT_GATEWAY is the one for every other currency."""

from django.conf import settings

from escrow.gateways.base import (
    CallbackRejected,
    CallbackResult,
    GatewayError,
    GatewayUnavailable,
    Unverified,
    Verification,
)
from escrow.gateways.sandbox import SandboxGateway
from escrow.gateways.stripe_checkout import StripeCheckoutGateway
from escrow.gateways.zarinpal import ZarinpalGateway

GATEWAYS = {gateway.name: gateway for gateway in (SandboxGateway, ZarinpalGateway, StripeCheckoutGateway)}

__all__ = [
    "GATEWAYS",
    "CallbackRejected",
    "CallbackResult",
    "GatewayError",
    "GatewayUnavailable",
    "SandboxGateway",
    "StripeCheckoutGateway",
    "Unverified",
    "Verification",
    "ZarinpalGateway",
    "gateway_for",
    "get_gateway",
]


def get_gateway(name: str):
    if name == "sandbox" and not settings.SANDBOX_GATEWAY_ENABLED:
        raise LookupError("the sandbox gateway is switched off (SANDBOX_GATEWAY_ENABLED)")
    if name not in GATEWAYS:
        raise LookupError(f"no payment gateway called {name!r}")
    return GATEWAYS[name]()


def gateway_for(currency: str):
    """The gateway that takes payments in `currency`."""
    gateway = get_gateway(settings.PAYMENT_GATEWAYS.get(currency, settings.PAYMENT_GATEWAY))
    if gateway.currencies is not None and currency not in gateway.currencies:
        raise LookupError(f"the {gateway.name} gateway does not take {currency}")
    return gateway
