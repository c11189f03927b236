"""Zarinpal and Stripe Checkout, each against a local server that speaks its protocol (escrow/tests/
gateway_servers.py): the real adapters make real HTTP requests; the return, the webhook and the reconciliation
credit a payment once; anything doubtful credits nothing and is told to staff."""

import json
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlparse

import httpx
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from escrow.checks import ledger_check
from escrow.gateways.stripe_checkout import to_minor
from escrow.ledger import wallet_of
from escrow.models import Account, Payment, PaymentIssue, Transaction
from escrow.reconciliation import payments_reconcile
from escrow.services import payment_settle, payment_start
from marketplace.currency import to_rial
from marketplace.testing import run_in_threads
from workspace.models import Milestone
from workspace.tests.factories import contract_in


def _wallet(user, currency="IRT"):
    return Account.objects.get(pk=wallet_of(user, currency).pk).balance


def _payer() -> tuple[object, Client]:
    user = UserFactory()
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return user, client


def _later(minutes: int):
    return timezone.now() + timedelta(minutes=minutes)


def _zarinpal_top_up(client, zarinpal, amount="500000") -> tuple[Payment, str]:
    """Start a top-up in toman; returns the payment and its authority (the browser is at StartPay)."""
    response = client.post(reverse("top_up"), {"amount": amount})
    assert response.status_code == 302 and response["Location"].startswith(zarinpal.startpay), response
    authority = response["Location"].rsplit("/", 1)[-1]
    return Payment.objects.get(gateway_token=authority), authority


def _back(client, url: str, **kwargs):
    """The browser follows the gateway's link back to our callback."""
    parts = urlparse(url)
    return client.get(f"{parts.path}?{parts.query}", **kwargs)


# --- Zarinpal -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_zarinpal_is_asked_in_rial_and_verified_with_our_amount(zarinpal):
    payer, client = _payer()
    payment, authority = _zarinpal_top_up(client, zarinpal, "۱۲۳٬۴۵۶")
    request = next(body for call, body in zarinpal.calls if call == "request.json")
    assert (request["amount"], request["currency"]) == (1_234_560, "IRR")  # 123,456 toman ×10
    assert request["metadata"]["order_id"] == payment.reference and request["callback_url"].endswith(
        "/payments/callback/zarinpal/"
    )
    zarinpal.answer(authority, "pay")
    response = _back(client, zarinpal.return_url(authority), follow=True)
    assert "Your payment is confirmed" in response.content.decode()
    verify = next(body for call, body in zarinpal.calls if call == "verify.json")
    assert verify == {"merchant_id": zarinpal.MERCHANT_ID, "amount": 1_234_560, "authority": authority}
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PAID and payment.card_mask == "502229******5995"
    assert payment.gateway_reference == str(zarinpal.payments[authority]["ref_id"])
    assert _wallet(payer) == Decimal(123_456)
    assert ledger_check().clean


def test_toman_and_rial_convert_exactly():
    assert to_rial(Decimal("123456"), "IRT") == 1_234_560
    assert to_rial(Decimal("1234560"), "IRR") == 1_234_560
    assert to_rial(Decimal("10.5"), "IRT") == 105  # half a toman is five rial
    with pytest.raises(ValueError):
        to_rial(Decimal("10.55"), "IRT")  # not a whole number of rial
    assert to_minor(Decimal("12.34"), "USD") == 1234
    with pytest.raises(ValueError):
        to_minor(Decimal("12.345"), "USD")


@pytest.mark.django_db
def test_a_payer_who_cancels_at_zarinpal_is_credited_nothing(zarinpal):
    payer, client = _payer()
    payment, authority = _zarinpal_top_up(client, zarinpal)
    zarinpal.answer(authority, "cancel")
    response = _back(client, zarinpal.return_url(authority), follow=True)
    assert "cancelled" in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELLED
    assert not [call for call, _body in zarinpal.calls if call == "verify.json"]  # NOK is not verified
    assert _wallet(payer) == 0


