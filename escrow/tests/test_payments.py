import threading
import time
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import Profile
from accounts.tests.factories import UserFactory
from escrow.checks import ledger_check
from escrow.gateways import SandboxGateway
from escrow.ledger import post_deposit, wallet_of
from escrow.models import Account, Payment, SandboxBankTransaction, Transaction, Withdrawal


def _wallet(user):
    return Account.objects.get(pk=wallet_of(user).pk).balance


def _start_top_up(client, amount="500000"):
    response = client.post(reverse("top_up"), {"amount": amount})
    assert response.status_code == 302
    return response["Location"]


def _pay_at_the_bank(client, bank_url, action="pay"):
    response = client.post(bank_url, {"action": action, "card_number": "6037997599999993"})
    assert response.status_code == 302
    return response["Location"]  # the signed callback URL


@pytest.fixture
def payer(client):
    user = UserFactory()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return user


@pytest.mark.django_db
def test_top_up_through_the_sandbox_bank_credits_the_wallet_once(client, payer):
    bank_url = _start_top_up(client, "۵۰۰٬۰۰۰")
    assert bank_url.startswith("/sandbox-bank/")
    assert "500,000 toman" in client.get(bank_url).content.decode()
    callback = _pay_at_the_bank(client, bank_url)
    response = client.get(callback, follow=True)
    assert "Your payment is confirmed" in response.content.decode()
    assert _wallet(payer) == 500000
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.PAID
    assert [e.event for e in payment.events.all()] == ["created", "sent_to_gateway", "verified", "credited"]
    for _ in range(20):  # replayed
        assert client.get(callback).status_code == 302
    assert _wallet(payer) == 500000
    assert Transaction.objects.filter(kind="deposit").count() == 1
    assert ledger_check().clean


@pytest.mark.django_db
def test_a_cancelled_payment_credits_nothing(client, payer):
    callback = _pay_at_the_bank(client, _start_top_up(client), action="cancel")
    response = client.get(callback, follow=True)
    assert "cancelled" in response.content.decode()
    assert Payment.objects.get().status == Payment.Status.CANCELLED
    assert _wallet(payer) == 0


def _tampered(callback_url, **changes):
    parts = urlparse(callback_url)
    params = {key: values[0] for key, values in parse_qs(parts.query).items()}
    params.update(changes)
    return parts.path, params


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes",
    [
        {"sig": "0" * 64},  # forged signature
        {"amount": "5000000.00"},  # a larger amount, with the old signature
        {"status": "paid", "ts": "1"},  # an old time, with the old signature
        {"reference": "no-such-reference"},
        {"sig": ""},
    ],
)
def test_forged_stale_or_unknown_callbacks_are_400_and_credit_nothing(client, payer, changes):
    callback = _pay_at_the_bank(client, _start_top_up(client))
    path, params = _tampered(callback, **changes)
    assert client.get(path, params).status_code == 400
    assert _wallet(payer) == 0
    assert not Transaction.objects.exists()


@pytest.mark.django_db
def test_a_correctly_signed_but_stale_callback_is_refused(client, payer):
    """A genuine callback replayed later (signed for its own old time) is refused by its age alone."""
    callback = _pay_at_the_bank(client, _start_top_up(client))
    path, params = _tampered(callback)
    stale = int(params["ts"]) - 2 * 3600
    signature = SandboxGateway.sign(
        reference=params["reference"], amount=Decimal(params["amount"]), status=params["status"], timestamp=stale
    )
    assert client.get(path, {**params, "ts": stale, "sig": signature}).status_code == 400
    assert client.get(path, params).status_code == 302  # the same callback, fresh, is taken
    assert _wallet(payer) == 500_000


@pytest.mark.django_db
def test_a_correctly_signed_callback_with_a_different_amount_is_refused(client, payer):
    """Even signed (e.g. a leaked secret), an amount that differs from our record is refused: the amount
    credited always comes from our database."""
    _pay_at_the_bank(client, _start_top_up(client, "500000"))
    payment = Payment.objects.get()
    query = SandboxGateway().callback_query(reference=payment.reference, amount=Decimal("9000000"), status="paid")
    assert client.get(f"{reverse('payment_callback', args=['sandbox'])}?{query}").status_code == 400
    assert _wallet(payer) == 0
    assert payment.events.filter(event="callback_rejected").exists()


