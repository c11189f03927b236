"""The real thing: a Celery worker consuming from Redis delivers a queued e-mail."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from marketplace.celery import app
from notifications.models import OutgoingEmail
from notifications.services import email_enqueue


@pytest.fixture
def redis_worker(redis_url, transactional_db):
    # The test settings point the broker at Redis when it answers; only eager execution is switched off.
    assert app.conf.broker_url == redis_url
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"):
            yield
    finally:
        app.conf.task_always_eager = True


def test_a_worker_on_redis_delivers_the_queued_mail(redis_worker):
    assert app.connection_for_write().as_uri().startswith("redis://")
    email = email_enqueue(message=EmailMultiAlternatives("Via Redis", "Body", None, ["to@example.com"]))

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        email.refresh_from_db()
        if email.status == OutgoingEmail.Status.SENT:
            break
        time.sleep(0.2)

    assert email.status == OutgoingEmail.Status.SENT
    assert [m.subject for m in mail.outbox] == ["Via Redis"]


def test_beat_schedule_sweeps_the_outbox_every_minute():
    entry = app.conf.beat_schedule["send-queued-emails"]
    assert entry["task"] == "notifications.tasks.send_queued_emails"
    assert entry["schedule"] == 60.0
    assert "notifications.tasks.send_queued_emails" in app.tasks
