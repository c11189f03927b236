"""Two people, two browsers: a freelancer bids, the employer writes, both see it live."""

import re

import pytest

from accounts.tests.factories import UserFactory
from marketplace.testing import page_as
from projects.tests.factories import make_project

pytestmark = pytest.mark.browser

TEXT = {
    "en": {"first": "1,500,000", "lower": "1,200,000", "v1": "Version 1", "v2": "Version 2"},
    "fa": {"first": "۱٬۵۰۰٬۰۰۰", "lower": "۱٬۲۰۰٬۰۰۰", "v1": "نسخه ۱", "v2": "نسخه ۲"},
}


@pytest.mark.parametrize("language", ["en", "fa"])
def test_bid_chat_live_and_lower_the_amount(browser, site, language):
    text = TEXT[language]
    employer = UserFactory(username=f"boss_{language}")
    freelancer = UserFactory(username=f"dev_{language}")
    project = make_project(owner=employer, title="Rug shop website")
    freelancer_page = page_as(browser, site, freelancer, language)
    employer_page = page_as(browser, site, employer, language)

    # The freelancer bids from the project page.
    freelancer_page.goto(f"{site}/projects/{project.pk}/")
    freelancer_page.fill(
        "[data-testid=proposal-form] input[name=amount]", "۱٬۵۰۰٬۰۰۰" if language == "fa" else "1,500,000"
    )
    freelancer_page.fill("[data-testid=proposal-form] input[name=delivery_days]", "10")
    freelancer_page.fill(
        "[data-testid=proposal-form] textarea[name=cover_letter]", "I have built three rug shops before."
    )
    freelancer_page.click("[data-testid=proposal-submit]")
    freelancer_page.wait_for_url(re.compile(r"#proposal$"))
    assert text["first"] in freelancer_page.inner_text("[data-testid=my-proposal-amount]")

    # The freelancer opens the chat and waits there.
    freelancer_page.click("[data-testid=chat-with-employer]")
    freelancer_page.wait_for_url(re.compile(r"/messages/\d+/$"))

    # The employer sees the proposal and writes to the bidder.
    employer_page.goto(f"{site}/projects/{project.pk}/proposals/")
    assert text["first"] in employer_page.inner_text(f"[data-testid=proposal-{freelancer.username}]")
    employer_page.click(f"[data-testid=chat-{freelancer.username}]")
    employer_page.fill("textarea[name=body]", "Could you do it for 1,200,000? See https://example.com/brief")
    employer_page.click("[data-testid=send-message]")
    employer_page.locator(".message.mine", has_text="Could you do it").wait_for(timeout=5000)

    # Without a reload, the message reaches the freelancer within five seconds, its link clickable.
    incoming = freelancer_page.locator(".message:not(.mine)", has_text="Could you do it")
    incoming.wait_for(timeout=5000)
    assert incoming.locator("a[href='https://example.com/brief']").count() == 1
    freelancer_page.fill("textarea[name=body]", "Yes, deal.")
    freelancer_page.click("[data-testid=send-message]")
    employer_page.locator(".message:not(.mine)", has_text="Yes, deal.").wait_for(timeout=5000)

    # The freelancer lowers the amount on the project page.
    freelancer_page.goto(f"{site}/projects/{project.pk}/#proposal")
    freelancer_page.click("summary:has-text('%s')" % ("Edit your proposal" if language == "en" else "ویرایش پیشنهاد"))
    freelancer_page.fill("[data-testid=proposal-form] input[name=amount]", "1200000")
    freelancer_page.click("[data-testid=proposal-submit]")
    freelancer_page.wait_for_url(re.compile(r"#proposal$"))
    assert text["lower"] in freelancer_page.inner_text("[data-testid=my-proposal-amount]")

    # The employer sees the new amount, the edited mark and the history.
    employer_page.goto(f"{site}/projects/{project.pk}/proposals/")
    card = employer_page.locator(f"[data-testid=proposal-{freelancer.username}]")
    assert text["lower"] in card.locator("[data-testid=proposal-amount]").inner_text()
    assert card.locator("[data-testid=edited-mark]").is_visible()
    card.locator(f"[data-testid=history-{freelancer.username}] summary").click()
    history = card.locator(f"[data-testid=history-{freelancer.username}]").inner_text()
    assert text["v1"] in history and text["v2"] in history and text["first"] in history
