from django.core.mail.backends.base import BaseEmailBackend

from notifications.services import email_enqueue


class OutboxEmailBackend(BaseEmailBackend):
    """Django's EMAIL_BACKEND: every message (allauth's, the admin's, ours) goes to the outbox.

    The real delivery backend (settings.EMAIL_DELIVERY_BACKEND, from EMAIL_URL) is used by the Celery task.
    """

    def send_messages(self, email_messages):
        for message in email_messages:
            email_enqueue(message=message)
        return len(email_messages)
