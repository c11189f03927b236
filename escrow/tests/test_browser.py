import re
from decimal import Decimal

import pytest

from accounts.models import Profile
from accounts.tests.factories import UserFactory
from escrow.checks import ledger_check
from escrow.ledger import post_deposit
from escrow.services import withdrawal_request
from marketplace.testing import page_as
from workspace.tests.factories import contract_in

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


@pytest.mark.parametrize("language", ["en", "fa"])
def test_money_at_a_glance_fits_a_phone(browser, site, language):
    """The payment settings page with contracts in escrow both ways, a withdrawal and a history: at 390 px nothing
    scrolls sideways, the escrow rows stack, and each figure is in the page's digits."""
    user = UserFactory(username=f"glance_{language}")
    Profile.objects.filter(user=user).update(bank_sheba="IR820540102680020817909002", bank_account_holder="Payer")
    long_title = "فروشگاه اینترنتی فرش‌های دستباف با پرداخت امن و ارسال به سراسر کشور (Handmade rug shop)"
    deals = [
        contract_in("review", employer=user, title=long_title, amount="12500000"),
        contract_in("in_progress", employer=user, title="Booking app for a dental clinic in Shiraz"),
        contract_in("disputed", freelancer=user, title="Logo and brand book for a bakery"),
    ]
    post_deposit(user=user, amount=Decimal(3_000_000), currency="IRT", gateway="sandbox", key="glance:browser")
    withdrawal_request(user=user, amount=Decimal(1_250_000))

    page = page_as(browser, site, user, language)
    try:
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(site + "/settings/payments/")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        rows = page.locator("#paid-in [data-testid=escrow-contract]")
        assert rows.count() == 2
        rug_shop = page.locator(f"#paid-in [data-contract='{deals[0].contract.pk}']")
        # Stacked: the title on a line of its own above the other party and the amount.
        title, amount = rug_shop.locator(".title-cell"), rug_shop.locator("[data-testid=escrow-amount]")
        assert title.bounding_box()["y"] + title.bounding_box()["height"] <= amount.bounding_box()["y"] + 1
        assert amount.inner_text() == ("۱۲٬۵۰۰٬۰۰۰ تومان" if language == "fa" else "12,500,000 toman")
        held_for_me = page.locator("#held-for-me [data-testid=escrow-contract]")
        assert held_for_me.count() == 1
        assert held_for_me.get_attribute("data-contract") == str(deals[2].contract.pk)
    finally:
        page.context.close()