@pytest.mark.django_db
def test_a_callback_the_bank_does_not_confirm_credits_nothing(client, payer):
    _start_top_up(client)
    payment = Payment.objects.get()
    # A signed "paid" callback, but the bank's own books say it was never paid.
    query = SandboxGateway().callback_query(reference=payment.reference, amount=payment.amount, status="paid")
    client.get(f"{reverse('payment_callback', args=['sandbox'])}?{query}")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    assert _wallet(payer) == 0


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["0", "-5", "abc", "5000", "900000000"])
def test_bad_top_up_amounts_are_refused(client, payer, amount):
    response = client.post(reverse("top_up"), {"amount": amount}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("payment_settings")
    assert not Payment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_callback_replayed_twenty_times_some_at_once_credits_once(require_postgres):
    user = UserFactory()
    client = Client()
    client.force_login(user)
    callback = _pay_at_the_bank(client, _start_top_up(client))

    def hit():
        try:
            Client().get(callback)
        finally:
            connection.close()

    threads = [threading.Thread(target=hit) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for _ in range(10):
        Client().get(callback)
    assert _wallet(user) == 500000
    assert Transaction.objects.filter(kind="deposit").count() == 1
    assert ledger_check().clean


@pytest.mark.django_db
def test_the_sandbox_bank_is_switched_off_in_production_settings(client, payer, settings):
    bank_url = _start_top_up(client)
    settings.SANDBOX_GATEWAY_ENABLED = False
    assert client.get(bank_url).status_code == 404
    assert client.post(reverse("top_up"), {"amount": "500000"}).status_code == 302
    assert Payment.objects.count() == 1


@pytest.mark.django_db
def test_the_bank_only_calls_back_to_our_own_site(client, payer):
    bank_url = _start_top_up(client)
    evil = bank_url.split("?")[0] + "?callback=https://evil.example/steal"
    assert client.get(evil).status_code == 404
    assert SandboxBankTransaction.objects.get().status == "pending"


# --- withdrawals -------------------------------------------------------------------------------------------


def _funded(user, amount="1000000"):
    post_deposit(user=user, amount=Decimal(amount), currency="IRT", gateway="sandbox", key=f"seed:{user.pk}")


@pytest.mark.django_db
def test_a_withdrawal_needs_bank_details_a_minimum_and_the_money(client, payer):
    _funded(payer)
    response = client.post(reverse("withdraw"), {"amount": "200000"}, follow=True)
    assert "Save your bank details" in response.content.decode()
    Profile.objects.filter(user=payer).update(bank_sheba="IR820540102680020817909002", bank_account_holder="Payer")
    assert "smallest withdrawal" in client.post(reverse("withdraw"), {"amount": "50000"}, follow=True).content.decode()
    assert (
        "more than your available"
        in client.post(reverse("withdraw"), {"amount": "2000000"}, follow=True).content.decode()
    )
    assert not Withdrawal.objects.exists()

    client.post(reverse("withdraw"), {"amount": "۲۰۰٬۰۰۰"})
    withdrawal = Withdrawal.objects.get()
    assert (withdrawal.amount, withdrawal.sheba) == (200000, "IR820540102680020817909002")
    html = client.get(reverse("payment_settings")).content.decode()
    assert "800,000 toman" in html and "200,000 toman" in html


@pytest.mark.django_db
def test_staff_mark_a_withdrawal_paid_in_the_admin_once_and_the_user_is_told(
    client, payer, django_capture_on_commit_callbacks
):
    from django.core import mail

    _funded(payer)
    Profile.objects.filter(user=payer).update(bank_sheba="IR820540102680020817909002", bank_account_holder="Payer")
    client.post(reverse("withdraw"), {"amount": "300000"})
    withdrawal = Withdrawal.objects.get()
    staff = UserFactory()
    staff.is_staff = staff.is_superuser = True
    staff.save()
    admin = Client()
    admin.force_login(staff)
    url = reverse("admin:escrow_withdrawal_change", args=[withdrawal.pk])
    assert admin.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(url, {"bank_reference": "BANK-7788", "staff_note": "", "_mark_paid": "1"})
        admin.post(url, {"bank_reference": "BANK-9999", "staff_note": "", "_mark_paid": "1"})  # again: no effect
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.PAID and withdrawal.bank_reference == "BANK-7788"
    assert Transaction.objects.filter(kind="withdrawal_paid").count() == 1
    assert Account.objects.get(key=f"payout:{payer.pk}").balance == 0
    assert any("BANK-7788" in m.body for m in mail.outbox)
    assert "BANK-7788" in client.get(reverse("payment_settings")).content.decode()
    assert ledger_check().clean


@pytest.mark.django_db
def test_a_rejected_withdrawal_goes_back_to_the_wallet(client, payer):
    from escrow.services import withdrawal_reject

    _funded(payer)
    Profile.objects.filter(user=payer).update(bank_sheba="IR820540102680020817909002", bank_account_holder="Payer")
    client.post(reverse("withdraw"), {"amount": "300000"})
    staff = UserFactory()
    staff.is_staff = True
    withdrawal_reject(withdrawal=Withdrawal.objects.get(), by=staff, note="The Sheba belongs to someone else.")
    assert _wallet(payer) == 1000000
    assert "someone else" in client.get(reverse("payment_settings")).content.decode()


@pytest.mark.django_db
def test_only_staff_process_withdrawals_and_the_ledger_is_read_only_in_the_admin(client, payer):
    from escrow.services import withdrawal_mark_paid
    from marketplace.errors import NotAllowed

    _funded(payer)
    Profile.objects.filter(user=payer).update(bank_sheba="IR820540102680020817909002", bank_account_holder="Payer")
    client.post(reverse("withdraw"), {"amount": "300000"})
    with pytest.raises(NotAllowed):
        withdrawal_mark_paid(withdrawal=Withdrawal.objects.get(), by=payer, bank_reference="X")
    staff = UserFactory()
    staff.is_staff = staff.is_superuser = True
    staff.save()
    admin = Client()
    admin.force_login(staff)
    entry_transaction = Transaction.objects.first()
    assert admin.get(reverse("admin:escrow_transaction_change", args=[entry_transaction.pk])).status_code == 200
    assert (
        admin.post(reverse("admin:escrow_transaction_delete", args=[entry_transaction.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert admin.get(reverse("admin:escrow_account_add")).status_code == 403


@pytest.mark.django_db
def test_payment_settings_needs_login_and_runs_bounded_queries(client, django_assert_max_num_queries):
    assert client.get(reverse("payment_settings")).status_code == 302
    user = UserFactory()
    for n in range(60):
        post_deposit(user=user, amount=Decimal(1000), currency="IRT", gateway="sandbox", key=f"many:{n}")
    client.force_login(user)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("payment_settings")).status_code == 200


def test_signature_is_an_hmac_over_reference_amount_status_and_time():
    one = SandboxGateway.sign(reference="r", amount=Decimal("10.00"), status="paid", timestamp=int(time.time()))
    assert len(one) == 64
    assert one != SandboxGateway.sign(reference="r", amount=Decimal("10.01"), status="paid", timestamp=int(time.time()))


@pytest.mark.django_db
def test_two_paid_shortfalls_for_the_same_step_fund_it_once_and_the_second_stays_in_the_wallet(client, payer):
    """Issue 13's defect: two gateway payments started for one step (two tabs) both funded, the second one
    paying the next step before the freelancer had answered."""
    from projects.tests.factories import make_project
    from proposals.tests.factories import make_proposal
    from workspace.models import Milestone

    project = make_project(owner=payer, title="Two tabs")
    proposal = make_proposal(project=project, amount="1000000")
    select = reverse("proposal_select", args=[proposal.pk])
    first_bank = client.post(select)["Location"]  # the wallet is empty: the bank, for the upfront 500,000
    contract_pk = Milestone.objects.get(contract__proposal=proposal).contract_id
    second_bank = client.post(reverse("workspace_fund", args=[contract_pk]), {"step": "upfront"})["Location"]
    assert first_bank.startswith("/sandbox-bank/") and second_bank.startswith("/sandbox-bank/")
    for bank in (first_bank, second_bank):
        client.get(_pay_at_the_bank(client, bank))

    milestone = Milestone.objects.get(contract_id=contract_pk)
    assert milestone.funded == 500000
    assert Transaction.objects.filter(kind="fund").count() == 1
    assert _wallet(payer) == 500000  # the second payment, credited and kept
    second = Payment.objects.order_by("pk").last()
    assert [e.event for e in second.events.all()][-1] == "funding_not_completed"
    assert ledger_check().clean
