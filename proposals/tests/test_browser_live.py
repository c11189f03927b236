"""Two browsers chatting through the live stream, as production serves it (the ASGI server, Redis): each message
appears on the other side without a single poll request, "seen" appears once it is read, the badge and "typing"
arrive live."""

import re

import pytest

from accounts.tests.factories import UserFactory
from marketplace.testing import page_as
from projects.tests.factories import make_project
from proposals.models import Conversation
from proposals.tests.factories import make_proposal

pytestmark = pytest.mark.browser

TEXT = {
    "en": {"seen": "Seen", "typing": "is typing", "one": "1"},
    "fa": {"seen": "دیده شد", "typing": "در حال نوشتن", "one": "۱"},
}


@pytest.mark.parametrize("language", ["en", "fa"])
def test_two_browsers_chat_live_without_polling(browser, asgi_server, language):
    text = TEXT[language]
    site = asgi_server.url
    employer = UserFactory(username=f"live_boss_{language}")
    freelancer = UserFactory(username=f"live_dev_{language}")
    project = make_project(owner=employer, title="Carpet gallery website")
    make_proposal(project=project, freelancer=freelancer)
    conversation = Conversation.objects.get(project=project, freelancer=freelancer)
    thread = f"{site}/messages/{conversation.pk}/"

    employer_page = page_as(browser, site, employer, language)
    freelancer_page = page_as(browser, site, freelancer, language)
    asked = {"employer": [], "freelancer": []}
    employer_page.on("request", lambda request: asked["employer"].append(request.url))
    freelancer_page.on("request", lambda request: asked["freelancer"].append(request.url))

    # The freelancer is elsewhere on the site; the employer opens the thread. Both streams are open.
    with freelancer_page.expect_response(re.compile(r"/events/$")):
        freelancer_page.goto(f"{site}/projects/")
    with employer_page.expect_response(re.compile(r"/events/$")):
        employer_page.goto(thread)
    employer_page.fill("textarea[name=body]", "Hello! Could you start on Saturday?")
    employer_page.click("[data-testid=send-message]")
    employer_page.locator(".message.mine", has_text="Could you start").wait_for(timeout=5000)

    # The freelancer's unread badge appears on the page they are reading, without a reload.
    badge = freelancer_page.locator("[data-testid=unread-total]")
    badge.wait_for(timeout=5000)
    assert badge.inner_text() == text["one"]

    # The freelancer opens the thread; the employer's message shows "seen" at once.
    with freelancer_page.expect_response(re.compile(r"/events/$")):
        freelancer_page.goto(thread)
    assert freelancer_page.locator("[data-testid=unread-total]").count() == 0
    seen = employer_page.locator(".message.mine [data-receipt].seen")
    seen.wait_for(timeout=5000)
    assert text["seen"] in seen.inner_text()

    # The freelancer types: the employer sees it. Then both write, and each message reaches the other page live.
    freelancer_page.type("textarea[name=body]", "Yes, Saturday", delay=20)
    typing = employer_page.locator("[data-typing]")
    typing.wait_for(state="visible", timeout=5000)
    assert text["typing"] in typing.inner_text()
    freelancer_page.click("[data-testid=send-message]")
    employer_page.locator(".message:not(.mine)", has_text="Yes, Saturday").wait_for(timeout=5000)
    assert typing.is_hidden()
    freelancer_page.locator(".message.mine .receipt.seen").wait_for(timeout=5000)  # the employer had the page open
    employer_page.fill("textarea[name=body]", "Great, see you then.")
    employer_page.click("[data-testid=send-message]")
    freelancer_page.locator(".message:not(.mine)", has_text="see you then").wait_for(timeout=5000)
    employer_page.locator(".message.mine", has_text="see you then").locator(".receipt.seen").wait_for(timeout=5000)

    # Not one poll: every message came over the stream.
    for who, urls in asked.items():
        assert not [url for url in urls if "/poll/" in url], f"{who} polled: {urls}"
    assert freelancer_page.locator(".message", has_text="see you then").count() == 1  # shown once
    employer_page.context.close()
    freelancer_page.context.close()


def test_without_a_stream_the_thread_polls(browser, site):
    """The same thread served by Django alone (no ASGI server: the stream answers 204): it polls and still works."""
    employer, freelancer = UserFactory(username="poll_boss"), UserFactory(username="poll_dev")
    project = make_project(owner=employer, title="Tile shop website")
    make_proposal(project=project, freelancer=freelancer)
    conversation = Conversation.objects.get(project=project, freelancer=freelancer)
    freelancer_page = page_as(browser, site, freelancer, "en")
    polls = []
    freelancer_page.on("request", lambda request: "/poll/" in request.url and polls.append(request.url))
    freelancer_page.goto(f"{site}/messages/{conversation.pk}/")
    employer_page = page_as(browser, site, employer, "en")
    employer_page.goto(f"{site}/messages/{conversation.pk}/")
    employer_page.fill("textarea[name=body]", "Polled hello")
    employer_page.click("[data-testid=send-message]")
    freelancer_page.locator(".message:not(.mine)", has_text="Polled hello").wait_for(timeout=8000)
    assert polls
    employer_page.context.close()
    freelancer_page.context.close()
