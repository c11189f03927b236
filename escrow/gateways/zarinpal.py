"""Zarinpal, version 4 of its REST API (https://www.zarinpal.com/docs/paymentGateway/), spoken with httpx: the
protocol is four small JSON calls, and the Python clients on PyPI speak the retired SOAP/v1 API or wrap another
HTTP library without timeouts, so writing it is shorter than adapting one.

    POST {api}/request.json    {merchant_id, amount, currency, description, callback_url, metadata}
                               → data.code 100, data.authority; the browser goes to {startpay}<authority>
    callback                   ?Authority=<authority>&Status=OK|NOK
    POST {api}/verify.json     {merchant_id, amount, authority} → 100 verified now, 101 verified before
                               (with ref_id, card_pan); −50 amount differs; −51 not paid
    POST {api}/unVerified.json {merchant_id} → data.authorities: paid, never verified (the payer never came back)

We always ask in rial: a toman amount is sent ×10 (exact, toman has no minor unit). The amount sent to verify is
ours, from the database, so Zarinpal itself refuses a payment of any other amount.
"""

import logging
from decimal import Decimal

import httpx
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from escrow.gateways.base import (
    CallbackRejected,
    CallbackResult,
    GatewayError,
    GatewayUnavailable,
    Unverified,
    Verification,
)
from marketplace.currency import to_rial

logger = logging.getLogger(__name__)

# Zarinpal's error codes when starting a payment, and what the payer reads (verify's codes become states).
MERCHANT_PROBLEMS = {-10, -11, -12, -15, -16, -17}  # IP, merchant id, access, suspended, level, blocked
ERRORS = {
    -9: _("The payment gateway refused the payment's details. Please check the amount and try again."),
}
MERCHANT_MESSAGE = _("Payments are not available right now: the site's payment account needs attention. Try later.")


class ZarinpalGateway:
    name = "zarinpal"
    currencies = {"IRT", "IRR"}
    cancel_is_final = True  # an authority answered NOK is dead
    unpaid_on_return_is_final = False

    def __init__(self):
        self.merchant_id = settings.ZARINPAL_MERCHANT_ID
        self.api = settings.ZARINPAL_API_BASE.rstrip("/")
        self.startpay = settings.ZARINPAL_STARTPAY_URL

    def _call(self, method: str, body: dict) -> tuple[int, dict]:
        """POST one call; (code, data). Raises GatewayUnavailable when there is no answer to rely on."""
        try:
            response = httpx.post(
                f"{self.api}/{method}", json={"merchant_id": self.merchant_id, **body},
                headers={"Accept": "application/json"}, timeout=settings.PAYMENT_GATEWAY_TIMEOUT,
            )  # fmt: skip
        except httpx.TimeoutException as error:
            raise GatewayUnavailable("zarinpal timeout") from error
        except httpx.HTTPError as error:
            raise GatewayUnavailable(f"zarinpal {type(error).__name__}") from error
        if response.status_code >= 500:
            raise GatewayUnavailable(f"zarinpal http {response.status_code}")
        try:
            payload = response.json()
            data = payload.get("data") or {}
            errors = payload.get("errors") or {}
            code = int(data["code"]) if isinstance(data, dict) and "code" in data else int(errors["code"])
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise GatewayUnavailable("zarinpal garbage") from error
        return code, (data if isinstance(data, dict) else {}) | {"errors": errors}

    def start(self, payment, callback_url: str) -> str:
        code, data = self._call(
            "request.json",
            {
                "amount": to_rial(payment.amount, payment.currency),
                "currency": "IRR",
                "description": f"Hamkar {payment.reference[:8]}",
                "callback_url": callback_url,
                "metadata": {"order_id": payment.reference, "email": payment.user.email},
            },
        )
        if code != 100 or not data.get("authority"):
            if code in MERCHANT_PROBLEMS:
                logger.error("Zarinpal refuses our merchant account: code %s %s", code, data.get("errors"))
                raise GatewayError(MERCHANT_MESSAGE, f"zarinpal {code}")
            raise GatewayError(ERRORS.get(code, ERRORS[-9]), f"zarinpal {code}")
        payment.gateway_token = str(data["authority"])
        return f"{self.startpay}{payment.gateway_token}"

    def parse_callback(self, params) -> CallbackResult:
        authority, status = params.get("Authority", ""), params.get("Status", "")
        if not authority or status not in ("OK", "NOK"):
            raise CallbackRejected("malformed callback")
        return CallbackResult(status="paid" if status == "OK" else "cancelled", token=str(authority)[:100])

    def verify(self, payment) -> Verification:
        amount = to_rial(payment.amount, payment.currency)
        code, data = self._call("verify.json", {"amount": amount, "authority": payment.gateway_token})
        evidence = {"code": code, "ref_id": data.get("ref_id", ""), "card_pan": data.get("card_pan", "")}
        if code in (100, 101):
            return Verification(
                Verification.PAID if code == 100 else Verification.PAID_BEFORE,
                gateway_reference=str(data.get("ref_id", "")), card_mask=str(data.get("card_pan", ""))[:32],
                evidence=evidence,
            )  # fmt: skip
        if code == -50:
            return Verification(Verification.MISMATCH, evidence=evidence)
        if code in (-51, -54):
            return Verification(Verification.UNPAID, evidence=evidence)
        if code in MERCHANT_PROBLEMS:
            logger.error("Zarinpal refuses our merchant account on verify: code %s", code)
        raise GatewayUnavailable(f"zarinpal {code}")

    def unverified(self) -> list[Unverified]:
        code, data = self._call("unVerified.json", {})
        if code != 100:
            raise GatewayUnavailable(f"zarinpal {code}")
        try:
            return [Unverified(token=str(a["authority"]), amount=Decimal(a["amount"])) for a in data["authorities"]]
        except (KeyError, TypeError) as error:
            raise GatewayUnavailable("zarinpal garbage") from error
