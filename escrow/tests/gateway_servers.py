"""Local servers that speak the payment gateways' protocols, written from their public documentation, so the real
adapters (escrow.gateways.zarinpal, .stripe_checkout) make real HTTP requests in the tests and the browser walks.

- ZarinpalServer: REST API v4 (`request.json`, `verify.json`, `unVerified.json`) and the StartPay page, where a
  person (or a test) pays or cancels; the browser then returns with `Authority` and `Status=OK|NOK`.
- StripeServer: the Checkout Session API (`POST/GET /v1/checkout/sessions`), a hosted page that pays or cancels,
  and the signed `checkout.session.completed` webhook (`Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.body")`).

Faults for the tests: `server.faults[call] = "timeout" | "500" | "garbage"` answers that call badly until cleared.
"""

import hashlib
import hmac
import html
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import httpx

from marketplace.servers import free_port


class _Server:
    """A ThreadingHTTPServer on 127.0.0.1 in a daemon thread; subclasses answer `handle(method, path, body)`."""

    def __init__(self):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.faults: dict[str, str] = {}
        self.calls: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _answer(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, content = server.handle(method, self.path, body, self.headers)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def do_GET(self):
                self._answer("GET")

            def do_POST(self):
                self._answer("POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def fault(self, call: str):
        """The answer a fault makes of `call`, or None to answer normally."""
        kind = self.faults.get(call)
        if kind == "timeout":
            time.sleep(float(self.faults.get("timeout_seconds", 3)))
            return 504, {}, b""
        if kind == "500":
            return 500, {"Content-Type": "text/html"}, b"<h1>Internal Server Error</h1>"
        if kind == "garbage":
            return 200, {"Content-Type": "application/json"}, b'{"data": "not what you expect'
        return None


def _json(status: int, payload) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()


def _page(title: str, body: str) -> tuple[int, dict, bytes]:
    content = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body>{body}</body></html>"
    )
    return 200, {"Content-Type": "text/html; charset=utf-8"}, content.encode()


def _redirect(url: str) -> tuple[int, dict, bytes]:
    return 302, {"Location": url}, b""


class ZarinpalServer(_Server):
    MERCHANT_ID = "7e5b3c2a-9f41-4d1e-8a6b-2c0f9e7d5a31"

    def __init__(self):
        super().__init__()
        self.api_base = f"{self.base}/pg/v4/payment/"
        self.startpay = f"{self.base}/pg/StartPay/"
        self.payments: dict[str, dict] = {}  # authority → amount (rial), callback_url, status, verified, ref_id

    def handle(self, method, path, body, headers):
        url = urlparse(path)
        if url.path.startswith("/pg/v4/payment/") and method == "POST":
            call = url.path.rsplit("/", 1)[-1]
            try:
                data = json.loads(body or b"{}")
            except ValueError:
                return _json(400, {"data": [], "errors": {"code": -9, "message": "invalid json"}})
            with self.lock:
                self.calls.append((call, data))
            if bad := self.fault(call):
                return bad
            if data.get("merchant_id") != self.MERCHANT_ID:
                return _json(401, {"data": [], "errors": {"code": -11, "message": "Merchant id is not valid."}})
            return {"request.json": self._request, "verify.json": self._verify, "unVerified.json": self._unverified}[
                call
            ](data)
        if url.path.startswith("/pg/StartPay/"):
            authority = url.path.rsplit("/", 1)[-1]
            payment = self.payments.get(authority)
            if payment is None:
                return 404, {}, b"unknown authority"
            if method == "GET":
                return self._startpay_page(authority, payment)
            action = parse_qs(body.decode()).get("action", [""])[0]
            return self.answer(authority, action)
        return 404, {}, b""

    def _request(self, data):
        amount = data.get("amount")
        if not isinstance(amount, int) or amount < 1000 or data.get("currency") not in (None, "IRR", "IRT"):
            return _json(422, {"data": [], "errors": {"code": -9, "message": "The input params invalid."}})
        if not data.get("callback_url") or not data.get("description"):
            return _json(422, {"data": [], "errors": {"code": -9, "message": "The input params invalid."}})
        authority = "A" + "0" * 10 + secrets.token_hex(13)[:25]
        with self.lock:
            self.payments[authority] = {
                "amount": amount, "callback_url": data["callback_url"], "status": "new", "verified": False,
                "ref_id": 0, "metadata": data.get("metadata") or {},
            }  # fmt: skip
        return _json(
            200,
            {"data": {"code": 100, "message": "Success", "authority": authority, "fee_type": "Merchant", "fee": 0},
             "errors": []},
        )  # fmt: skip

    def _verify(self, data):
        with self.lock:
            payment = self.payments.get(str(data.get("authority")))
            if payment is None:
                return _json(404, {"data": [], "errors": {"code": -54, "message": "Invalid authority."}})
            if payment["status"] != "paid":
                return _json(422, {"data": [], "errors": {"code": -51, "message": "Session is not valid."}})
            if data.get("amount") != payment.get("paid_amount", payment["amount"]):
                return _json(422, {"data": [], "errors": {"code": -50, "message": "Amount is not same."}})
            code = 101 if payment["verified"] else 100
            payment["verified"] = True
            return _json(
                200,
                {"data": {"code": code, "message": "Verified" if code == 100 else "Verified before",
                          "card_hash": hashlib.sha256(b"card").hexdigest().upper(), "card_pan": "502229******5995",
                          "ref_id": payment["ref_id"], "fee_type": "Merchant", "fee": 0},
                 "errors": []},
            )  # fmt: skip

    def _unverified(self, data):
        with self.lock:
            rows = [
                {"authority": authority, "amount": p["amount"], "callback_url": p["callback_url"], "referer": "",
                 "date": "2026-11-30 10:00:00"}
                for authority, p in self.payments.items() if p["status"] == "paid" and not p["verified"]
            ]  # fmt: skip
        return _json(200, {"data": {"code": 100, "message": "Success", "authorities": rows}, "errors": []})

    def _startpay_page(self, authority, payment):
        rial = f"{payment['amount']:,}"
        if payment["status"] != "new":
            return _page("Zarinpal", f"<p data-testid='zp-done'>Payment {payment['status']}.</p>")
        form = (
            f"<form method='post' action='/pg/StartPay/{authority}'>"
            f"<p data-testid='zp-amount'>{rial} IRR</p>"
            "<button name='action' value='pay' data-testid='zp-pay'>Pay</button> "
            "<button name='action' value='cancel' data-testid='zp-cancel'>Cancel</button></form>"
        )
        return _page("Zarinpal", form)

    def answer(self, authority: str, action: str, *, paid_amount: int | None = None):
        """The payer pays or cancels on the gateway's page: the page shows the receipt with a link back to the
        merchant (the browser follows it, or the payer closes the tab). Returns the HTTP answer."""
        with self.lock:
            payment = self.payments[authority]
            if payment["status"] == "new":
                payment["status"] = "paid" if action == "pay" else "cancelled"
                if payment["status"] == "paid":
                    payment["ref_id"] = 20_000_000 + len(self.payments) * 7 + secrets.randbelow(1000)
                    if paid_amount is not None:
                        payment["paid_amount"] = paid_amount
            status = "OK" if payment["status"] == "paid" else "NOK"
            back = f"{payment['callback_url']}?{urlencode({'Authority': authority, 'Status': status})}"
        return _page(
            "Zarinpal",
            f"<p data-testid='zp-receipt'>{'Paid' if status == 'OK' else 'Cancelled'}.</p>"
            f"<a href='{html.escape(back)}' data-testid='zp-back'>Back to the merchant</a>",
        )

    def return_url(self, authority: str) -> str:
        payment = self.payments[authority]
        status = "OK" if payment["status"] == "paid" else "NOK"
        return f"{payment['callback_url']}?{urlencode({'Authority': authority, 'Status': status})}"


class StripeServer(_Server):
    SECRET_KEY = "sk_test_hamkar_local_0000000000"
    WEBHOOK_SECRET = "whsec_hamkar_local_0000000000000000"

    def __init__(self):
        super().__init__()
        self.sessions: dict[str, dict] = {}
        self.webhook_url = ""  # where a paid session's webhook goes (the tests' live server), if anywhere

    def handle(self, method, path, body, headers):
        url = urlparse(path)
        if url.path.startswith("/v1/"):
            call = f"{method} {url.path.rsplit('/', 1)[0] if url.path.count('/') > 3 else url.path}"
            with self.lock:
                self.calls.append((call, parse_qs(body.decode())))
            if bad := self.fault("retrieve" if method == "GET" else "create"):
                return bad
            if headers.get("Authorization") != f"Bearer {self.SECRET_KEY}":
                return _json(401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}})
            if method == "POST" and url.path == "/v1/checkout/sessions":
                return self._create(parse_qs(body.decode()))
            if method == "GET" and url.path.startswith("/v1/checkout/sessions/"):
                session = self.sessions.get(url.path.rsplit("/", 1)[-1])
                if session is None:
                    return _json(404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                                 "message": "No such checkout.session"}})  # fmt: skip
                return _json(200, session)
            return _json(404, {"error": {"type": "invalid_request_error", "message": "Unrecognized request URL"}})
        if url.path.startswith("/c/pay/"):
            session_id = url.path.rsplit("/", 1)[-1]
            session = self.sessions.get(session_id)
            if session is None:
                return 404, {}, b"unknown session"
            if method == "GET":
                total = f"{session['amount_total'] / 100:.2f} {session['currency'].upper()}"
                return _page(
                    "Stripe Checkout",
                    f"<form method='post' action='/c/pay/{session_id}'><p data-testid='st-amount'>{total}</p>"
                    "<button name='action' value='pay' data-testid='st-pay'>Pay</button> "
                    "<button name='action' value='cancel' data-testid='st-cancel'>Cancel</button></form>",
                )
            action = parse_qs(body.decode()).get("action", [""])[0]
            if action == "pay":
                self.pay(session_id)
                return _redirect(session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id))
            return _redirect(session["cancel_url"])
        return 404, {}, b""

    def _create(self, form):
        def one(key, default=""):
            return form.get(key, [default])[0]

        try:
            unit_amount = int(one("line_items[0][price_data][unit_amount]"))
            quantity = int(one("line_items[0][quantity]", "1"))
        except ValueError:
            return _json(400, {"error": {"type": "invalid_request_error", "message": "Invalid integer"}})
        if one("mode") != "payment" or not one("success_url") or not one("cancel_url"):
            return _json(400, {"error": {"type": "invalid_request_error", "message": "Missing required param"}})
        session_id = "cs_test_" + secrets.token_hex(16)
        session = {
            "id": session_id, "object": "checkout.session", "url": f"{self.base}/c/pay/{session_id}",
            "mode": "payment", "status": "open", "payment_status": "unpaid",
            "amount_total": unit_amount * quantity, "currency": one("line_items[0][price_data][currency]"),
            "client_reference_id": one("client_reference_id"), "metadata": {"reference": one("metadata[reference]")},
            "customer_email": one("customer_email"), "payment_intent": None,
            "success_url": one("success_url"), "cancel_url": one("cancel_url"), "created": int(time.time()),
        }  # fmt: skip
        with self.lock:
            self.sessions[session_id] = session
        return _json(200, session)

    def pay(self, session_id: str, *, send_webhook: bool = True, amount_total: int | None = None) -> None:
        """The payer pays on the hosted page; Stripe then posts the signed webhook (when there is an endpoint)."""
        with self.lock:
            session = self.sessions[session_id]
            session.update(status="complete", payment_status="paid", payment_intent="pi_" + secrets.token_hex(12))
            if amount_total is not None:
                session["amount_total"] = amount_total
        if send_webhook and self.webhook_url:
            self.send_webhook(session_id)

    def event(self, session_id: str, event_type: str = "checkout.session.completed") -> bytes:
        return json.dumps(
            {"id": "evt_" + secrets.token_hex(12), "object": "event", "type": event_type, "api_version": "2025-01-01",
             "created": int(time.time()), "data": {"object": self.sessions[session_id]}}
        ).encode()  # fmt: skip

    def sign(self, payload: bytes, timestamp: int | None = None, secret: str | None = None) -> str:
        timestamp = int(time.time()) if timestamp is None else timestamp
        signed = f"{timestamp}.".encode() + payload
        digest = hmac.new((secret or self.WEBHOOK_SECRET).encode(), signed, hashlib.sha256).hexdigest()
        return f"t={timestamp},v1={digest}"

    def send_webhook(self, session_id: str) -> int:
        payload = self.event(session_id)
        headers = {"Content-Type": "application/json", "Stripe-Signature": self.sign(payload)}
        return httpx.post(self.webhook_url, content=payload, headers=headers, timeout=10).status_code
