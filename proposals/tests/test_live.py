"""The live stream as the browser reads it: real HTTP to uvicorn, Redis in between, the chat's own services."""

import threading
import time

import pytest
from django.db import connection
from django.db.backends.signals import connection_created
from django.test import Client

from accounts.tests.factories import UserFactory
from marketplace.testing import AsgiServer, EventStream, session_cookie
from notifications.models import Notification
from notifications.services import notify
from projects.tests.factories import make_project
from proposals.models import Conversation
from proposals.services import message_send
from proposals.tests.factories import make_proposal


@pytest.fixture
def chat():
    employer, freelancer = UserFactory(username="live_boss"), UserFactory(username="live_dev")
    project = make_project(owner=employer, title="Live chat shop")
    make_proposal(project=project, freelancer=freelancer)
    conversation = Conversation.objects.select_related("project__owner__profile", "freelancer__profile").get(
        project=project, freelancer=freelancer
    )
    return conversation, employer, freelancer


def streams(server, *users):
    opened = [EventStream(server.url, session_cookie(user)) for user in users]
    for stream in opened:
        assert stream.status == 200
        stream.wait_for("counts")  # the first event: the badges as they are now
    return opened


def test_a_stream_is_for_signed_in_people_only(asgi_server, chat):
    anonymous = EventStream(asgi_server.url, None)
    forged = EventStream(asgi_server.url, "not-a-session")
    assert (anonymous.status, forged.status) == (403, 403)
    _, employer, _ = chat
    stream = EventStream(asgi_server.url, session_cookie(employer))
    assert stream.status == 200
    assert stream.response.getheader("Content-Type").startswith("text/event-stream")
    assert stream.response.getheader("X-Accel-Buffering") == "no"
    assert stream.wait_for("counts") == {"messages": 0, "notifications": 1}  # the new proposal
    stream.close()


def test_a_message_reaches_both_parties_rendered_for_each_and_nobody_else(asgi_server, chat):
    conversation, employer, freelancer = chat
    outsider = UserFactory(username="live_outsider")
    to_employer, to_freelancer, to_outsider = streams(asgi_server, employer, freelancer, outsider)

    message = message_send(conversation=conversation, sender=employer, body="Can you start on Monday?")

    mine = to_employer.wait_for("message")
    theirs = to_freelancer.wait_for("message")
    assert mine["conversation"] == theirs["conversation"] == conversation.pk
    assert mine["id"] == theirs["id"] == message.pk
    for language in ("en", "fa"):  # each page takes the language it is written in
        assert 'class="message mine"' in mine["html"][language]
        assert 'class="message"' in theirs["html"][language]
        assert all("Can you start on Monday?" in event["html"][language] for event in (mine, theirs))
    assert "۱۴" in theirs["html"]["fa"] and "۱۴" not in theirs["html"]["en"]  # the date: Jalali, Persian digits
    assert to_freelancer.wait_for("counts")["messages"] == 1
    time.sleep(0.5)
    assert to_outsider.names() == ["counts"]
    for stream in (to_employer, to_freelancer, to_outsider):
        stream.close()


def test_seen_and_typing_reach_the_other_side(asgi_server, chat, settings):
    conversation, employer, freelancer = chat
    message = message_send(conversation=conversation, sender=employer, body="Are you there?")
    to_employer, to_freelancer = streams(asgi_server, employer, freelancer)
    reader = Client()
    reader.force_login(freelancer)

    assert reader.post(f"/messages/{conversation.pk}/read/").status_code == 204
    assert to_employer.wait_for("seen") == {"conversation": conversation.pk, "up_to": message.pk}
    assert to_freelancer.wait_for("counts")["messages"] == 0

    # The employer's page, opened now, shows the message seen.
    page = Client()
    page.force_login(employer)
    assert 'class="receipt seen"' in page.get(f"/messages/{conversation.pk}/").content.decode()

    # Typing: reported at most once every third of CHAT_TYPING_SECONDS, to the other side only.
    for _ in range(3):
        assert reader.post(f"/messages/{conversation.pk}/typing/").status_code == 204
    assert to_employer.wait_for("typing") == {"conversation": conversation.pk, "seconds": settings.CHAT_TYPING_SECONDS}
    time.sleep(0.5)
    assert to_employer.names().count("typing") == 1
    assert "typing" not in to_freelancer.names()

    outsider = Client()
    outsider.force_login(UserFactory())
    assert outsider.post(f"/messages/{conversation.pk}/typing/").status_code == 403
    assert outsider.post(f"/messages/{conversation.pk}/read/").status_code == 403
    assert reader.get(f"/messages/{conversation.pk}/read/").status_code == 405


