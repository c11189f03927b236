"""What a phone downloads on its first visit to Active projects: at most 300 KB, everything included.

Counted from Playwright's response events, so every response the browser received is in (the page, the stylesheet,
the scripts, the font, the logo and the icon): each body as received plus its response headers. The test server
compresses nothing, so these are uncompressed bytes, stricter than production, where WhiteNoise serves the static
files brotli- or gzip-compressed (the gzip column printed beside them estimates that). The page's own resource
timings (transferSize) give the same bodies but report 0 for the icon and a flat 300 bytes for every header.
DEBUG is off, as in production: htmx comes minified and django-htmx's debug script is not loaded.
"""

import gzip
from collections import Counter

import pytest
from django.conf import settings

from accounts.services import profile_set_skills
from accounts.tests.factories import UserFactory
from marketplace.testing import sign_in
from projects.tests.factories import make_project, skill
from projects.views import PAGE_SIZE

pytestmark = pytest.mark.browser

BUDGET = 300 * 1024
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}
DESCRIPTION = {
    "en": (
        "We sell hand-knotted rugs from Kashan and Tabriz and want an online shop: a catalogue with filters by size, "
        "colour and price, a cart, payment through Zarinpal, and an admin page for our two employees. The design "
        "should work well on phones, since most of our customers order from Instagram."
    ),
    "fa": (
        "ما فرش دستباف کاشان و تبریز می‌فروشیم و یک فروشگاه اینترنتی می‌خواهیم: کاتالوگ با فیلتر اندازه، رنگ و قیمت، "
        "سبد خرید، پرداخت با زرین‌پال و یک صفحهٔ مدیریت برای دو کارمند ما. طراحی باید روی تلفن همراه خوب کار کند، "
        "چون بیشتر مشتریان ما از اینستاگرام سفارش می‌دهند."
    ),
}


def full_list_of_projects() -> None:
    """More open projects than a page shows, in both languages, with long descriptions and several skills."""
    skills = [skill("django"), skill("logo-design")]
    for number in range(PAGE_SIZE + 5):
        language = "fa" if number % 2 else "en"
        title = (
            f"فروشگاه اینترنتی فرش دستباف {number}"
            if language == "fa"
            else f"Online shop for hand-knotted rugs {number}"
        )
        make_project(title=title, description=DESCRIPTION[language], skills=skills)


def first_visit(browser, url: str, language: str, user=None) -> dict[str, tuple[int, int]]:
    """Open `url` in a fresh phone-sized browser context (an empty cache); return, by kind of resource, the bytes
    received (bodies and response headers) and those bodies gzip-compressed."""
    context = browser.new_context(**PHONE)
    if user is None:
        context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": url}])
    else:
        sign_in(context, url, user, language)
    page = context.new_page()
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(url)
    page.wait_for_load_state("networkidle")
    assert page.locator(".project-card").count() == PAGE_SIZE
    scripts = [response.url for response in responses if response.request.resource_type == "script"]
    assert all(url.endswith(".min.js") for url in scripts if "/django_htmx/" in url), scripts  # and no debug script
    received, compressed = Counter(), Counter()
    for response in responses:
        if response.request.resource_type == "eventsource":
            continue  # the live stream: no download, and an open one has no body to read
        body = response.body()
        kind = response.request.resource_type
        received[kind] += len(body) + response.request.sizes()["responseHeadersSize"]
        compressed[kind] += len(gzip.compress(body))
    context.close()
    return {kind: (received[kind], compressed[kind]) for kind in received}


def breakdown(weights: dict[str, tuple[int, int]]) -> str:
    lines = [
        f"{kind:>12}: {size / 1024:6.1f} KB  (gzip {packed / 1024:5.1f} KB)"
        for kind, (size, packed) in sorted(weights.items())
    ]
    total = sum(size for size, _ in weights.values())
    return "\n".join([*lines, f"{'total':>12}: {total / 1024:6.1f} KB of {BUDGET // 1024} KB"])


# A visitor in English and a signed-in freelancer in Persian: the two ends of what the page carries.
@pytest.mark.parametrize(("language", "visitor"), [("en", "anonymous"), ("fa", "freelancer")])
def test_first_visit_to_active_projects_on_a_phone_downloads_at_most_300_kb(browser, site, language, visitor):
    full_list_of_projects()
    user = None
    if visitor == "freelancer":
        user = UserFactory()
        profile_set_skills(user=user, skills=[skill("django")])

    weights = first_visit(browser, site + "/projects/", language, user)

    print(f"\nFirst visit to /projects/ ({visitor}, {language}):\n{breakdown(weights)}")
    # What the page is made of, so a file that stops loading (or a new one) shows here and not only in the total.
    assert {"document", "stylesheet", "script", "font"} <= set(weights), breakdown(weights)
    assert sum(size for size, _ in weights.values()) <= BUDGET, breakdown(weights)
