"""Seed 002 in two browsers: the employer splits the project into 5/10/5 million phases, the freelancer accepts,
each phase is paid in full before it starts, and the budget panel adds up after every step."""

import os
import re
from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from escrow.checks import ledger_check
from escrow.ledger import post_deposit
from marketplace.testing import page_as
from projects.models import Project
from projects.tests.factories import make_project
from proposals.tests.factories import make_proposal
from workspace.tests.factories import phased_contract_in, zip_file

pytestmark = pytest.mark.browser

DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")


_SHOTS = {"count": 0}


def _figures(page):
    """The budget panel as numbers in millions: (total, in escrow, paid, remaining). With SCREENSHOT_DIR set,
    each check also saves a screenshot of the page (to look at the panel at every step)."""
    if os.environ.get("SCREENSHOT_DIR"):
        _SHOTS["count"] += 1
        lang = page.evaluate("document.documentElement.lang")
        page.screenshot(path=f"{os.environ['SCREENSHOT_DIR']}/budget-{lang}-{_SHOTS['count']:02d}.png", full_page=True)
    values = []
    for testid in ("budget-total", "in-escrow", "budget-paid", "budget-remaining"):
        text = page.inner_text(f"[data-testid={testid}]").translate(DIGITS)
        values.append(int(re.sub(r"[^0-9]", "", text)) // 1_000_000)
    return tuple(values)


@pytest.mark.parametrize("language", ["en", "fa"])
def test_three_phase_story(browser, site, language):
    project = make_project(
        title="Online class app", kind=Project.Kind.PHASED, budget_min=15_000_000, budget_max=25_000_000
    )
    proposal = make_proposal(project=project, amount="20000000", freelancer=UserFactory(username=f"phaser_{language}"))
    employer, freelancer = project.owner, proposal.freelancer
    post_deposit(user=employer, amount=Decimal(30_000_000), currency="IRT", gateway="sandbox", key=f"seed:{language}")
    boss = page_as(browser, site, employer, language)
    dev = page_as(browser, site, freelancer, language)

    # The employer splits the project into three phases; the running total shows 20 million.
    boss.goto(f"{site}/proposals/{proposal.pk}/phasing/")
    rows = [("Feasibility and initial study", "5000000", "1410/01/01"), ("Implementation", "10000000", "1410/03/01"),
            ("Launch and support", "5000000", "1410/05/01")]  # fmt: skip
    for index, (title, amount, due) in enumerate(rows):
        boss.fill(f"input[name=phases-{index}-title]", title)
        boss.fill(f"input[name=phases-{index}-amount]", amount)
        boss.fill(f"input[name=phases-{index}-due_date]", due)
    total = boss.inner_text("[data-testid=phasing-total]").translate(DIGITS)
    assert re.sub(r"[^0-9]", "", total) == "20000000"
    boss.click("[data-testid=send-phasing]")
    boss.wait_for_url(re.compile(r"/proposals/$"))

    # The freelancer reads the phasing box and accepts (a confirmation dialog).
    dev.goto(f"{site}/projects/{project.pk}/")
    assert dev.locator("[data-testid=phasing-box]").is_visible()
    dev.on("dialog", lambda dialog: dialog.accept())
    dev.click("[data-testid=phasing-accept]")
    dev.wait_for_url(re.compile(r"/workspace/\d+/$"))
    workspace_url = dev.url
    assert _figures(dev) == (20, 0, 0, 20)

    # Phase 1 is paid in full before it starts.
    boss.goto(workspace_url)
    phase_one = boss.locator("[data-phase='1']")
    phase_one.locator("[data-testid=operations]").click()
    phase_one.locator("[data-testid=op-fund]").click()
    boss.wait_for_load_state()
    assert _figures(boss) == (20, 5, 0, 15)

    # The freelancer delivers phase 1; the employer approves it.
    dev.goto(workspace_url)
    one = dev.locator("[data-phase='1']")
    one.locator("input[name=file]").set_input_files(
        files=[{"name": "study.zip", "mimeType": "application/zip", "buffer": zip_file("study.zip").read()}]
    )
    one.locator("[data-testid=upload]").click()
    dev.locator("[data-phase='1'] [data-testid=deliverable]").wait_for(timeout=10000)
    dev.locator("[data-phase='1'] [data-testid=operations]").click()
    dev.locator("[data-phase='1'] [data-testid=op-done]").click()
    dev.wait_for_load_state()
    assert _figures(dev) == (20, 5, 0, 15)

    boss.goto(workspace_url)
    boss.locator("[data-phase='1'] [data-testid=operations]").click()
    boss.locator("[data-phase='1'] [data-testid=op-approve]").click()
    boss.wait_for_load_state()
    assert _figures(boss) == (20, 0, 5, 15)

    # Phase 2 is paid; the freelancer sees it may start, and the project page shows the same figures.
    boss.locator("[data-phase='2'] [data-testid=operations]").click()
    boss.locator("[data-phase='2'] [data-testid=op-fund]").click()
    boss.wait_for_load_state()
    assert _figures(boss) == (20, 10, 5, 5)
    boss.goto(f"{site}/projects/{project.pk}/")
    assert _figures(boss) == (20, 10, 5, 5)
    assert boss.locator("[data-testid=phase-row]").count() == 3

    dev.goto(site + "/settings/payments/")
    assert re.sub(r"[^0-9]", "", dev.inner_text("[data-testid=available-balance]").translate(DIGITS)) == "4500000"
    assert ledger_check().clean


def _phased_with_two_bidders(language, states=()):
    """A phased "Booking app" with two bids (20 and 15 million); the first accepted phases of 5, 10 and 5 million,
    walked to `states`; the employer had 30,000,000 in the wallet."""
    project = make_project(title="Booking app", kind=Project.Kind.PHASED)
    first = make_proposal(project=project, amount="20000000", freelancer=UserFactory(username=f"first_{language}"))
    second = make_proposal(project=project, amount="15000000", freelancer=UserFactory(username=f"second_{language}"))
    deal = phased_contract_in(5, 10, 5, proposal=first, wallet="30000000", states=states)
    return project, first, second, deal.employer, deal.contract


@pytest.mark.parametrize("language", ["en", "fa"])
def test_phase_two_goes_to_a_second_freelancer(browser, site, language):
    # Phase 1 paid out to the first freelancer.
    project, first, second, employer, contract = _phased_with_two_bidders(language, states=("completed",))
    _one, two, three = contract.milestones.order_by("position")

    boss = page_as(browser, site, employer, language)
    boss.goto(f"{site}/proposals/{second.pk}/phasing/")
    for index, (title, amount, due) in enumerate([("Implementation", "10000000", "1410/03/01"),
                                                   ("Launch and support", "5000000", "1410/05/01")]):  # fmt: skip
        if index:
            boss.click("[data-add-phase]")
        boss.fill(f"input[name=phases-{index}-title]", title)
        boss.fill(f"input[name=phases-{index}-amount]", amount)
        boss.fill(f"input[name=phases-{index}-due_date]", due)
    for milestone in (two, three):
        boss.check(f"input[name=replaces][value='{milestone.pk}']")
    boss.click("[data-testid=send-phasing]")
    boss.wait_for_url(re.compile(r"/proposals/$"))

    newcomer = page_as(browser, site, second.freelancer, language)
    newcomer.goto(f"{site}/projects/{project.pk}/")
    newcomer.on("dialog", lambda dialog: dialog.accept())
    newcomer.click("[data-testid=phasing-accept]")
    newcomer.wait_for_url(re.compile(r"/workspace/\d+/$"))
    # Their own contract's figures, not what was paid to the first freelancer (issue 15, item 8); the
    # project's phase numbers stay.
    assert _figures(newcomer) == (15, 0, 0, 15)
    assert newcomer.locator("[data-phase]").count() == 2
    assert [newcomer.get_attribute(f"[data-phase] >> nth={n}", "data-phase") for n in (0, 1)] == ["2", "3"]

    # The first freelancer keeps phase 1 (paid) and can no longer work on phases 2 and 3.
    veteran = page_as(browser, site, first.freelancer, language)
    veteran.goto(f"{site}/workspace/{contract.pk}/")
    assert veteran.locator("[data-phase]").count() == 1
    assert veteran.locator("[data-testid=upload]").count() == 0
    boss.goto(f"{site}/projects/{project.pk}/")
    assert boss.locator("[data-testid=phase-row]").count() == 3
    assert _figures(boss) == (20, 0, 5, 15)
    assert ledger_check().clean


@pytest.mark.parametrize("language", ["en", "fa"])
def test_a_dispute_in_one_phase_leaves_the_others_alone(browser, site, language):
    # Phases 1 and 2 paid in full, phase 1 delivered.
    _project, first, _second, employer, contract = _phased_with_two_bidders(language, states=("delivered", "funded"))
    one, _two, _three = contract.milestones.order_by("position")

    boss = page_as(browser, site, employer, language)
    boss.goto(f"{site}/workspace/{contract.pk}/")
    assert _figures(boss) == (20, 15, 0, 5)
    phase_one = boss.locator("[data-phase='1']")
    phase_one.locator("[data-testid=operations]").click()
    phase_one.locator("[data-testid=op-dispute]").click()  # one click opens the form
    phase_one.locator("textarea[name=description]").fill("The feasibility report misses the cost section.")
    phase_one.locator(f"#create-dispute-{one.pk} button[type=submit]").click()
    boss.wait_for_load_state()
    assert boss.get_attribute("[data-phase='1'] [data-testid=milestone-status]", "class").endswith("status-disputed")
    assert boss.get_attribute("[data-phase='2'] [data-testid=milestone-status]", "class").endswith("status-funded")
    assert _figures(boss) == (20, 15, 0, 5)

    # After the freelancer's fix, the employer approves phase 1; phase 2 is still paid in, untouched.
    dev = page_as(browser, site, first.freelancer, language)
    dev.goto(f"{site}/workspace/{contract.pk}/")
    dev.locator("[data-phase='1'] textarea[name=message]").fill("Added the cost section in version 2.")
    dev.locator("[data-phase='1'] [data-testid=send-answer]").click()
    dev.wait_for_load_state()
    boss.goto(f"{site}/workspace/{contract.pk}/")
    boss.locator("[data-phase='1'] [data-testid=operations]").click()
    boss.locator("[data-phase='1'] [data-testid=op-approve]").click()
    boss.wait_for_load_state()
    assert _figures(boss) == (20, 10, 5, 5)
    assert boss.get_attribute("[data-phase='2'] [data-testid=milestone-status]", "class").endswith("status-funded")
    assert ledger_check().clean
