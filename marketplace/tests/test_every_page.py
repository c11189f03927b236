"""Every page on a phone, in both languages, as everybody who sees it (marketplace/tests/pages.py lists them from the
URL configuration): nothing scrolls sideways, every button and link is big enough to tap and not under another
element, and axe-core finds no serious or critical violation of WCAG 2.2 A/AA."""

import io
import json
import os
import re
import time

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import get_resolver, reverse
from django.urls.converters import IntConverter

from accounts.models import User
from marketplace.testing import axe_script, sign_in
from marketplace.tests import pages

PHONES = ({"width": 390, "height": 844}, {"width": 360, "height": 740})
LANGUAGES = ("en", "fa")
TARGET = 24  # CSS pixels: WCAG 2.2's minimum target size (2.5.8)

# What a phone shows wrong, found in the page itself: sideways scrolling (and what sticks out), and targets under
# 24 × 24 or covered by another element. A link inside a sentence is exempt from the size, as in WCAG 2.5.8.
LAYOUT_JS = """
({target}) => {
  const problems = [];
  const describe = (el) => {
    if (!el) return 'nothing';
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().replace(/\\s+/g, ' ');
    const names = typeof el.className === 'string' ? el.className.trim().split(/\\s+/).filter(Boolean) : [];
    const cls = names.map((name) => '.' + name).join('');
    return `<${el.tagName.toLowerCase()}${cls}> "${text.slice(0, 40)}"`;
  };
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth > width) {
    const wide = [...document.body.querySelectorAll('*')].filter((el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && (r.right > width + 0.5 || r.left < -0.5) && el.checkVisibility()
        && !el.classList.contains('skip-link');
    });
    const outermost = wide.filter((el) => !wide.includes(el.parentElement)).slice(0, 4).map(describe);
    problems.push(`scrolls sideways (${document.documentElement.scrollWidth} > ${width} px): ${outermost.join('; ')}`);
  }
  const inSentence = (el) => {
    if (getComputedStyle(el).display !== 'inline') return false;
    const block = el.parentElement;
    const own = (el.textContent || '').trim().length;
    return (block.textContent || '').trim().length > own + 2;
  };
  const targets = [...document.querySelectorAll(
    'a[href], button, summary, select, input[type=submit], input[type=button], [role=button], [role=tab]')]
    .filter((el) => el.checkVisibility({opacityProperty: true, visibilityProperty: true})
      && !el.classList.contains('skip-link') && !el.classList.contains('skip-to-content-link')  // shown on focus
      && el.getClientRects().length > 0);
  for (const el of targets) {
    const r = el.getBoundingClientRect();
    if ((r.width < target - 0.5 || r.height < target - 0.5) && !inSentence(el)) {
      problems.push(`too small to tap (${r.width.toFixed(0)} × ${r.height.toFixed(0)}): ${describe(el)}`);
    }
  }
  // Covered: the middle of a target's first box must be the target itself, at some scroll position (a sticky
  // header covers what passes under it). The page is scrolled a screen at a time; what stays unresolved (inside a
  // box that scrolls sideways, say) is scrolled into view on its own.
  const shows = (el) => {
    const box = el.getClientRects()[0];
    const x = box.left + box.width / 2, y = box.top + box.height / 2;
    if (x < 0 || y < 0 || x >= width || y >= window.innerHeight) return null;
    const hit = document.elementFromPoint(x, y);
    return hit === el || el.contains(hit) || (hit && hit.tagName === 'LABEL' && hit.control === el) ? true : hit;
  };
  let open = targets;
  const step = Math.floor(window.innerHeight * 0.6);
  for (let top = 0; open.length && top < document.documentElement.scrollHeight; top += step) {
    window.scrollTo({top, left: 0, behavior: 'instant'});
    open = open.filter((el) => shows(el) !== true);
  }
  for (const el of open) {
    el.scrollIntoView({block: 'center', inline: 'center', behavior: 'instant'});
    const seen = shows(el);
    if (seen !== true) problems.push(`covered: ${describe(el)} is under ${describe(seen)}`);
  }
  window.scrollTo({top: 0, left: 0, behavior: 'instant'});
  return problems;
}
"""

