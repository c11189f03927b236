"""In both languages: an employer on a phone finds a freelancer in the directory by a word typed with Arabic ی/ک,
invites them to an open project with a note; the freelancer, in another browser, opens the invitation from the
notification and sends a proposal; the employer sees the invitation answered."""

import re

import pytest
from django.utils import translation

from accounts.services import profile_set_skills, profile_update_basic
from accounts.tests.factories import UserFactory
from invitations.models import Invitation
from marketplace.testing import page_as, sign_in
from projects.tests.factories import make_project, skill

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
TEXT = {
    "en": {"dir": "ltr", "limit": "20", "one": "1", "amount": "1,500,000", "days": "10"},
    "fa": {"dir": "rtl", "limit": "۲۰", "one": "۱", "amount": "۱٬۵۰۰٬۰۰۰", "days": "۱۰"},
}


@pytest.mark.parametrize("language", ["en", "fa"])
def test_an_employer_invites_a_freelancer_found_in_the_directory_and_the_freelancer_answers(browser, site, language):
    text = TEXT[language]
    mina = UserFactory(username="mina")
    profile_update_basic(user=mina, display_name="مینا رضایی", headline="طراحی رابط کاربری", bio="", city="شیراز")
    profile_set_skills(user=mina, skills=[skill("ui-design")])
    other = UserFactory()
    profile_update_basic(user=other, display_name="Alex", headline="Django developer", bio="", city="")
    profile_set_skills(user=other, skills=[skill("django")])
    sara = UserFactory(username="sara", display_name="سارا")
    project = make_project(owner=sara, title="طراحی فروشگاه فرش")
    make_project(owner=sara, title="پیش‌نویس", publish=False)

    context = browser.new_context(**PHONE)
    sign_in(context, site, sara, language)
    employer = context.new_page()
    employer.goto(site + "/freelancers/")
    employer.fill("input[name=q]", "طراحي")  # Arabic ي, as an Arabic keyboard types it
    employer.click(".filters button[type=submit]")
    employer.wait_for_url("**/freelancers/?*")
    card = employer.locator("[data-testid=freelancer-card]")
    assert card.locator("h3").all_inner_texts() == ["مینا رضایی"]
    card.locator("[data-testid=invite]").click()
    employer.wait_for_url("**/freelancers/mina/invite/")
    assert employer.get_attribute("html", "dir") == text["dir"]
    # Only the open project is offered; the limit is shown in the page's digits.
    assert employer.locator("select[name=project] option").all_inner_texts() == ["طراحی فروشگاه فرش"]
    assert text["limit"] in employer.inner_text("[data-testid=invitation-limits]")
    assert employer.evaluate("document.documentElement.scrollWidth") <= 390
    employer.fill("textarea[name=note]", "نمونه‌کارهای شما را دیدم؛ خوشحال می‌شوم پیشنهاد بدهید.")
    employer.click("[data-testid=invitation-submit]")
    employer.wait_for_url("**/freelancers/mina/invite/")
    assert employer.locator("[data-testid=invitation-status]").count() == 1
    assert Invitation.objects.get().status == Invitation.Status.OPEN

    # The freelancer sees the notification, opens the project from it and sends a proposal.
    freelancer = page_as(browser, site, mina, language)
    freelancer.goto(site + "/")
    assert freelancer.inner_text("[data-testid=unread-notifications]") == text["one"]
    freelancer.click("[data-testid=notifications-link]")
    row = freelancer.locator("[data-testid=notification][data-kind=invitation]")
    assert "طراحی فروشگاه فرش" in row.inner_text()
    row.locator("[data-testid=notification-open]").click()
    freelancer.wait_for_url(re.compile(rf"/projects/{project.pk}/(#invitation)?$"))
    notice = freelancer.locator("[data-testid=invitation-notice]")
    assert "سارا" in notice.inner_text() and "نمونه‌کارهای شما را دیدم" in notice.inner_text()
    freelancer.fill("[data-testid=proposal-form] input[name=amount]", text["amount"])
    freelancer.fill("[data-testid=proposal-form] input[name=delivery_days]", text["days"])
    freelancer.fill("[data-testid=proposal-form] textarea[name=cover_letter]", "سه فروشگاه مشابه طراحی کرده‌ام.")
    freelancer.click("[data-testid=proposal-submit]")
    freelancer.wait_for_url(re.compile(r"#proposal$"))
    assert freelancer.locator("[data-testid=my-proposal-amount]").count() == 1
    assert freelancer.locator("[data-testid=invitation-notice]").count() == 0

    # The employer sees the invitation answered, on the invite page and on the project's proposals.
    employer.reload()
    answered = Invitation.objects.get()
    assert answered.status == Invitation.Status.ANSWERED
    with translation.override(language):
        assert employer.inner_text("[data-testid=invitation-status]") == answered.get_status_display()
    employer.goto(f"{site}/projects/{project.pk}/proposals/")
    invited = employer.locator("[data-testid=invited-mina]")
    assert "مینا رضایی" in invited.inner_text()
    assert employer.locator("[data-testid=proposal-mina]").count() == 1
    assert employer.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()
    freelancer.context.close()
