import re

import pytest

from accounts.tests.factories import UserFactory
from projects.tests.factories import make_project, skill

pytestmark = pytest.mark.browser

WORDS = {
    "en": (
        "Hand-knotted rug catalogue",
        "We want an online catalogue for our hand-knotted carpets, with prices.",
        "carpets",
    ),
    "fa": ("کاتالوگ فرش دستباف", "برای فرش‌های دستباف خود یک کاتالوگ اینترنتی با قیمت می‌خواهیم.", "کاتالوگ"),
}


@pytest.mark.parametrize("language", ["en", "fa"])
def test_employer_posts_a_project_and_finds_it_by_a_word_and_by_a_skill(page, site, login_as, language):
    title, description, word = WORDS[language]
    make_project(
        title="Unrelated logo work", description="A logo for a bakery, nothing else.", skills=[skill("logo-design")]
    )
    login_as(UserFactory(), language)

    page.goto(site + "/projects/new/")
    page.fill("input[name=title]", title)
    page.fill("textarea[name=description]", description)
    page.select_option("select[name=category]", label="Web Development" if language == "en" else "برنامه‌نویسی وب")
    django_id = skill("django").pk
    page.click(f".skill-groups details:has(input[value='{django_id}']) summary")
    page.check(f"input[name=skills][value='{django_id}']")
    page.fill("input[name=budget_min]", "۵٬۰۰۰٬۰۰۰" if language == "fa" else "5,000,000")
    page.fill("input[name=budget_max]", "۸٬۰۰۰٬۰۰۰" if language == "fa" else "8,000,000")
    page.fill("input[name=duration_days]", "۳۰" if language == "fa" else "30")
    page.click("[data-testid=publish]")
    page.wait_for_url(re.compile(r"/projects/\d+/$"))
    assert page.inner_text("h1") == title

    # A word of the description, typed in the search box.
    page.goto(site + "/projects/")
    page.fill("input[name=q]", word)
    page.click(".filters button[type=submit]")
    page.wait_for_load_state()
    titles = page.locator(".project-card h3").all_inner_texts()
    assert titles == [title]

    # The skill filter alone.
    page.goto(site + "/projects/")
    page.click(".skill-filter details:has(input[value='django']) summary")
    page.check(".skill-filter input[value='django']")
    page.click(".filters button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".project-card h3").all_inner_texts() == [title]
    assert page.locator(".skill-filter input[value='django']").is_checked()
