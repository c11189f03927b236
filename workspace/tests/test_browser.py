"""Seed 000, end to end, in two browsers: post → bid → chat → choose and pay 50% → accept → deliver a zip →
Done → the file list but no download → pay the rest → download the same bytes → approve → paid less
commission → withdrawal request and payout → both review, blind until both → the profiles' averages → the
freelancer's notification centre and e-mails for each step."""

import hashlib
import re
from pathlib import Path

import pytest

from accounts.models import Profile
from accounts.tests.factories import UserFactory
from escrow.checks import ledger_check
from escrow.models import Withdrawal
from escrow.services import withdrawal_mark_paid
from marketplace.l10n import to_persian_digits
from marketplace.testing import page_as
from notifications.models import OutgoingEmail
from workspace.tests.factories import zip_file

pytestmark = pytest.mark.browser

TEXT = {
    "en": {"category": "Web Development", "net": "900,000 toman", "budget_min": "800,000", "budget_max": "1,200,000",
           "four": "4.0", "five": "5.0", "released": "Payment released: Rug shop website",
           "released_text": "The payment for “Rug shop website” is released: 900,000 toman is in your wallet."},
    "fa": {"category": "برنامه‌نویسی وب", "net": "۹۰۰٬۰۰۰ تومان", "budget_min": "۸۰۰٬۰۰۰", "budget_max": "۱٬۲۰۰٬۰۰۰",
           "four": "۴٫۰", "five": "۵٫۰", "released": "مبلغ آزاد شد: Rug shop website",
           "released_text": "مبلغ «Rug shop website» آزاد شد: ۹۰۰٬۰۰۰ تومان در کیف پول شماست."},
}  # fmt: skip
# What the freelancer is told across the story, newest first.
FREELANCER_KINDS = [
    "review_published", "withdrawal_paid", "released", "remainder_paid", "upfront_paid", "proposal_selected"
]  # fmt: skip


def _browser_for(browser, site, user, language):
    return page_as(browser, site, user, language, accept_downloads=True)


def _digits(number: int, language: str) -> str:
    return to_persian_digits(str(number)) if language == "fa" else str(number)


def _staff():
    staff = UserFactory()
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    return staff


def _operation(page, testid):
    page.click("[data-testid=operations]")
    page.click(f"[data-testid={testid}]")
    page.wait_for_load_state()


