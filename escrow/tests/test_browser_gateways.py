"""Issue 14's walk in a real browser: an employer funds the guarantee through Zarinpal and closes the tab after
paying (the reconciliation credits it and completes the funding); a dollar client pays through Stripe Checkout
and the webhook credits once; staff make a payout batch and import the bank's result, and both freelancers see
the outcome. Against the local servers that speak the gateways' protocols."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile
from accounts.tests.factories import UserFactory
from escrow.checks import ledger_check
from escrow.ledger import post_deposit
from escrow.models import Payment, PayoutBatch, Transaction, Withdrawal
from escrow.reconciliation import payments_reconcile
from escrow.services import withdrawal_request
from marketplace.testing import page_as
from workspace.models import Milestone
from workspace.tests.factories import contract_in

pytestmark = pytest.mark.browser


def _fund(page, site, contract_pk):
    page.goto(f"{site}{reverse('workspace', args=[contract_pk])}")
    page.click("[data-testid=operations]")
    page.click("[data-testid=op-fund]")
    page.wait_for_load_state()


@pytest.mark.parametrize("language", ["fa", "en"])
def test_zarinpal_paid_then_the_tab_closed_is_credited_by_the_reconciliation(browser, site, zarinpal, language):
    deal = contract_in("unpaid", wallet="0", amount="2000000")
    employer = page_as(browser, site, deal.employer, language)
    _fund(employer, site, deal.contract.pk)
    employer.wait_for_url(re.compile(r"/pg/StartPay/"))
    assert employer.text_content("[data-testid=zp-amount]") == "10,000,000 IRR"  # 1,000,000 toman in rial
    employer.click("[data-testid=zp-pay]")
    employer.wait_for_selector("[data-testid=zp-receipt]")
    employer.context.close()  # the payer closes the tab on the gateway's page

    payment = Payment.objects.get()
    assert payment.status == Payment.Status.PENDING
    report = payments_reconcile(now=timezone.now() + timedelta(minutes=6))
    assert report.credited == 1, report
    milestone = Milestone.objects.get(pk=deal.milestone.pk)
    assert milestone.funded == 1_000_000 and milestone.status == Milestone.Status.FUNDED

    again = page_as(browser, site, deal.employer, language)
    again.goto(f"{site}{reverse('workspace', args=[deal.contract.pk])}")
    timeline = again.text_content("body")
    assert ("Paid into escrow" if language == "en" else "پرداخت امن شد") in timeline
    freelancer = page_as(browser, site, deal.freelancer, language)
    freelancer.goto(f"{site}{reverse('workspace', args=[deal.contract.pk])}")
    assert freelancer.locator("[data-testid=op-accept]").count() == 1  # the guarantee is in: they may accept
    assert ledger_check().clean


def test_a_dollar_client_pays_through_stripe_checkout_and_the_webhook_credits_once(browser, site, stripe_server):
    stripe_server.webhook_url = f"{site}{reverse('payment_webhook', args=['stripe'])}"
    deal = contract_in("unpaid", wallet="0", amount="300", currency="USD", title="Landing page in English")
    employer = page_as(browser, site, deal.employer, "en")
    _fund(employer, site, deal.contract.pk)
    employer.wait_for_url(re.compile(r"/c/pay/cs_test_"))
    assert employer.text_content("[data-testid=st-amount]") == "150.00 USD"
    employer.click("[data-testid=st-pay]")  # Stripe posts the webhook, then sends the browser back
    employer.wait_for_url(re.compile(r"/workspace/"))
    body = employer.text_content("body")  # the webhook may come first: then the return says it already was
    # The local Stripe posts its webhook before sending the browser back, as a quick Stripe does: the return
    # finds the payment credited already, and says so.
    assert "already confirmed and added to your balance" in body
    assert Transaction.objects.filter(kind="deposit").count() == 1
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.PAID and payment.gateway == "stripe"
    assert payment.events.filter(event="verified", data__source="webhook").exists()
    milestone = Milestone.objects.get(pk=deal.milestone.pk)
    assert milestone.funded == Decimal(150) and milestone.status == Milestone.Status.FUNDED
    assert ledger_check().clean


def _freelancer_waiting_for(amount: int, username: str, holder: str, sheba: str) -> Withdrawal:
    user = UserFactory(username=username)
    Profile.objects.filter(user=user).update(bank_sheba=sheba, bank_account_holder=holder)
    post_deposit(user=user, amount=Decimal(amount), currency="IRT", gateway="sandbox", key=f"earned:{username}")
    return withdrawal_request(user=user, amount=Decimal(amount))


@pytest.mark.parametrize("language", ["en", "fa"])
def test_staff_pay_out_a_batch_and_both_freelancers_see_the_outcome(browser, site, language):
    reza = _freelancer_waiting_for(1_200_000, f"reza_{language}", "رضا کریمی", "IR820540102680020817909002")
    mina = _freelancer_waiting_for(800_000, f"mina_{language}", "مینا رضایی", "IR062960000000100324200001")
    staff = UserFactory(is_staff=True)
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    admin = page_as(browser, site, staff, language)
    admin.goto(f"{site}{reverse('admin:escrow_withdrawal_changelist')}")
    for withdrawal in (reza, mina):
        admin.check(f"input[name=_selected_action][value='{withdrawal.pk}']")
    admin.select_option("select[name=action]", "make_payout_batch")
    admin.click("button[name=index]")
    admin.wait_for_url(re.compile(r"/admin/escrow/payoutbatch/\d+/change/"))
    batch = PayoutBatch.objects.get()
    with admin.expect_download() as download:
        admin.click("[data-testid=batch-file]")
    with open(download.value.path(), encoding="utf-8-sig") as handle:
        lines = list(csv.DictReader(handle))
    assert [(line["payment_id"], line["amount_rial"]) for line in lines] == [
        (f"HMK-W{reza.pk}", "12000000"), (f"HMK-W{mina.pk}", "8000000")
    ]  # fmt: skip

    result = io.StringIO()
    writer = csv.writer(result)
    writer.writerow(["payment_id", "amount_rial", "status", "tracking_number", "reason"])
    writer.writerow([f"HMK-W{reza.pk}", "12000000", "موفق", "140309150001", ""])
    writer.writerow([f"HMK-W{mina.pk}", "8000000", "برگشتی", "", "Closed account"])
    admin.set_input_files(
        "input[name=result_file]",
        files=[{"name": "result.csv", "mimeType": "text/csv", "buffer": result.getvalue().encode()}],
    )
    admin.click("[data-testid=import-result]")
    admin.wait_for_load_state()
    assert PayoutBatch.objects.get(pk=batch.pk).status == PayoutBatch.Status.SETTLED

    outcomes = {
        reza: ("140309150001", "Paid" if language == "en" else "پرداخت شده"),
        mina: ("Closed account", "Returned to the wallet" if language == "en" else "برگشت به کیف پول"),
    }
    for withdrawal, (shown, status) in outcomes.items():
        page = page_as(browser, site, withdrawal.user, language)
        page.goto(f"{site}{reverse('payment_settings')}")
        row = page.locator("[data-testid=withdrawal-row]").first.text_content()
        assert shown in row and status in row, row
    assert ledger_check().clean
