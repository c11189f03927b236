"""Seed 000 with the keyboard only, in English and Persian: every control of the story is reached with Tab (or
Shift+Tab) and worked with Enter, Space, the arrow keys and typing, and wherever focus stops it can be seen.

One exception, by necessity: a file input opens the operating system's file chooser, which a headless browser
has not got. The test reaches the input with Tab like any other control and then hands it the zip with
set_input_files; everything before and after (the note, the Upload button) is the keyboard's."""

import hashlib
import re
from pathlib import Path

import pytest

from accounts.models import Profile
from accounts.tests.factories import UserFactory
from escrow.models import Withdrawal
from escrow.services import withdrawal_mark_paid
from marketplace.testing import page_as
from workspace.tests.factories import zip_file

pytestmark = pytest.mark.browser

TEXT = {
    "en": {"category": "Web Development", "net": "900,000 toman", "budget_min": "800,000", "budget_max": "1,200,000",
           "four": "4.0", "five": "5.0"},
    "fa": {"category": "برنامه‌نویسی وب", "net": "۹۰۰٬۰۰۰ تومان", "budget_min": "۸۰۰٬۰۰۰", "budget_max": "۱٬۲۰۰٬۰۰۰",
           "four": "۴٫۰", "five": "۵٫۰"},
}  # fmt: skip

# How many Tab presses a control may take to reach before we call it unreachable: a page's whole header, a long
# form and the skills of one open category fit well inside.
TAB_LIMIT = 200

# Records how every focusable element (and every label) looks while it is not focused, so a focus stop can be
# compared with it: a box-shadow only counts as a focus indicator if focusing changed it.
SNAPSHOT_JS = """() => {
  const unfocused = new WeakMap();
  const active = document.activeElement;
  document.querySelectorAll("a[href], button, input, select, textarea, summary, [tabindex], label").forEach((el) => {
    if (el !== active && !el.contains(active)) unfocused.set(el, getComputedStyle(el).boxShadow);
  });
  window.__unfocusedShadow = unfocused;
}"""

# Where focus is, whether it is on one of `targets`, and whether one can see it: an outline at least 2px wide, or
# a box-shadow that focusing changed, in a colour with a contrast of at least 3:1 against what is behind it (WCAG
# 1.4.11). A visually hidden input must show its focus on its label.
FOCUS_JS = """async (targets) => {
  const el = document.activeElement;
  const onTarget = targets.includes(el);
  if (!el || el === document.body || el === document.documentElement) return { onTarget, focused: false };
  const describe = (node) => {
    const text = (node.getAttribute("aria-label") || node.innerText || node.value || node.placeholder || "")
      .trim().replace(/\\s+/g, " ").slice(0, 60);
    const attrs = ["data-testid", "name", "id", "type", "value", "href"].filter((a) => node.hasAttribute(a))
      .map((a) => `${a}="${node.getAttribute(a)}"`).join(" ");
    return `<${node.tagName.toLowerCase()} ${attrs}> "${text}"`;
  };
  const parse = (css) => css.split(/[(),\\s/]+/).filter(Boolean).slice(1, 5).map(Number);
  const colours = (css) => (css.match(/rgba?\\([^)]*\\)/g) || []).map(parse).map((c) => (c.length < 4 ? [...c, 1] : c));
  const over = (c, under) => [0, 1, 2].map((i) => c[i] * c[3] + under[i] * (1 - c[3]));
  const backdrop = (node) => {
    const layers = [];
    for (let n = node; n; n = n.parentElement) {
      const c = colours(getComputedStyle(n).backgroundColor)[0];
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    return layers.reverse().reduce((under, c) => over(c, under), [255, 255, 255]);
  };
  const luminance = (rgb) => {
    const [r, g, b] = rgb.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (c, behind) => {
    const [hi, lo] = [luminance(over(c, behind)), luminance(behind)].sort((a, b) => b - a);
    return (hi + 0.05) / (lo + 0.05);
  };
  const box = el.getBoundingClientRect();
  const hidden = box.width <= 1 || box.height <= 1 || getComputedStyle(el).clip !== "auto";
  const shown = hidden ? [...(el.labels || []), el.closest("label")].filter(Boolean) : [el];
  // Judge the focused look, not a frame of the transition into it.
  await Promise.all(shown.flatMap((node) => node.getAnimations()).map((a) => a.finished.catch(() => null)));
  const visible = shown.some((node) => {
    const style = getComputedStyle(node);
    const behind = backdrop(node.parentElement);
    const outline = colours(style.outlineColor)[0];
    const width = parseFloat(style.outlineWidth);
    if (style.outlineStyle !== "none" && width >= 2 && outline && contrast(outline, behind) >= 3) return true;
    const before = window.__unfocusedShadow && window.__unfocusedShadow.get(node);
    if (style.boxShadow === "none" || before === undefined || style.boxShadow === before) return false;
    return colours(style.boxShadow).some((c) => contrast(c, behind) >= 3);
  });
  return { onTarget, focused: true, visible, description: describe(el) };
}"""