@pytest.mark.parametrize("language", ["en", "fa"])
def test_single_delivery_story(browser, site, language):
    text = TEXT[language]
    employer = UserFactory(username=f"emp_{language}")
    freelancer = UserFactory(username=f"free_{language}")
    freelancer.language = language  # the e-mails follow the account's language
    freelancer.save(update_fields=["language"])
    Profile.objects.filter(user=freelancer).update(bank_sheba="IR820540102680020817909002", bank_account_holder="Free")
    boss = _browser_for(browser, site, employer, language)
    dev = _browser_for(browser, site, freelancer, language)

    # The employer posts the project.
    boss.goto(site + "/projects/new/")
    boss.fill("input[name=title]", "Rug shop website")
    boss.fill("textarea[name=description]", "An online shop for handmade rugs, with a basket and payment.")
    boss.select_option("select[name=category]", label=text["category"])
    boss.click(".skill-groups details:has(input[data-skill='django']) summary")
    boss.check("input[data-skill='django']")
    boss.fill("input[name=budget_min]", text["budget_min"])
    boss.fill("input[name=budget_max]", text["budget_max"])
    boss.fill("input[name=duration_days]", "20")
    boss.click("[data-testid=publish]")
    boss.wait_for_url(re.compile(r"/projects/\d+/$"))
    project_url = boss.url

    # The freelancer bids and writes in the chat.
    dev.goto(project_url)
    dev.fill("[data-testid=proposal-form] input[name=amount]", "1000000")
    dev.fill("[data-testid=proposal-form] input[name=delivery_days]", "15")
    dev.fill("[data-testid=proposal-form] textarea[name=cover_letter]", "I can build this shop in two weeks.")
    dev.click("[data-testid=proposal-submit]")
    dev.wait_for_url(re.compile(r"#proposal$"))
    dev.click("[data-testid=chat-with-employer]")
    dev.fill("textarea[name=body]", "Hello! Any design you like?")
    dev.click("[data-testid=send-message]")
    dev.locator(".message.mine").wait_for(timeout=5000)

    # The employer chooses the proposal and pays half through the sandbox bank (the wallet is empty).
    boss.goto(project_url + "proposals/")
    boss.click(f"[data-testid=select-{freelancer.username}]")
    boss.wait_for_url(re.compile(r"/sandbox-bank/"))
    bank_amount = boss.inner_text("[data-testid=bank-amount]").translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    assert re.sub(r"[^0-9]", "", bank_amount) == "500000"  # half of the 1,000,000 proposal
    boss.click("[data-testid=bank-pay]")
    boss.wait_for_url(re.compile(r"/workspace/\d+/$"))
    workspace_url = boss.url
    assert boss.inner_text("[data-testid=in-escrow]") in ("500,000", "۵۰۰٬۰۰۰")

    # The freelancer accepts, uploads a zip and marks it done.
    dev.goto(workspace_url)
    _operation(dev, "op-accept")
    payload = zip_file(
        files={"shop/index.html": "<h1>Rug shop</h1>", "shop/README.txt": "Run with python -m http.server"}
    ).read()
    dev.set_input_files(
        "input[name=file]", files=[{"name": "rug-shop.zip", "mimeType": "application/zip", "buffer": payload}]
    )
    dev.click("[data-testid=upload]")
    dev.locator("[data-testid=deliverable]").wait_for(timeout=10000)
    _operation(dev, "op-done")
    assert dev.get_attribute("[data-testid=milestone-status]", "class").endswith("status-delivered")

    # The employer sees the file list and the hash, but cannot download before paying the rest.
    boss.goto(workspace_url)
    deliverable = boss.locator("[data-testid=deliverable]")
    deliverable.locator("summary").click()
    assert "shop/index.html" in deliverable.inner_text()
    assert hashlib.sha256(payload).hexdigest() in deliverable.inner_text()
    assert boss.locator("[data-testid=download]").count() == 0
    assert boss.locator("[data-testid=download-locked]").is_visible()

    # Pays the rest (the bank again), downloads the same bytes, approves.
    _operation(boss, "op-fund")
    boss.wait_for_url(re.compile(r"/sandbox-bank/"))
    boss.click("[data-testid=bank-pay]")
    boss.wait_for_url(re.compile(r"/workspace/\d+/$"))
    assert boss.locator("[data-testid=review-clock]").is_visible()
    with boss.expect_download() as download_info:
        boss.click("[data-testid=download]")
    assert Path(download_info.value.path()).read_bytes() == payload
    _operation(boss, "op-approve")
    assert boss.get_attribute("[data-testid=milestone-status]", "class").endswith("status-completed")

    # The freelancer is paid less commission and asks for a withdrawal.
    dev.goto(site + "/settings/payments/")
    assert dev.inner_text("[data-testid=available-balance]") == text["net"]
    dev.fill("#id_withdraw_amount", "900000")
    dev.click("[data-testid=withdraw]")
    dev.wait_for_load_state()
    assert dev.locator("[data-testid=withdrawal-row]").count() == 1
    assert ledger_check().clean
    withdrawal_mark_paid(withdrawal=Withdrawal.objects.get(user=freelancer), by=_staff(), bank_reference="BR-1")

    # Both review. The freelancer writes first; the employer cannot read it until they have written too.
    dev.goto(workspace_url)
    dev.check("[data-testid=review-form] input[name=rating][value='5']")
    dev.check("[data-testid=review-form] input[name=payment][value='5']")
    dev.fill("[data-testid=review-form] textarea[name=comment]", "Clear brief, paid on the spot.")
    dev.click("[data-testid=review-submit]")
    dev.locator("[data-testid=review-pending]").wait_for()
    boss.goto(workspace_url)
    assert "Clear brief, paid on the spot." not in boss.content()
    boss.check("[data-testid=review-form] input[name=rating][value='4']")
    boss.check("[data-testid=review-form] input[name=quality][value='5']")
    boss.fill("[data-testid=review-form] textarea[name=comment]", "Good shop, one day late.")
    boss.click("[data-testid=review-submit]")
    boss.wait_for_load_state()
    assert boss.locator("[data-testid=reviews] [data-testid=review]").count() == 2
    assert "Clear brief, paid on the spot." in boss.inner_text("[data-testid=reviews]")

    # Both appear on the profiles, with the averages.
    boss.goto(f"{site}/u/{freelancer.username}/")
    assert text["four"] in boss.inner_text("[data-testid=rating]")
    assert "Good shop, one day late." in boss.inner_text("[data-testid=freelancer-feedback]")
    dev.goto(f"{site}/u/{employer.username}/")
    assert text["five"] in dev.inner_text("[data-testid=rating]")
    assert "Clear brief, paid on the spot." in dev.inner_text("[data-testid=employer-feedback]")

    # The freelancer was told of every step in the notification centre, and by e-mail in their language.
    dev.goto(site + "/")
    assert dev.inner_text("[data-testid=unread-notifications]") == _digits(len(FREELANCER_KINDS), language)
    dev.click("[data-testid=notifications-link]")
    items = dev.locator("[data-testid=notification]")
    assert [items.nth(n).get_attribute("data-kind") for n in range(items.count())] == FREELANCER_KINDS
    assert text["released_text"] in dev.inner_text("[data-kind=released]")
    mails = OutgoingEmail.objects.filter(to=[freelancer.email])
    assert mails.count() == len(FREELANCER_KINDS)
    assert set(mails.values_list("status", flat=True)) == {OutgoingEmail.Status.SENT}
    assert mails.filter(subject=text["released"]).count() == 1

    # Opening one marks it read and goes where it points; then all are marked read.
    dev.click("[data-kind=review_published] [data-testid=notification-open]")
    dev.wait_for_url(re.compile(rf"/u/{freelancer.username}/#feedback$"))
    assert dev.inner_text("[data-testid=unread-notifications]") == _digits(len(FREELANCER_KINDS) - 1, language)
    dev.click("[data-testid=notifications-link]")
    dev.click("[data-testid=read-all]")
    dev.wait_for_load_state()
    assert dev.locator("[data-testid=unread-notifications]").count() == 0
    assert dev.locator(".notification.unread").count() == 0
