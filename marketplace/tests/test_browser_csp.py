"""The pages work under the Content-Security-Policy: no violation in a real browser, and what used to be inline
(the chat's poller and form reset, the confirm dialogs, the avatar sizes) still works from static files."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from marketplace.testing import page_as
from projects.models import Project
from projects.tests.factories import make_project
from proposals.models import Conversation
from proposals.tests.factories import make_proposal
from workspace.models import PhasingOffer
from workspace.services.phasing import PhaseInput, phasing_offer_send

pytestmark = pytest.mark.browser

# Runs before any script of each page: the browser reports every violation as this event.
REPORT_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""


def _watched(page) -> list:
    """What `page` reports as broken: the browser's console reports of the policy and uncaught script errors
    (the violation events themselves: _violations)."""
    problems = []

    def console(message):
        if "Content Security Policy" in message.text:
            problems.append(message.text)

    page.add_init_script(REPORT_VIOLATIONS)
    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    return problems


def _violations(page) -> list:
    return page.evaluate("window.__violations")


def _phased_proposal():
    project = make_project(title="Online class app", kind=Project.Kind.PHASED)
    proposal = make_proposal(project=project, amount="20000000", freelancer=UserFactory(username="bidder"))
    due = timezone.localdate() + timedelta(days=30)
    phases = [
        PhaseInput(title="Study", amount=Decimal(5_000_000), due_date=due),
        PhaseInput(title="Build", amount=Decimal(15_000_000), due_date=due + timedelta(days=30)),
    ]
    offer = phasing_offer_send(proposal=proposal, by=project.owner, phases=phases)
    return project, proposal, offer


def test_pages_raise_no_policy_violation_and_keep_working(browser, page, site):
    project, proposal, offer = _phased_proposal()
    employer, freelancer = project.owner, proposal.freelancer
    conversation = Conversation.objects.get(project=project, freelancer=freelancer)

    # Anonymous: the home page, the project page and its neighbours.
    anonymous = _watched(page)
    for url in ("/", f"/projects/{project.pk}/", "/projects/", "/accounts/login/", "/accounts/signup/", "/help/"):
        page.goto(site + url)
        assert page.locator("head style").count() == 0  # htmx added no indicator styles
        assert _violations(page) == []
    assert anonymous == []

    # The freelancer's project page: the phasing box's forms ask before they are sent.
    dev = page_as(browser, site, freelancer)
    dev_problems = _watched(dev)
    dev.goto(f"{site}/projects/{project.pk}/")
    dialogs = []

    def answer(dialog):
        dialogs.append(dialog.message)
        if dialog.message.startswith("Reject"):
            dialog.dismiss()
        else:
            dialog.accept()

    dev.on("dialog", answer)
    dev.click("[data-testid=phasing-reject]")
    assert dialogs == ["Reject this phasing? You leave the bidders of this project."]
    assert dev.url == f"{site}/projects/{project.pk}/"  # dismissed: nothing was sent
    offer.refresh_from_db()
    assert offer.status == PhasingOffer.Status.SENT
    assert _violations(dev) == []
    dev.click("[data-testid=phasing-accept]")
    dev.wait_for_url(re.compile(r"/workspace/\d+/$"))
    assert dialogs[1].startswith("Accept this phasing?")
    assert _violations(dev) == []

    # The chat: the employer writes, the form empties, the freelancer's poller brings the message.
    polls = []
    dev.on("request", lambda request: polls.append(request.url) if "/poll/" in request.url else None)
    dev.goto(f"{site}/messages/{conversation.pk}/")
    assert dev.locator("h1 .avatar").evaluate("(el) => getComputedStyle(el).width") == "40px"
    boss = page_as(browser, site, employer)
    boss_problems = _watched(boss)
    boss.goto(f"{site}/messages/{conversation.pk}/")
    boss.fill("textarea[name=body]", "Welcome aboard, phase one starts next week.")
    boss.click("[data-testid=send-message]")
    boss.locator(".message.mine", has_text="Welcome aboard").wait_for(timeout=5000)
    assert boss.input_value("textarea[name=body]") == ""
    dev.locator(".message:not(.mine)", has_text="Welcome aboard").wait_for(timeout=5000)
    assert polls and all(re.search(r"[?&]after=\d+", url) for url in polls)

    # The freelancer answers; their own poll now asks only for what follows the newest message.
    dev.fill("textarea[name=body]", "Thank you!")
    dev.click("[data-testid=send-message]")
    boss.locator(".message:not(.mine)", has_text="Thank you!").wait_for(timeout=5000)
    ids = dev.locator("[data-message-id]").evaluate_all("(els) => els.map((el) => Number(el.dataset.messageId))")
    dev.wait_for_event("request", lambda request: request.url.endswith(f"/poll/?after={max(ids)}"), timeout=5000)
    assert dev.locator(".message", has_text="Thank you!").count() == 1
    assert dev.input_value("textarea[name=body]") == ""

    assert _violations(dev) == [] and _violations(boss) == []

    # The other pages a signed-in person sees: allauth's (the e-mail page has scripts of its own), the profiles
    # with their avatars, the lists.
    boss.goto(f"{site}/projects/{project.pk}/proposals/")
    assert _violations(boss) == []
    for url in (
        "/my-activities/",
        "/settings/payments/",
        "/notifications/",
        "/accounts/email/",
        "/accounts/password/change/",
        "/profile/edit/",
        f"/u/{freelancer.username}/",
        "/messages/",
    ):
        response = dev.goto(site + url)
        assert response.ok, url
        assert _violations(dev) == [], url
    assert dev_problems == [] and boss_problems == []