def _describe(target) -> str:
    return target.evaluate_all("(els) => els.map((el) => el.outerHTML.slice(0, 160)).join(' | ')") or str(target)


def tab_to(page, target, *, backwards: bool = False, limit: int = TAB_LIMIT) -> None:
    """Press Tab (Shift+Tab if backwards) until focus is on an element `target` matches; check at every stop
    that focus is visible. Fails if the target is not reached within `limit` presses: it is not reachable by
    keyboard."""
    target.first.wait_for(state="attached", timeout=5000)
    targets = target.element_handles()
    page.evaluate(SNAPSHOT_JS)
    key = "Shift+Tab" if backwards else "Tab"
    stop = page.evaluate(FOCUS_JS, targets)
    for _ in range(limit):
        if stop["onTarget"]:
            break
        page.keyboard.press(key)
        stop = page.evaluate(FOCUS_JS, targets)
        if stop["focused"] and not stop["visible"]:
            pytest.fail(f"focus is not visible on {stop['description']} (on the way to {_describe(target)})")
    else:
        if not stop["onTarget"]:
            pytest.fail(f"not reachable by keyboard within {limit} {key} presses: {_describe(target)}")


def press(page, target, key: str = "Enter", **tab) -> None:
    """Reach `target` with Tab and work it with `key`."""
    tab_to(page, target, **tab)
    page.keyboard.press(key)


def submit(page, target, key: str = "Enter") -> None:
    """Reach a button with Tab, press it, and wait for the page it leads to."""
    tab_to(page, target)
    with page.expect_navigation():
        page.keyboard.press(key)


def type_into(page, target, text: str) -> None:
    """Reach a text field with Tab and type into it."""
    tab_to(page, target)
    page.keyboard.type(text)


def choose_option(page, select, label: str) -> None:
    """Reach a closed <select> with Tab and move through its options with ArrowDown until `label` is chosen."""
    tab_to(page, select)
    for _ in range(select.locator("option").count()):
        if select.evaluate("(el) => el.selectedOptions[0].label.trim()") == label:
            return
        page.keyboard.press("ArrowDown")
    assert select.evaluate("(el) => el.selectedOptions[0].label.trim()") == label


def choose_radio(page, group, value: str) -> None:
    """Tab into a radio group (Tab stops once per group), then ArrowDown to the radio with `value`, and Space."""
    tab_to(page, group)
    target = group.and_(group.page.locator(f"[value='{value}']"))
    for _ in range(group.count()):
        if target.evaluate("(el) => el === document.activeElement"):
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    assert target.is_checked()


def operation(page, testid: str) -> None:
    """Open the Operations menu (a <details>) with Enter, then reach the action in it and press it."""
    press(page, page.locator("[data-testid=operations]"))
    submit(page, page.locator(f"[data-testid={testid}]"))


# The helpers fail where they should, on a page made for the purpose: a link, a widget with only a click
# handler, a button whose focus style each test sets.
SAMPLE = """<!DOCTYPE html><html><body>
  <a href="#top">First</a>
  <div class="widget" onclick="this.textContent = 'clicked'">Only a mouse can press me</div>
  <button id="target">Target</button>
  <style>:focus-visible { outline: 3px solid #0f766e; outline-offset: 2px; } #target:focus-visible { %s }</style>
</body></html>"""


def pay_at_the_bank(page) -> None:
    """On the sandbox bank's page: Pay, by keyboard, and back to the workspace."""
    assert "/sandbox-bank/" in page.url
    submit(page, page.locator("[data-testid=bank-pay]"))
    page.wait_for_url(re.compile(r"/workspace/\d+/$"))