@pytest.mark.django_db
def test_a_payer_who_closes_the_tab_after_paying_is_credited_by_the_reconciliation(zarinpal):
    payer, client = _payer()
    payment, authority = _zarinpal_top_up(client, zarinpal)
    zarinpal.answer(authority, "pay")  # … and never comes back
    assert payments_reconcile().asked == 0  # not yet: a payer may still be on their way back
    report = payments_reconcile(now=_later(6))
    assert (report.credited, report.issues) == (1, 0), report
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PAID
    assert _wallet(payer) == 500_000
    again = payments_reconcile(now=_later(12))  # twice moves money once
    assert again.credited == 0
    assert Transaction.objects.filter(kind="deposit").count() == 1
    # The payer comes back after all: nothing more.
    response = _back(client, zarinpal.return_url(authority), follow=True)
    assert "confirmed" in response.content.decode()
    assert _wallet(payer) == 500_000
    assert ledger_check().clean


@pytest.mark.django_db
def test_verify_answering_101_credits_once(zarinpal):
    payer, client = _payer()
    payment, authority = _zarinpal_top_up(client, zarinpal)
    zarinpal.answer(authority, "pay")
    zarinpal.payments[authority]["verified"] = True  # verified before, elsewhere: Zarinpal answers 101
    _back(client, zarinpal.return_url(authority))
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PAID
    assert payment.events.filter(event="verified", data__state="paid_before").exists()
    assert _wallet(payer) == 500_000


@pytest.mark.django_db
@pytest.mark.parametrize("fault", ["timeout", "500", "garbage"])
def test_a_gateway_that_times_out_fails_or_talks_garbage_credits_nothing_until_it_answers(zarinpal, fault):
    payer, client = _payer()
    payment, authority = _zarinpal_top_up(client, zarinpal)
    zarinpal.answer(authority, "pay")
    zarinpal.faults = {"verify.json": fault, "unVerified.json": fault, "timeout_seconds": 1.5}
    response = _back(client, zarinpal.return_url(authority), follow=True)
    assert response.status_code == 200
    assert "still checking your payment" in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING and _wallet(payer) == 0
    assert payment.events.filter(event="verify_unavailable").exists()
    assert payments_reconcile(now=_later(6)).credited == 0  # still down
    zarinpal.faults = {}
    assert payments_reconcile(now=_later(12)).credited == 1
    assert _wallet(payer) == 500_000


@pytest.mark.django_db
def test_a_payment_of_another_amount_is_never_credited_and_staff_are_told(zarinpal):
    payer, client = _payer()
    payment, authority = _zarinpal_top_up(client, zarinpal)
    zarinpal.answer(authority, "pay", paid_amount=1_000)  # the gateway holds 100 toman, not 500,000
    response = _back(client, zarinpal.return_url(authority), follow=True)
    assert "nothing was added" in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED and _wallet(payer) == 0
    issue = PaymentIssue.objects.get()
    assert (issue.kind, issue.payment, issue.token) == (PaymentIssue.Kind.AMOUNT_MISMATCH, payment, authority)
    payments_reconcile(now=_later(10))
    assert PaymentIssue.objects.count() == 1 and _wallet(payer) == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["Authority=A000unknown&Status=OK", "Status=OK", "Authority=&Status=OK", "Authority=A0&Status=MAYBE"]
)
def test_a_return_for_an_unknown_or_malformed_authority_is_400(zarinpal, query):
    _, client = _payer()
    payment, authority = _zarinpal_top_up(client, zarinpal)
    zarinpal.answer(authority, "pay")  # the gateway holds money: a bad return must still credit nothing
    response = client.get(f"{reverse('payment_callback', args=['zarinpal'])}?{query}")
    assert response.status_code == 400
    assert not [call for call, _body in zarinpal.calls if call == "verify.json"]
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PENDING


@pytest.mark.django_db
def test_a_misconfigured_merchant_gets_a_clear_message_and_the_refusal_is_kept(zarinpal, settings):
    settings.ZARINPAL_MERCHANT_ID = "00000000-0000-0000-0000-000000000000"
    _, client = _payer()
    response = client.post(reverse("top_up"), {"amount": "500000"}, follow=True)
    assert "payment account needs attention" in response.content.decode()
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.FAILED
    assert payment.events.filter(event="start_refused", data__code="zarinpal -11").exists()


