"""Our own e-mails (notifications, the unread-messages digest) read in the recipient's direction, as allauth's do
(marketplace/mail.py): an HTML part with lang and dir, and right-to-left marks in Persian plain text."""

import pytest
from django.core import mail

from accounts.tests.factories import UserFactory
from marketplace.mail import RLM
from notifications.models import Notification
from notifications.services import notify

SITE_URL = "https://hamkar.example"


def _html(message) -> str:
    return next(content for content, mime in message.alternatives if mime == "text/html")


@pytest.mark.django_db(transaction=True)
def test_a_notification_email_reads_in_each_recipients_direction(settings):
    settings.SITE_URL = SITE_URL
    persian, english = UserFactory(language="fa"), UserFactory(language="en")

    notify([persian, english], Notification.Kind.PROPOSAL_NEW, project="Rug shop", amount="1000", currency="IRT")

    by_recipient = {message.to[0]: message for message in mail.outbox}
    fa_mail, en_mail = by_recipient[persian.email], by_recipient[english.email]
    fa_lines = [line for line in fa_mail.body.splitlines() if line.strip() and not line.startswith(SITE_URL)]
    assert fa_lines
    assert all(line.startswith(RLM) for line in fa_lines), fa_lines
    assert "همکار" in fa_mail.body
    assert '<html lang="fa" dir="rtl">' in _html(fa_mail)
    assert f'href="{SITE_URL}/notifications/settings/"' in _html(fa_mail)
    assert RLM not in en_mail.body
    assert "Hamkar" in en_mail.body
    assert '<html lang="en" dir="ltr">' in _html(en_mail)
