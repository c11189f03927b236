"""Job alerts in a real browser (issue 18's "Done when"): a freelancer with the Django skill hears of a new Django
project within seconds, opens it from the notification and bids; and saves a search from Active projects."""

import re
import time

import pytest

from alerts.models import SavedSearch
from alerts.tests.factories import freelancer
from marketplace.testing import page_as
from projects.tests.factories import skill
from proposals.models import Proposal

pytestmark = pytest.mark.browser


def _wait_for_bell(page, seconds: float = 10) -> str:
    """Reload until the bell shows a count (the page has no push yet); return the count shown."""
    deadline = time.monotonic() + seconds
    while True:
        badge = page.locator("[data-testid=unread-notifications]")
        if badge.count():
            return badge.inner_text()
        if time.monotonic() > deadline:
            raise AssertionError("no notification reached the bell")
        page.wait_for_timeout(500)
        page.reload()


@pytest.mark.parametrize("language", ["fa"])
def test_a_freelancer_hears_of_a_new_django_project_opens_it_and_bids(browser, site, language):
    dev = freelancer(skills=[skill("django")], username="dev")
    dev_page = page_as(browser, site, dev, language)
    dev_page.goto(site + "/projects/")
    assert dev_page.locator("[data-testid=unread-notifications]").count() == 0

    boss_page = page_as(browser, site, freelancer(username="boss"), language)
    boss_page.goto(site + "/projects/new/")
    boss_page.fill("input[name=title]", "فروشگاه اینترنتی با جنگو")
    boss_page.fill("textarea[name=description]", "یک فروشگاه اینترنتی فرش با پنل مدیریت و درگاه پرداخت می‌خواهیم.")
    boss_page.select_option("select[name=category]", label="برنامه‌نویسی وب")
    django_id = skill("django").pk
    boss_page.click(f".skill-groups details:has(input[value='{django_id}']) summary")
    boss_page.check(f"input[name=skills][value='{django_id}']")
    boss_page.fill("input[name=budget_min]", "۵٬۰۰۰٬۰۰۰")
    boss_page.fill("input[name=budget_max]", "۸٬۰۰۰٬۰۰۰")
    boss_page.fill("input[name=duration_days]", "۳۰")
    boss_page.click("[data-testid=publish]")
    boss_page.wait_for_url(re.compile(r"/projects/\d+/$"))
    project_url = boss_page.url

    assert _wait_for_bell(dev_page) == "۱"
    dev_page.click("[data-testid=notifications-link]")
    alert = dev_page.locator("[data-testid=notification][data-kind=job_alert]")
    assert "فروشگاه اینترنتی با جنگو" in alert.inner_text()
    assert "۸٬۰۰۰٬۰۰۰" in alert.inner_text()
    alert.locator("[data-testid=notification-open]").click()
    dev_page.wait_for_url(project_url)

    dev_page.fill("[data-testid=proposal-form] input[name=amount]", "۶٬۰۰۰٬۰۰۰")
    dev_page.fill("[data-testid=proposal-form] input[name=delivery_days]", "۲۰")
    dev_page.fill("[data-testid=proposal-form] textarea[name=cover_letter]", "سه فروشگاه با جنگو ساخته‌ام.")
    dev_page.click("[data-testid=proposal-submit]")
    dev_page.wait_for_url(re.compile(r"#proposal$"))
    assert Proposal.objects.filter(freelancer=dev, project__title="فروشگاه اینترنتی با جنگو").exists()


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