@pytest.mark.django_db
def test_a_gateway_down_when_starting_says_so(zarinpal):
    zarinpal.faults = {"request.json": "500"}
    _, client = _payer()
    response = client.post(reverse("top_up"), {"amount": "500000"}, follow=True)
    assert "does not answer right now" in response.content.decode()
    assert Payment.objects.get().status == Payment.Status.FAILED


@pytest.mark.django_db
def test_the_reconciliation_expires_what_was_never_paid_and_reports_what_it_does_not_know(zarinpal):
    _, client = _payer()
    payment, _authority = _zarinpal_top_up(client, zarinpal)
    assert payments_reconcile(now=_later(6)).expired == 0  # unpaid, but not for long
    assert payments_reconcile(now=_later(61)).expired == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.EXPIRED
    # Paid at Zarinpal by someone we have no payment for (another site's callback, a test payment…).
    stranger = zarinpal._request({"amount": 50_000, "callback_url": "https://elsewhere.example/", "description": "x"})
    authority = json.loads(stranger[2])["data"]["authority"]
    zarinpal.answer(authority, "pay")
    report = payments_reconcile(now=_later(70))
    assert report.issues == 1 and report.credited == 0
    assert PaymentIssue.objects.get().kind == PaymentIssue.Kind.UNKNOWN_HERE
    assert payments_reconcile(now=_later(80)).issues == 0  # reported once


@pytest.mark.django_db
def test_paid_at_the_last_moment_after_expiry_is_still_credited(zarinpal):
    payer, client = _payer()
    payment, authority = _zarinpal_top_up(client, zarinpal)
    payments_reconcile(now=_later(61))
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.EXPIRED
    zarinpal.answer(authority, "pay")
    assert payments_reconcile(now=_later(70)).credited == 1  # found in the unverified list
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PAID
    assert _wallet(payer) == 500_000


@pytest.mark.django_db
def test_a_closed_tab_while_funding_a_milestone_completes_the_funding(zarinpal, media_dirs):
    deal = contract_in("unpaid", wallet="0", amount="2000000")
    client = Client()
    client.force_login(deal.employer)
    response = client.post(
        reverse("workspace_fund", args=[deal.contract.pk]), {"milestone": deal.milestone.pk, "step": "upfront"}
    )
    assert response["Location"].startswith(zarinpal.startpay)
    authority = response["Location"].rsplit("/", 1)[-1]
    zarinpal.answer(authority, "pay")  # then the tab is closed
    assert payments_reconcile(now=_later(6)).credited == 1
    milestone = Milestone.objects.get(pk=deal.milestone.pk)
    assert milestone.funded == 1_000_000 and milestone.status == Milestone.Status.FUNDED
    assert _wallet(deal.employer) == 0
    assert ledger_check().clean


@pytest.mark.django_db(transaction=True)
def test_the_reconciliation_racing_a_late_return_credits_once(require_postgres, zarinpal):
    payer, client = _payer()
    _payment, authority = _zarinpal_top_up(client, zarinpal)
    zarinpal.answer(authority, "pay")
    url = zarinpal.return_url(authority)
    actions = iter([lambda: payments_reconcile(now=_later(6)), lambda: _back(Client(), url)] * 2)
    results = run_in_threads(4, lambda: next(actions)())
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Transaction.objects.filter(kind="deposit").count() == 1
    assert _wallet(payer) == 500_000
    assert ledger_check().clean


# --- Stripe Checkout ---------------------------------------------------------------------------------------


def _stripe_payment(stripe_server, amount="25.50") -> tuple[object, Payment, str]:
    user = UserFactory()
    payment, url = payment_start(user=user, amount=Decimal(amount), currency="USD", site_url="http://testserver")
    assert url.startswith(f"{stripe_server.base}/c/pay/cs_test_")
    return user, payment, payment.gateway_token


@pytest.mark.django_db
def test_stripe_checkout_is_created_in_cents_with_our_reference_and_the_return_credits(stripe_server):
    user, payment, session_id = _stripe_payment(stripe_server)
    session = stripe_server.sessions[session_id]
    assert (session["amount_total"], session["currency"]) == (2550, "usd")
    assert session["client_reference_id"] == payment.reference
    stripe_server.pay(session_id, send_webhook=False)
    response = Client().get(reverse("payment_callback", args=["stripe"]), {"session_id": session_id})
    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PAID and payment.gateway_reference.startswith("pi_")
    assert _wallet(user, "USD") == Decimal("25.50")
    assert ledger_check().clean


