import re

import pytest

from accounts.tests.factories import UserFactory
from accounts.tests.images import png

pytestmark = pytest.mark.browser

TEXT = {
    "en": {"django": "Django", "saved": "Your skills are saved."},
    "fa": {"django": "جنگو", "saved": "مهارت‌های شما ذخیره شد."},
}


@pytest.mark.parametrize("language", ["en", "fa"])
def test_freelancer_ticks_skills_and_adds_a_portfolio_item_shown_on_the_public_profile(page, site, login_as, language):
    login_as(UserFactory(username=f"free_{language}"), language)

    page.goto(site + "/profile/edit/skills/")
    page.click("details:has(input[data-skill='django']) summary")
    page.check("input[data-skill='django']")
    page.click("details:has(input[data-skill='python']) summary") if not page.is_visible(
        "input[data-skill='python']"
    ) else None
    page.check("input[data-skill='python']")
    page.click("[data-testid=save-skills]")
    page.wait_for_url(re.compile(r"/profile/edit/skills/$"))
    assert TEXT[language]["saved"] in page.inner_text(".messages")

    page.goto(site + "/profile/edit/portfolio/")
    page.fill("input[name=title]", "Rug shop website")
    page.fill("textarea[name=description]", "A shop for handmade rugs, built with Django.")
    upload = png(size=(800, 600))
    page.set_input_files(
        "input[name=images]", files=[{"name": "shop.png", "mimeType": "image/png", "buffer": upload.read()}]
    )
    page.click("[data-testid=add-portfolio]")
    page.wait_for_url(re.compile(r"/profile/edit/portfolio/$"))

    page.goto(f"{site}/u/free_{language}/")
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "fa" else "ltr")
    skills = page.inner_text("[data-testid=profile-skills]")
    assert TEXT[language]["django"] in skills
    item = page.locator(".portfolio-item", has_text="Rug shop website")
    assert item.count() == 1
    image = item.locator("img").first
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")  # the thumbnail really loads
    assert image.evaluate("img => img.naturalWidth") <= 480