def test_the_bell_counts_arrive_with_a_notification(asgi_server, chat):
    _, employer, _ = chat
    (stream,) = streams(asgi_server, employer)
    notify([employer], Notification.Kind.MESSAGES_UNREAD, email=False, project="Live chat shop")
    assert stream.wait_for("counts") == {"messages": 0, "notifications": 2}
    stream.close()


def test_idle_streams_cost_no_database_query(asgi_server, settings):
    """Thirty open pages of ten people, idle through several heartbeats: not one query (the bench measures a
    thousand: bench/live_bench.py). Every connection the server opens from now on is watched."""
    settings.LIVE_HEARTBEAT_SECONDS = 0.2
    queries = []
    lock = threading.Lock()

    def watch(sender, connection, **kwargs):
        def count(execute, sql, params, many, context):
            with lock:
                queries.append(sql)
            return execute(sql, params, many, context)

        connection.execute_wrappers.append(count)

    connection_created.connect(watch)
    try:
        connection.close()
        people = [UserFactory() for _ in range(10)]
        opened = streams(asgi_server, *(people * 3))
        with lock:
            before = len(queries)
        assert before > 0  # the watch works: opening a stream reads its session (and the badges)
        time.sleep(1.5)
        with lock:
            during = queries[before:]
        assert during == []
        assert min(stream.heartbeats for stream in opened) >= 4
    finally:
        connection_created.disconnect(watch)
    for stream in opened:
        stream.close()


def test_signing_out_ends_the_streams_of_that_session(asgi_server, chat):
    _, employer, _ = chat
    browser = Client()
    browser.force_login(employer)
    cookie = browser.cookies["sessionid"].value
    stream = EventStream(asgi_server.url, cookie)
    stream.wait_for("counts")
    browser.post("/accounts/logout/")
    assert stream.ended.wait(5)
    assert EventStream(asgi_server.url, cookie).status == 403


def test_two_processes_fan_out_through_redis(asgi_server, chat):
    """Each server has its own event loop and Redis subscription, as two uvicorn processes would: a message
    reaches the employer on one and the freelancer on the other."""
    conversation, employer, freelancer = chat
    other = AsgiServer().start()
    try:
        (to_employer,) = streams(asgi_server, employer)
        (to_freelancer,) = streams(other, freelancer)
        message = message_send(conversation=conversation, sender=freelancer, body="From the other machine")
        assert to_employer.wait_for("message")["id"] == message.pk
        assert to_freelancer.wait_for("message")["id"] == message.pk
        to_employer.close()
        to_freelancer.close()
    finally:
        other.stop()


def test_without_live_updates_the_page_polls(asgi_server, chat, settings):
    conversation, employer, _ = chat
    page = Client()
    page.force_login(employer)
    html = page.get(f"/messages/{conversation.pk}/").content.decode()
    assert '<meta name="live-events" content="/events/">' in html
    # Django itself (runserver, gunicorn) cannot hold a stream: 204 tells the browser not to retry.
    assert page.get("/events/").status_code == 204
    settings.LIVE_EVENTS = False
    assert EventStream(asgi_server.url, session_cookie(employer)).status == 204
    assert 'name="live-events"' not in page.get(f"/messages/{conversation.pk}/").content.decode()


@pytest.mark.django_db
def test_the_help_page_says_how_often_a_page_without_a_stream_polls(client, settings):
    settings.CHAT_POLL_SECONDS = 7
    assert "هر ۷ ثانیه یک بار پیام‌های تازه" in client.get("/help/how-it-works/").content.decode()
    client.cookies["django_language"] = "en"
    assert "checks for new messages every 7 seconds" in client.get("/help/how-it-works/").content.decode()