@pytest.mark.django_db
def test_the_signed_webhook_credits_once_and_forged_or_old_ones_are_refused(stripe_server):
    user, _payment, session_id = _stripe_payment(stripe_server)
    stripe_server.pay(session_id, send_webhook=False)
    url = reverse("payment_webhook", args=["stripe"])
    payload = stripe_server.event(session_id)
    client = Client()

    def post(body, signature):
        return client.post(url, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)

    assert post(payload, stripe_server.sign(payload, secret="whsec_wrong")).status_code == 400
    assert (
        post(payload, stripe_server.sign(payload, timestamp=int(timezone.now().timestamp()) - 301)).status_code == 400
    )
    assert post(payload, "t=1,v1=deadbeef").status_code == 400
    assert post(b"{not json", stripe_server.sign(b"{not json")).status_code == 400
    assert _wallet(user, "USD") == 0
    for _ in range(3):  # Stripe retries; a replay of a good one moves nothing more
        assert post(payload, stripe_server.sign(payload)).status_code == 200
    assert _wallet(user, "USD") == Decimal("25.50")
    assert Transaction.objects.filter(kind="deposit").count() == 1
    other = stripe_server.event(session_id, "checkout.session.expired")
    assert post(other, stripe_server.sign(other)).status_code == 200  # other events are acknowledged, ignored


@pytest.mark.django_db(transaction=True)
def test_the_webhook_and_the_browser_return_arriving_together_credit_once(require_postgres, stripe_server, live_server):
    user, _payment, session_id = _stripe_payment(stripe_server)
    stripe_server.webhook_url = f"{live_server.url}{reverse('payment_webhook', args=['stripe'])}"
    stripe_server.pay(session_id, send_webhook=False)
    back = f"{live_server.url}{reverse('payment_callback', args=['stripe'])}?session_id={session_id}"
    actions = iter([lambda: stripe_server.send_webhook(session_id), lambda: httpx.get(back).status_code] * 3)
    results = run_in_threads(6, lambda: next(actions)())
    assert all(result in (200, 302) for result in results), results
    assert Transaction.objects.filter(kind="deposit").count() == 1
    assert _wallet(user, "USD") == Decimal("25.50")
    assert ledger_check().clean


@pytest.mark.django_db
def test_a_stripe_session_paid_with_another_amount_is_flagged_not_credited(stripe_server):
    user, payment, session_id = _stripe_payment(stripe_server)
    stripe_server.pay(session_id, send_webhook=False, amount_total=100)
    payment_settle(payment=payment, source="callback")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED and _wallet(user, "USD") == 0
    assert PaymentIssue.objects.get().kind == PaymentIssue.Kind.AMOUNT_MISMATCH


@pytest.mark.django_db
def test_a_cancelled_stripe_checkout_waits_and_then_expires(stripe_server):
    user, payment, _session_id = _stripe_payment(stripe_server)
    response = Client().get(
        reverse("payment_callback", args=["stripe"]), {"reference": payment.reference, "cancelled": "1"}
    )
    assert response.status_code == 302
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PENDING  # the session may still be paid
    assert payments_reconcile(now=_later(61)).expired == 1
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.EXPIRED and _wallet(user, "USD") == 0


@pytest.mark.django_db
def test_stripe_down_on_verify_credits_nothing_until_it_answers(stripe_server):
    user, payment, session_id = _stripe_payment(stripe_server)
    stripe_server.pay(session_id, send_webhook=False)
    stripe_server.faults = {"retrieve": "500"}
    payment_settle(payment=payment, source="callback")
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PENDING
    stripe_server.faults = {"retrieve": "timeout", "timeout_seconds": 1.5}
    assert payments_reconcile(now=_later(6)).credited == 0
    stripe_server.faults = {}
    assert payments_reconcile(now=_later(12)).credited == 1
    assert _wallet(user, "USD") == Decimal("25.50")


