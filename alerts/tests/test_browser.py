"""Job alerts in a real browser (issue 18's "Done when"): a freelancer with the Django skill hears of a new Django
project within seconds, pushed to the page they are reading, opens it from the notification and bids; and saves a
search from Active projects."""

import re
import time

import pytest

from alerts.models import SavedSearch
from alerts.tests.factories import freelancer
from marketplace.testing import page_as
from projects.tests.factories import skill
from proposals.models import Proposal

pytestmark = pytest.mark.browser


TEXT = {
    "en": {"title": "Online rug shop in Django",
           "description": "We want an online rug shop with an admin and a payment gateway.",
           "category": "Web Development", "min": "5,000,000", "max": "8,000,000", "days": "30", "one": "1",
           "amount": "6,000,000", "delivery": "20", "letter": "I have built three shops in Django."},
    "fa": {"title": "فروشگاه اینترنتی با جنگو",
           "description": "یک فروشگاه اینترنتی فرش با پنل مدیریت و درگاه پرداخت می‌خواهیم.",
           "category": "برنامه‌نویسی وب", "min": "۵٬۰۰۰٬۰۰۰", "max": "۸٬۰۰۰٬۰۰۰", "days": "۳۰", "one": "۱",
           "amount": "۶٬۰۰۰٬۰۰۰", "delivery": "۲۰", "letter": "سه فروشگاه با جنگو ساخته‌ام."},
}  # fmt: skip


@pytest.mark.parametrize("language", ["en", "fa"])
def test_a_freelancer_hears_of_a_new_django_project_opens_it_and_bids(browser, asgi_server, language):
    """As production serves it (the ASGI server's live stream): the bell on the page the freelancer is reading
    lights up by itself, within seconds of the project being published."""
    text, site = TEXT[language], asgi_server.url
    dev = freelancer(skills=[skill("django")], username="dev")
    dev_page = page_as(browser, site, dev, language)
    with dev_page.expect_response(re.compile(r"/events/$")):
        dev_page.goto(site + "/projects/")
    assert dev_page.locator("[data-testid=unread-notifications]").count() == 0

    boss_page = page_as(browser, site, freelancer(username="boss"), language)
    boss_page.goto(site + "/projects/new/")
    boss_page.fill("input[name=title]", text["title"])
    boss_page.fill("textarea[name=description]", text["description"])
    boss_page.select_option("select[name=category]", label=text["category"])
    django_id = skill("django").pk
    boss_page.click(f".skill-groups details:has(input[value='{django_id}']) summary")
    boss_page.check(f"input[name=skills][value='{django_id}']")
    boss_page.fill("input[name=budget_min]", text["min"])
    boss_page.fill("input[name=budget_max]", text["max"])
    boss_page.fill("input[name=duration_days]", text["days"])
    published = time.monotonic()
    boss_page.click("[data-testid=publish]")
    boss_page.wait_for_url(re.compile(r"/projects/\d+/$"))
    project_url = boss_page.url

    bell = dev_page.locator("[data-testid=unread-notifications]")
    bell.wait_for(timeout=10000)  # no reload: pushed to the open page
    assert bell.inner_text() == text["one"] and time.monotonic() - published < 10
    dev_page.click("[data-testid=notifications-link]")
    alert = dev_page.locator("[data-testid=notification][data-kind=job_alert]")
    assert text["title"] in alert.inner_text()
    assert text["max"] in alert.inner_text()
    alert.locator("[data-testid=notification-open]").click()
    dev_page.wait_for_url(project_url)

    dev_page.fill("[data-testid=proposal-form] input[name=amount]", text["amount"])
    dev_page.fill("[data-testid=proposal-form] input[name=delivery_days]", text["delivery"])
    dev_page.fill("[data-testid=proposal-form] textarea[name=cover_letter]", text["letter"])
    dev_page.click("[data-testid=proposal-submit]")
    dev_page.wait_for_url(re.compile(r"#proposal$"))
    assert Proposal.objects.filter(freelancer=dev, project__title=text["title"]).exists()
    dev_page.context.close()
    boss_page.context.close()


@pytest.mark.parametrize("language", ["en", "fa"])
def test_a_search_saved_from_active_projects_is_listed_with_its_frequency_at_390_px(browser, site, language):
    user = freelancer(username="searcher")
    page = page_as(browser, site, user, language)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(site + "/projects/?q=%D9%81%D8%B1%D8%B4%D9%8A&skills=django")  # «فرشي», typed with the Arabic ye
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.click("[data-testid=save-search-button]")
    page.wait_for_url(re.compile(r"/alerts/$"))

    saved = page.locator("[data-testid=saved-search]")
    assert saved.count() == 1
    assert SavedSearch.objects.get(user=user).terms == ["فرشی"]
    page.select_option("[data-testid=saved-search-frequency]", "daily")
    saved.locator("button[type=submit]").first.click()
    page.wait_for_load_state()
    assert page.locator("[data-testid=saved-search-frequency]").input_value() == "daily"
    # Nothing runs off the side of a phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