AXE_JS = """
async () => {
  const result = await axe.run(document, {
    resultTypes: ['violations'],
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']},
  });
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ' — ' + (n.failureSummary || '').split('\\n')[1]),
  }));
}
"""


def test_every_url_has_a_case_in_the_page_walk():
    names = pages.url_names()
    assert not [name for name in names if name not in pages.PAGES], "a URL with no case in marketplace/tests/pages.py"
    assert not [name for name in pages.PAGES if name not in names], "a case for a URL that no longer exists"


@pytest.mark.django_db
def test_what_the_walk_calls_an_action_refuses_a_get(client):
    """The walk leaves out the POST-only URLs; each one must really be one (a GET answers 405)."""
    client.force_login(User.objects.create_user(username="walker", email="walker@example.com", password="x"))
    for name in (name for name, entry in pages.PAGES.items() if entry == pages.ACTION):
        url = _reverse_any(name)
        assert client.get(url).status_code == 405, f"{name} ({url}) answers a GET: it is a page, give it a case"


def _reverse_any(name: str) -> str:
    """The URL `name` with made-up arguments: 1 for a number, x for anything else (a POST-only view refuses a GET
    before it looks at them)."""
    (possibility, _pattern, _defaults, converters), *_others = get_resolver().reverse_dict.getlist(name)
    (_text, params), *_others = possibility
    return reverse(name, kwargs={p: "1" if isinstance(converters.get(p), IntConverter) else "x" for p in params})


@pytest.fixture(scope="session")
def axe_source():
    """axe-core from the npm registry (marketplace.testing.axe_script); injected into the pages under test."""
    from conftest import REQUIRE_BROWSER, _missing

    try:
        return axe_script()
    except OSError as error:
        _missing(f"axe-core could not be fetched from the npm registry: {error}", REQUIRE_BROWSER)


def _walk(browser, site, axe_source, language: str) -> list[str]:
    started = time.monotonic()
    call_command("seed_demo", stdout=io.StringIO())
    spent = {"seed": time.monotonic() - started, "load": 0.0, "layout": 0.0, "axe": 0.0}
    world = {"site": site}
    visits = pages.visits(world)
    if only := os.environ.get("PAGE_WALK_ONLY"):  # while mending a page: PAGE_WALK_ONLY=/admin/ walks those alone
        visits = [(who, path) for who, path in visits if re.search(only, path)]
    people = {user.username: user for user in User.objects.all()}
    contexts, problems = {}, []
    for who, path in visits:
        if who not in contexts:
            context = browser.new_context(viewport=PHONES[0])
            if who:
                sign_in(context, site, people[who], language)
            else:
                context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": site}])
            context.add_init_script(script=axe_source)
            contexts[who] = context.new_page()
        page = contexts[who]
        page.set_viewport_size(PHONES[0])
        started = time.monotonic()
        response = page.goto(site + path)
        spent["load"] += time.monotonic() - started
        where = f"[{language}] {path} as {who or 'a visitor'}"
        if response is None or response.status != 200:
            problems.append(f"{where}: answered {response and response.status}")
            continue
        html_lang = page.evaluate("[document.documentElement.lang, document.documentElement.dir]")
        if html_lang != [language, "rtl" if language == "fa" else "ltr"]:
            problems.append(f"{where}: lang/dir is {html_lang}")
        started = time.monotonic()
        for phone in PHONES:
            page.set_viewport_size(phone)
            for problem in page.evaluate(LAYOUT_JS, {"target": TARGET}):
                problems.append(f"{where} at {phone['width']} px: {problem}")
        spent["layout"] += time.monotonic() - started
        started = time.monotonic()
        violations = page.evaluate(AXE_JS)
        spent["axe"] += time.monotonic() - started
        for violation in violations:
            problems.append(f"{where}: axe {violation['impact']} {violation['id']} ({violation['help']}): "
                            f"{json.dumps(violation['nodes'], ensure_ascii=False)}")  # fmt: skip
    for page in contexts.values():
        page.context.close()
    seconds = ", ".join(f"{part} {value:.0f} s" for part, value in spent.items())
    print(f"\n[{language}] {len(visits)} pages walked at {', '.join(str(p['width']) for p in PHONES)} px ({seconds})")
    return problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_fits_a_phone_and_passes_axe(browser, site, axe_source, language):
    problems = _walk(browser, site, axe_source, language)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