def test_tab_to_fails_on_a_control_the_keyboard_cannot_reach(page):
    page.set_content(SAMPLE % "")
    with pytest.raises(pytest.fail.Exception, match="not reachable by keyboard within 10 Tab presses"):
        tab_to(page, page.locator(".widget"), limit=10)


@pytest.mark.parametrize("style", ["outline: none", "outline-width: 1px", "outline-color: rgba(15, 118, 110, .3)"])
def test_tab_to_fails_where_focus_cannot_be_seen(page, style):
    page.set_content(SAMPLE % style)
    with pytest.raises(pytest.fail.Exception, match='focus is not visible on <button id="target">'):
        tab_to(page, page.locator("#target"))


@pytest.mark.parametrize("style", ["", "outline: none; box-shadow: 0 0 0 2px #0f766e"])
def test_tab_to_stops_on_a_reachable_control_whose_focus_shows(page, style):
    page.set_content(SAMPLE % style)
    tab_to(page, page.locator("#target"))
    assert page.evaluate("document.activeElement.id") == "target"


# In Persian: the Tab order is the same in both languages, and right to left is where a layout goes wrong (the mouse
# story, workspace/tests/test_browser.py, runs in both).
@pytest.mark.parametrize("language", ["fa"])
def test_single_delivery_story_with_the_keyboard_only(browser, site, language):
    text = TEXT[language]
    employer = UserFactory(username=f"emp_{language}")
    freelancer = UserFactory(username=f"free_{language}")
    Profile.objects.filter(user=freelancer).update(bank_sheba="IR820540102680020817909002", bank_account_holder="Free")
    boss = page_as(browser, site, employer, language, accept_downloads=True)
    dev = page_as(browser, site, freelancer, language)

    # The employer posts the project.
    boss.goto(site + "/projects/new/")
    type_into(boss, boss.locator("input[name=title]"), "Rug shop website")
    type_into(boss, boss.locator("textarea[name=description]"), "An online shop for handmade rugs, with a basket.")
    choose_option(boss, boss.locator("select[name=category]"), text["category"])
    press(boss, boss.locator(".skill-groups details:has(input[data-skill='django']) > summary"))
    press(boss, boss.locator("input[data-skill='django']"), "Space")
    assert boss.locator("input[data-skill='django']").is_checked()
    type_into(boss, boss.locator("input[name=budget_min]"), text["budget_min"])
    type_into(boss, boss.locator("input[name=budget_max]"), text["budget_max"])
    type_into(boss, boss.locator("input[name=duration_days]"), "20")
    submit(boss, boss.locator("[data-testid=publish]"))
    assert re.search(r"/projects/\d+/$", boss.url), boss.url
    project_url = boss.url

    # The freelancer bids, then opens the chat and writes.
    dev.goto(project_url)
    form = dev.locator("[data-testid=proposal-form]")
    type_into(dev, form.locator("input[name=amount]"), "1000000")
    type_into(dev, form.locator("input[name=delivery_days]"), "15")
    type_into(dev, form.locator("textarea[name=cover_letter]"), "I can build this shop in two weeks.")
    submit(dev, dev.locator("[data-testid=proposal-submit]"))
    assert dev.url.endswith("#proposal")
    submit(dev, dev.locator("[data-testid=chat-with-employer]"))
    type_into(dev, dev.locator("textarea[name=body]"), "Hello! Any design you like?")
    press(dev, dev.locator("[data-testid=send-message]"))
    dev.locator(".message.mine").wait_for(timeout=5000)

    # The employer chooses the proposal and pays half through the sandbox bank.
    boss.goto(project_url + "proposals/")
    submit(boss, boss.locator(f"[data-testid=select-{freelancer.username}]"))
    pay_at_the_bank(boss)
    workspace_url = boss.url
    assert boss.inner_text("[data-testid=in-escrow]") in ("500,000", "۵۰۰٬۰۰۰")

    # The freelancer accepts, uploads a zip (the file chooser is the only step the keyboard cannot do), Done.
    dev.goto(workspace_url)
    menu = dev.locator("details:has([data-testid=operations])")
    press(dev, dev.locator("[data-testid=operations]"))
    dev.keyboard.press("Tab")
    dev.keyboard.press("Escape")  # closes the menu and gives focus back to its button
    assert menu.get_attribute("open") is None
    assert dev.evaluate("document.activeElement.dataset.testid") == "operations"
    operation(dev, "op-accept")
    payload = zip_file(files={"shop/index.html": "<h1>Rug shop</h1>"}).read()
    file_input = dev.locator("input[name=file]")
    tab_to(dev, file_input)
    file_input.set_input_files(files=[{"name": "rug-shop.zip", "mimeType": "application/zip", "buffer": payload}])
    type_into(dev, dev.locator("[data-upload-form] input[name=note]"), "First version")
    press(dev, dev.locator("[data-testid=upload]"))
    dev.locator("[data-testid=deliverable]").wait_for(timeout=10000)
    operation(dev, "op-done")
    assert dev.get_attribute("[data-testid=milestone-status]", "class").endswith("status-delivered")

    # The employer opens the file list, pays the rest, downloads the same bytes and approves.
    boss.goto(workspace_url)
    deliverable = boss.locator("[data-testid=deliverable]")
    press(boss, deliverable.locator("summary"))
    assert deliverable.locator(".file-list").is_visible()
    assert "shop/index.html" in deliverable.inner_text()
    operation(boss, "op-fund")
    pay_at_the_bank(boss)
    download_link = boss.locator("[data-testid=download]")
    tab_to(boss, download_link)
    with boss.expect_download() as download_info:
        boss.keyboard.press("Enter")
    assert Path(download_info.value.path()).read_bytes() == payload
    assert hashlib.sha256(payload).hexdigest() in deliverable.inner_text()
    operation(boss, "op-approve")
    assert boss.get_attribute("[data-testid=milestone-status]", "class").endswith("status-completed")

    # The freelancer is paid less commission and asks for a withdrawal.
    dev.goto(site + "/settings/payments/")
    assert dev.inner_text("[data-testid=available-balance]") == text["net"]
    type_into(dev, dev.locator("#id_withdraw_amount"), "900000")
    submit(dev, dev.locator("[data-testid=withdraw]"))
    assert dev.locator("[data-testid=withdrawal-row]").count() == 1
    staff = UserFactory()
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    withdrawal_mark_paid(withdrawal=Withdrawal.objects.get(user=freelancer), by=staff, bank_reference="BR-1")

    # Both review: stars with the arrow keys, the comment typed, the form sent with Enter.
    dev.goto(workspace_url)
    review = dev.locator("[data-testid=review-form]")
    choose_radio(dev, review.locator("input[name=rating]"), "5")
    choose_radio(dev, review.locator("input[name=payment]"), "5")
    type_into(dev, review.locator("textarea[name=comment]"), "Clear brief, paid on the spot.")
    submit(dev, dev.locator("[data-testid=review-submit]"))
    dev.locator("[data-testid=review-pending]").wait_for()
    boss.goto(workspace_url)
    review = boss.locator("[data-testid=review-form]")
    choose_radio(boss, review.locator("input[name=rating]"), "4")
    choose_radio(boss, review.locator("input[name=quality]"), "5")
    type_into(boss, review.locator("textarea[name=comment]"), "Good shop, one day late.")
    submit(boss, boss.locator("[data-testid=review-submit]"))
    assert boss.locator("[data-testid=reviews] [data-testid=review]").count() == 2

    # The profiles show the averages; reached from the workspace's Parties links.
    submit(boss, boss.locator(f"a[href='/u/{freelancer.username}/']").last)
    assert text["four"] in boss.inner_text("[data-testid=rating]")
    dev.goto(workspace_url)
    submit(dev, dev.locator(f"a[href='/u/{employer.username}/']").last)
    assert text["five"] in dev.inner_text("[data-testid=rating]")

    # The freelancer opens the notification centre from the header, opens one, then marks all read.
    submit(dev, dev.locator("[data-testid=notifications-link]"))
    submit(dev, dev.locator("[data-kind=review_published] [data-testid=notification-open]"))
    assert re.search(rf"/u/{freelancer.username}/#feedback$", dev.url), dev.url
    submit(dev, dev.locator("[data-testid=notifications-link]"))
    submit(dev, dev.locator("[data-testid=read-all]"))
    assert dev.locator(".notification.unread").count() == 0
