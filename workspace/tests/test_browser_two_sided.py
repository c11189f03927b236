"""Two-sided contracts in a real browser, in both languages (issue 15's "Done when"): the employer goes silent
after a delivery, the freelancer disputes non-payment, nobody answers and the deadline releases the money; another
contract settles its dispute by an offer and a counter-offer without staff; a change adding a milestone is
proposed, accepted and funded; a revision request comes back and the review clock starts again. The clock is the
one thing moved by hand (the stored deadlines set in the past), then the real sweep command runs."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from escrow.checks import ledger_check
from escrow.ledger import wallet_of
from marketplace.l10n import to_persian_digits
from marketplace.testing import page_as
from workspace.models import Contract, Dispute, Milestone
from workspace.tests.factories import contract_in, zip_file

pytestmark = pytest.mark.browser

DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")


def _open(page, site, contract):
    page.goto(f"{site}/workspace/{contract.pk}/")


def _menu(page, operation, phase=None):
    """Operations → the item (one click opens its form)."""
    scope = page.locator(f"[data-phase='{phase}']") if phase else page
    scope.locator("[data-testid=operations]").first.click()
    scope.locator(f"[data-testid=op-{operation}]").first.click()


def _status(page, phase=1) -> str:
    return page.get_attribute(f"[data-phase='{phase}'] [data-testid=milestone-status]", "class").split("status-")[-1]


def _wallet(user) -> Decimal:
    return wallet_of(user).balance


@pytest.mark.parametrize("language", ["en", "fa"])
def test_a_silent_employer_loses_the_dispute_by_its_deadline(browser, site, language, media_dirs):
    deal = contract_in("delivered", amount="1000000")  # half in escrow, the rest never paid
    dev = page_as(browser, site, deal.freelancer, language)
    _open(dev, site, deal.contract)
    assert dev.locator("[data-testid=remainder-clock]").is_visible()
    assert dev.locator("[data-testid=op-dispute]").count() == 0  # not before the remainder clock runs out

    # The employer goes silent: the remainder clock runs out; the sweep tells both.
    Milestone.objects.filter(pk=deal.milestone.pk).update(remainder_due_at=timezone.now() - timedelta(minutes=1))
    call_command("enforce_deadlines")
    _open(dev, site, deal.contract)
    assert "clock-over" in dev.get_attribute("[data-testid=remainder-clock]", "class")
    _menu(dev, "dispute")
    form = dev.locator(f"#create-dispute-{deal.milestone.pk}")
    reasons = form.locator("select[name=reason] option").evaluate_all("(options) => options.map((o) => o.value)")
    assert "not_paid" in reasons and "quality" not in reasons  # the freelancer's own reasons
    form.locator("select[name=reason]").select_option("not_paid")
    form.locator("textarea[name=description]").fill("Delivered a week ago; the rest is still unpaid.")
    form.locator("[data-testid=send-dispute]").click()
    dev.wait_for_load_state()
    assert _status(dev) == "disputed"
    assert dev.locator("[data-testid=dispute-clock]").is_visible()

    boss = page_as(browser, site, deal.employer, language)
    _open(boss, site, deal.contract)
    assert boss.locator("[data-testid=op-answer]").count() == 1  # the employer could answer, and does not

    # The answer deadline passes: the claim stands, what is in escrow goes to the freelancer.
    before = _wallet(deal.freelancer)
    Dispute.objects.filter(milestone=deal.milestone).update(deadline=timezone.now() - timedelta(minutes=1))
    call_command("enforce_deadlines")
    assert _wallet(deal.freelancer) - before == Decimal(450_000)  # 500,000 less 10% commission
    _open(dev, site, deal.contract)
    assert _status(dev) == "completed"
    dev.goto(f"{site}/notifications/")
    shown = "450,000" if language == "en" else to_persian_digits("450٬000")
    assert shown in dev.inner_text("main")
    assert ledger_check().clean


@pytest.mark.parametrize("language", ["en", "fa"])
def test_an_offer_and_a_counter_offer_settle_a_dispute_without_staff(browser, site, language, media_dirs):
    deal = contract_in("disputed", amount="1000000")  # delivered, paid in full, the employer's dispute
    employer_before, freelancer_before = _wallet(deal.employer), _wallet(deal.freelancer)
    dev = page_as(browser, site, deal.freelancer, language)
    _open(dev, site, deal.contract)
    _menu(dev, "offer")
    form = dev.locator(f"#offer-{deal.milestone.pk}")
    form.locator("input[name=to_freelancer]").fill("800000" if language == "en" else "۸۰۰۰۰۰")
    form.locator("textarea[name=note]").fill("Most of it is done; 800,000 is fair.")
    form.locator("[data-testid=send-offer]").click()
    dev.wait_for_load_state()
    assert Dispute.objects.get(pk=deal.dispute.pk).status == "answered"  # an offer answers the dispute

    boss = page_as(browser, site, deal.employer, language)
    _open(boss, site, deal.contract)
    assert boss.locator("[data-testid=accept-offer]").is_visible()
    _menu(boss, "offer")  # a counter-offer
    form = boss.locator(f"#offer-{deal.milestone.pk}")
    form.locator("input[name=to_freelancer]").fill("600000")
    form.locator("[data-testid=send-offer]").click()
    boss.wait_for_load_state()
    assert boss.locator("[data-testid=offers] li").count() == 2

    _open(dev, site, deal.contract)
    dev.locator("[data-testid=accept-offer]").click()
    dev.wait_for_load_state()
    assert _status(dev) == "completed"
    assert _wallet(deal.freelancer) - freelancer_before == Decimal(540_000)  # 600,000 less commission
    assert _wallet(deal.employer) - employer_before == Decimal(400_000)
    dispute = Dispute.objects.get(pk=deal.dispute.pk)
    assert dispute.status == "resolved" and dispute.resolved_by == deal.freelancer
    assert Contract.objects.get(pk=deal.contract.pk).status == Contract.Status.COMPLETED
    assert ledger_check().clean


@pytest.mark.parametrize("language", ["en", "fa"])
def test_a_milestone_added_by_agreement_is_funded_and_a_revision_restarts_the_clock(
    browser, site, language, media_dirs
):
    deal = contract_in("review", amount="1000000")  # delivered, paid in full: the review clock runs
    boss = page_as(browser, site, deal.employer, language)
    _open(boss, site, deal.contract)
    assert boss.locator("[data-testid=review-clock]").is_visible()

    # A revision request: the clock stops; the next delivery starts it again.
    _menu(boss, "revise")
    boss.locator(f"#request-changes-{deal.milestone.pk} textarea[name=note]").fill("Make the logo larger.")
    boss.locator("[data-testid=send-revision]").click()
    boss.wait_for_load_state()
    assert boss.locator("[data-testid=review-clock]").count() == 0
    dev = page_as(browser, site, deal.freelancer, language)
    _open(dev, site, deal.contract)
    dev.set_input_files("input[name=file]", files=[_upload("v2.zip")])
    dev.locator("[data-testid=upload]").click()
    dev.locator("[data-testid=deliverable]").nth(1).wait_for()  # the page reloads itself with version 2
    _menu(dev, "done")
    dev.wait_for_load_state()
    _open(boss, site, deal.contract)
    assert boss.locator("[data-testid=review-clock]").is_visible()
    assert Milestone.objects.get(pk=deal.milestone.pk).auto_release_at > timezone.now() + timedelta(hours=47)

    # The freelancer proposes a second milestone; the employer accepts and pays it; the work may start.
    _open(dev, site, deal.contract)
    dev.locator("[data-testid=op-propose-add]").click()
    add = dev.locator("#add-milestone")
    add.locator("input[name=title]").fill("Mobile layout")
    add.locator("input[name=amount]").fill("300000")
    due = timezone.localdate() + timedelta(days=20)
    add.locator("input[name=due_date]").fill(due.isoformat())
    add.locator("[data-testid=send-add]").click()
    dev.wait_for_load_state()
    _open(boss, site, deal.contract)
    assert boss.locator("[data-testid=open-change]").is_visible()
    boss.locator("[data-testid=accept-change]").click()
    boss.wait_for_load_state()
    assert boss.locator("[data-phase]").count() == 2
    _menu(boss, "fund", phase=2)
    boss.wait_for_load_state()
    assert _status(boss, phase=2) == "funded"
    _open(dev, site, deal.contract)
    assert dev.locator("[data-phase='2'] [data-testid=upload]").is_visible()
    assert ledger_check().clean


def _upload(name):
    content = zip_file(name)
    return {"name": name, "mimeType": "application/zip", "buffer": content.read()}
