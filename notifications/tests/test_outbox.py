from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives, send_mail
from django.utils import timezone

from notifications.models import OutgoingEmail
from notifications.services import email_deliver, email_enqueue, email_retry, email_send_due
from notifications.tasks import send_queued_emails


class FailingBackend:
    """A delivery backend whose server is down."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP server refused the connection")


@pytest.mark.django_db
def test_mail_is_stored_and_delivered_only_after_the_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send_mail("Hello", "Body text", None, ["to@example.com"], html_message="<p>Body</p>")
    email = OutgoingEmail.objects.get()
    assert email.status == OutgoingEmail.Status.QUEUED
    assert mail.outbox == []

    for callback in callbacks:
        callback()

    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT
    assert email.attempts == 1
    assert email.sent_at is not None
    assert mail.outbox[0].subject == "Hello"
    assert mail.outbox[0].alternatives[0][0] == "<p>Body</p>"


@pytest.mark.django_db
def test_delivering_twice_sends_once():
    email = email_enqueue(message=EmailMultiAlternatives("Once", "Body", None, ["to@example.com"]))
    email_deliver(email_id=email.pk)
    email_deliver(email_id=email.pk)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_failed_delivery_is_retried_later_and_gives_up_after_the_last_attempt(settings):
    settings.EMAIL_DELIVERY_BACKEND = f"{__name__}.FailingBackend"
    settings.EMAIL_OUTBOX_MAX_ATTEMPTS = 2
    email = email_enqueue(message=EmailMultiAlternatives("Retry", "Body", None, ["to@example.com"]))

    email_deliver(email_id=email.pk)
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.QUEUED
    assert email.attempts == 1
    assert "refused" in email.last_error
    assert email.next_attempt_at > timezone.now()

    email_deliver(email_id=email.pk)
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.FAILED
    assert email.attempts == 2
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_sweep_delivers_due_mail_and_leaves_mail_that_is_not_due():
    due = email_enqueue(message=EmailMultiAlternatives("Due", "Body", None, ["a@example.com"]))
    later = email_enqueue(message=EmailMultiAlternatives("Later", "Body", None, ["b@example.com"]))
    OutgoingEmail.objects.filter(pk=due.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=5))

    assert send_queued_emails() == 1

    assert [m.subject for m in mail.outbox] == ["Due"]
    later.refresh_from_db()
    assert later.status == OutgoingEmail.Status.QUEUED


@pytest.mark.django_db
def test_staff_can_queue_a_failed_mail_again(django_capture_on_commit_callbacks):
    email = email_enqueue(message=EmailMultiAlternatives("Again", "Body", None, ["to@example.com"]))
    OutgoingEmail.objects.filter(pk=email.pk).update(status=OutgoingEmail.Status.FAILED, attempts=6)
    email.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        email_retry(email=email)

    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_sent_mail_cannot_be_queued_again():
    email = email_enqueue(message=EmailMultiAlternatives("Sent", "Body", None, ["to@example.com"]))
    email_deliver(email_id=email.pk)
    email.refresh_from_db()
    email_retry(email=email)
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT
    assert email_send_due() == 0
    assert len(mail.outbox) == 1
