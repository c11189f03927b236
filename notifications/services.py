"""Notifications (the in-app centre and the e-mail that goes with each) and the e-mail outbox that carries them:
a message is queued with the action that caused it and delivered from a worker."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.template.loader import render_to_string
from django.utils import timezone, translation

from marketplace import live
from marketplace.mail import mail_build
from marketplace.status import set_status
from notifications.kinds import describe
from notifications.models import EmailPreference, Notification, OutgoingEmail

logger = logging.getLogger(__name__)

# The task queued on commit normally delivers at once; the sweep only picks up what is this old.
SWEEP_GRACE = timedelta(minutes=1)


def email_enqueue(*, message: EmailMultiAlternatives) -> OutgoingEmail:
    """Store the message and ask a worker to deliver it once the surrounding transaction commits."""
    html = next((content for content, mime in getattr(message, "alternatives", []) if mime == "text/html"), "")
    email = OutgoingEmail.objects.create(
        subject=str(message.subject),
        body=str(message.body),
        html_body=str(html),
        from_email=message.from_email or settings.DEFAULT_FROM_EMAIL,
        to=list(message.to),
        cc=list(message.cc),
        bcc=list(message.bcc),
        reply_to=list(message.reply_to),
        headers={str(k): str(v) for k, v in (message.extra_headers or {}).items()},
        next_attempt_at=timezone.now() + SWEEP_GRACE,
    )
    transaction.on_commit(lambda: _dispatch(email.pk))
    return email


def _dispatch(email_id: int) -> None:
    """Hand the delivery to Celery. A broker that is down must not fail or stall the web request:
    the message is safe in the outbox and the beat sweep delivers it later."""
    from notifications.tasks import deliver_email  # Imported here to prevent an import cycle (tasks → services)

    try:
        deliver_email.apply_async(args=[email_id], retry=False)
    except Exception:
        logger.warning("Could not queue e-mail %s; the outbox sweep will deliver it", email_id, exc_info=True)


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=2**attempts)


def email_deliver(*, email_id: int) -> OutgoingEmail | None:
    """Send one queued message through the real backend. Safe to call twice: a sent message is not resent,
    and a message another worker is sending right now is skipped."""
    with transaction.atomic():
        email = (
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, status=OutgoingEmail.Status.QUEUED)
            .first()
        )
        if email is None:
            return None
        message = EmailMultiAlternatives(
            subject=email.subject,
            body=email.body,
            from_email=email.from_email,
            to=email.to,
            cc=email.cc,
            bcc=email.bcc,
            reply_to=email.reply_to,
            headers=email.headers,
            connection=get_connection(settings.EMAIL_DELIVERY_BACKEND),
        )
        if email.html_body:
            message.attach_alternative(email.html_body, "text/html")
        email.attempts += 1
        try:
            message.send()
        except Exception as error:  # noqa: BLE001 — SMTP and friends raise anything; record it and retry later
            email.last_error = f"{type(error).__name__}: {error}"[:2000]
            if email.attempts >= settings.EMAIL_OUTBOX_MAX_ATTEMPTS:
                set_status(email, OutgoingEmail.Status.FAILED)
            email.next_attempt_at = timezone.now() + _backoff(email.attempts)
            logger.warning("E-mail %s failed (attempt %s): %s", email.pk, email.attempts, email.last_error)
        else:
            set_status(email, OutgoingEmail.Status.SENT)
            email.sent_at = timezone.now()
            email.last_error = ""
        email.save(update_fields=["status", "attempts", "last_error", "next_attempt_at", "sent_at"])
        return email


def email_send_due(*, limit: int = 200) -> int:
    """Deliver queued messages whose time has come (the beat sweep). Returns how many were sent."""
    due = list(
        OutgoingEmail.objects.filter(status=OutgoingEmail.Status.QUEUED, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for email_id in due:
        email = email_deliver(email_id=email_id)
        sent += bool(email and email.status == OutgoingEmail.Status.SENT)
    return sent


def email_retry(*, email: OutgoingEmail) -> None:
    """Staff put a failed message back in the queue (admin action)."""
    if OutgoingEmail.Status.QUEUED not in OutgoingEmail.ALLOWED_TRANSITIONS[email.status]:
        return
    OutgoingEmail.objects.filter(pk=email.pk, status=email.status).update(
        status=OutgoingEmail.Status.QUEUED, attempts=0, next_attempt_at=timezone.now()
    )
    transaction.on_commit(lambda: _dispatch(email.pk))


# --- notifications -------------------------------------------------------------------------------------


def _plain(value):
    return str(value) if value is not None else ""


def email_wanted(*, users, kind: str) -> set[int]:
    """The ids of `users` who have not turned off e-mail for this kind (one query)."""
    ids = {user.pk for user in users}
    muted = EmailPreference.objects.filter(user_id__in=ids).values_list("user_id", "muted")
    return ids - {user_id for user_id, kinds in muted if kind in (kinds or [])}


def notify(recipients, kind: str, *, actor=None, url: str = "", email: bool = True, **params) -> list[Notification]:
    """Tell each recipient about an event: a row in their notification centre and, unless they turned this kind
    off, an e-mail in their own language. Both are written in the caller's transaction, so they exist exactly
    when the event does; the e-mail leaves through the outbox once it commits."""
    people = list({user.pk: user for user in recipients if user is not None and user.is_active}.values())
    if not people:
        return []
    if actor is not None:
        params.setdefault("name", actor.display_name)
    params = {key: _plain(value) for key, value in params.items()}
    notifications = Notification.objects.bulk_create(
        Notification(recipient=user, kind=kind, actor=actor, params=params, url=url) for user in people
    )
    live.publish_counts([user.pk for user in people])  # the bell on their open pages, once this commits
    if email:
        prefetch_related_objects(people, "profile")  # the greeting's name, for all recipients in one query
        wanted = email_wanted(users=people, kind=kind)
        for user in people:
            if user.pk in wanted and user.email:
                _email(user, kind, params, url)
    return notifications


def _email(user, kind: str, params: dict, url: str) -> None:
    with translation.override(user.language or settings.LANGUAGE_CODE):
        label = Notification.Kind(kind).label
        project = params.get("project", "")
        body = render_to_string(
            "notifications/email/notification.txt",
            {
                "user": user,
                "text": describe(kind, params),
                "link": f"{settings.SITE_URL}{url}" if url else settings.SITE_URL,
                "site_url": settings.SITE_URL,
                "SITE_NAME": settings.SITE_NAME,
            },
        )
        mail_build(subject=f"{label}: {project}" if project else str(label), text=body, to=[user.email]).send()


def notification_mark_read(*, user, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications read, or all of them; returns how many changed."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    changed = unread.update(read_at=timezone.now())
    if changed:
        live.publish_counts([user.pk])
    return changed


def email_preferences_save(*, user, muted) -> EmailPreference:
    """Store which kinds the user does not want e-mailed; unknown kinds are ignored."""
    known = set(Notification.Kind.values)
    preference, _created = EmailPreference.objects.update_or_create(
        user=user, defaults={"muted": sorted(set(muted) & known)}
    )
    return preference
