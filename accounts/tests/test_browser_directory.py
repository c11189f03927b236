"""An employer on a phone, in Persian, finds a freelancer in the directory with a word typed on an Arabic keyboard."""

import pytest

from accounts.services import profile_set_skills, profile_update_basic
from accounts.tests.factories import UserFactory
from marketplace.testing import sign_in
from projects.tests.factories import skill
from reviews.services import review_submit
from workspace.tests.factories import contract_in

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def test_an_employer_finds_a_freelancer_by_words_typed_with_arabic_yeh_and_kaf_on_a_phone(browser, site):
    mina = UserFactory()
    profile_update_basic(
        user=mina, display_name="مینا رضایی", headline="طراحی رابط کاربری برای فروشگاه‌های اینترنتی", bio="",
        city="شیراز",
    )  # fmt: skip
    profile_set_skills(user=mina, skills=[skill("ui-design"), skill("figma")])
    deal = contract_in("completed", freelancer=mina)
    review_submit(contract=deal.contract, by=deal.employer, rating=5)
    review_submit(contract=deal.contract, by=mina, rating=5)
    alex = UserFactory()
    profile_update_basic(user=alex, display_name="Alex", headline="Django developer", bio="", city="")
    profile_set_skills(user=alex, skills=[skill("django")])

    context = browser.new_context(**PHONE)
    sign_in(context, site, UserFactory(), "fa")
    page = context.new_page()
    page.goto(site + "/projects/")
    page.click("[data-nav-toggle]")  # the phone's menu
    page.click("#site-nav a[href='/freelancers/']")
    page.wait_for_url("**/freelancers/")
    assert page.get_attribute("html", "dir") == "rtl"
    assert len(page.locator("[data-testid=freelancer-card]").all()) == 2

    page.fill("input[name=q]", "طراحي كاربري")  # Arabic ي and ك, as an Arabic keyboard types them
    page.click(".filters button[type=submit]")
    page.wait_for_url("**/freelancers/?*")
    card = page.locator("[data-testid=freelancer-card]")
    assert card.locator("h3").all_inner_texts() == ["مینا رضایی"]
    assert "۱" in card.locator("[data-testid=card-completed]").inner_text()  # one completed project, Persian digits
    assert "۵" in card.locator("[data-testid=card-rating]").inner_text()
    assert "شیراز" in card.inner_text()
    # Nothing sticks out sideways on a 390 px screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert card.bounding_box()["width"] <= 390

    card.locator("h3 a").click()
    page.wait_for_url(f"**/u/{mina.username}/")
    assert page.inner_text("h1") == "مینا رضایی"
    context.close()
