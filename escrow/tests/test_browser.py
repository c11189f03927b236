import re

import pytest

from accounts.models import Profile
from accounts.tests.factories import UserFactory
from escrow.checks import ledger_check
from marketplace.testing import page_as

pytestmark = pytest.mark.browser

TEXT = {
    "en": {"balance": "500,000 toman", "after": "300,000 toman", "payout": "200,000 toman", "paid": "Paid"},
    "fa": {"balance": "۵۰۰٬۰۰۰ تومان", "after": "۳۰۰٬۰۰۰ تومان", "payout": "۲۰۰٬۰۰۰ تومان", "paid": "پرداخت شده"},
}


@pytest.mark.parametrize("language", ["en", "fa"])
def test_top_up_withdraw_and_staff_pays_it(page, site, login_as, browser, language):
    text = TEXT[language]
    user = UserFactory(username=f"payer_{language}")
    Profile.objects.filter(user=user).update(bank_sheba="IR820540102680020817909002", bank_account_holder="Payer")
    login_as(user, language)

    page.goto(site + "/settings/payments/")
    page.fill("#id_top_up_amount", "۵۰۰٬۰۰۰" if language == "fa" else "500,000")
    page.click("[data-testid=top-up]")
    page.wait_for_url(re.compile(r"/sandbox-bank/"))
    page.click("[data-testid=bank-pay]")
    page.wait_for_url(re.compile(r"/settings/payments/$"))
    assert page.inner_text("[data-testid=available-balance]") == text["balance"]
    assert page.locator("[data-testid=movement]").count() == 1

    page.fill("#id_withdraw_amount", "200000")
    page.click("[data-testid=withdraw]")
    page.wait_for_load_state()
    assert page.inner_text("[data-testid=available-balance]") == text["after"]
    assert page.inner_text("[data-testid=payout-balance]") == text["payout"]

    # Staff, in their own browser, pay it in the admin with the bank's reference.
    staff = UserFactory()
    staff.is_staff = staff.is_superuser = True
    staff.save()
    admin = page_as(browser, site, staff, language=None)
    admin_context = admin.context
    admin.goto(site + "/admin/escrow/withdrawal/")
    admin.click("#result_list tbody tr a")
    admin.fill("input[name=bank_reference]", "BANK-20261122-7788")
    admin.click("[data-testid=mark-paid]")
    admin.wait_for_url(re.compile(r"/admin/escrow/withdrawal/"))
    admin_context.close()

    page.reload()
    assert page.inner_text("[data-testid=withdrawal-status]") == text["paid"]
    assert "BANK-20261122-7788" in page.inner_text("[data-testid=withdrawal-row]")
    assert page.inner_text("[data-testid=payout-balance]") == ("0 toman" if language == "en" else "۰ تومان")
    assert ledger_check().clean