# --- what staff see -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_see_the_payment_its_card_events_and_issues_and_resolve_an_issue(zarinpal):
    payer, client = _payer()
    payment, authority = _zarinpal_top_up(client, zarinpal)
    zarinpal.answer(authority, "pay", paid_amount=1_000)
    _back(client, zarinpal.return_url(authority))
    staff = UserFactory(is_staff=True)
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    admin = Client()
    admin.force_login(staff)
    admin.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = admin.get(reverse("admin:escrow_payment_change", args=[payment.pk])).content.decode()
    assert authority in page and "Needs staff" in page and "amount_mismatch" in page
    issue = PaymentIssue.objects.get()
    listing = admin.get(reverse("admin:escrow_paymentissue_changelist")).content.decode()
    assert "Paid at the gateway, but not the amount asked" in listing
    admin.post(
        reverse("admin:escrow_paymentissue_changelist"),
        {"action": "mark_resolved", "_selected_action": [issue.pk]},
    )
    issue.refresh_from_db()
    assert issue.resolved_by == staff and issue.resolved_at is not None
    assert _wallet(payer) == 0  # resolving moves no money


@pytest.mark.django_db
def test_reconcile_payments_command_prints_what_it_did(zarinpal, capsys, settings):
    from django.core.management import call_command

    _, client = _payer()
    _payment, authority = _zarinpal_top_up(client, zarinpal)
    zarinpal.answer(authority, "pay")
    call_command("reconcile_payments")
    assert "0 credited" in capsys.readouterr().out  # too early: the payer may still come back
    settings.PAYMENT_RECONCILE_AFTER = timedelta(0)
    call_command("reconcile_payments")
    assert "1 credited" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_pay_forms_may_be_redirected_to_the_configured_gateways_pages(client, zarinpal, stripe_server):
    policy = client.get(reverse("home"))["Content-Security-Policy"]
    form_action = next(part for part in policy.split("; ") if part.startswith("form-action"))
    assert zarinpal.base in form_action and stripe_server.base in form_action


@pytest.mark.django_db
def test_a_payment_credited_here_that_the_gateway_does_not_know_is_reported(zarinpal):
    payer, client = _payer()
    payment, authority = _zarinpal_top_up(client, zarinpal)
    zarinpal.answer(authority, "pay")
    _back(client, zarinpal.return_url(authority))
    # Credited before confirmations were recorded (an older payment), and Zarinpal no longer knows it.
    Payment.objects.filter(pk=payment.pk).update(confirmed_at=None)
    del zarinpal.payments[authority]
    report = payments_reconcile(now=_later(10))
    assert report.issues == 1 and report.confirmed == 0
    issue = PaymentIssue.objects.get()
    assert (issue.kind, issue.payment_id) == (PaymentIssue.Kind.UNKNOWN_THERE, payment.pk)
    assert _wallet(payer) == 500_000  # nothing is taken back by a report


@pytest.mark.django_db
def test_a_credited_payment_the_gateway_confirms_is_marked_confirmed_once(zarinpal):
    _, client = _payer()
    payment, authority = _zarinpal_top_up(client, zarinpal)
    zarinpal.answer(authority, "pay")
    _back(client, zarinpal.return_url(authority))
    Payment.objects.filter(pk=payment.pk).update(confirmed_at=None)
    assert payments_reconcile(now=_later(10)).confirmed == 1  # Zarinpal answers 101: verified before
    assert Payment.objects.get(pk=payment.pk).confirmed_at is not None
    assert payments_reconcile(now=_later(20)).confirmed == 0


@pytest.mark.django_db
def test_a_forged_cancel_cannot_cost_the_payer_their_money(zarinpal):
    """Someone who learns the authority sends the payer's return with Status=NOK; the payer then pays. The gateway
    lists the payment as paid, so the reconciliation credits it all the same."""
    payer, client = _payer()
    payment, authority = _zarinpal_top_up(client, zarinpal)
    forged = f"{reverse('payment_callback', args=['zarinpal'])}?Authority={authority}&Status=NOK"
    Client().get(forged)
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.CANCELLED
    zarinpal.answer(authority, "pay")
    assert payments_reconcile(now=_later(6)).credited == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PAID
    assert payment.events.filter(event="paid_after_cancelled").exists()
    assert _wallet(payer) == 500_000 and PaymentIssue.objects.count() == 0
