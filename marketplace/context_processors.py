from django.conf import settings
from django.db import connection
from django.utils.functional import SimpleLazyObject

from marketplace import live
from notifications.models import Notification
from projects.models import Project
from proposals.models import Conversation, Message
from proposals.services import NEVER


def site(request):
    """The site's name, and for a signed-in person the live stream's address when live updates are on (the page
    opens it; without it the chat polls)."""
    context = {"SITE_NAME": settings.SITE_NAME}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and live.enabled():
        context["LIVE_EVENTS_URL"] = settings.LIVE_EVENTS_PATH
    return context


def header_badges(request):
    """The top menu's two counts, unread messages and unread notifications: one query, for signed-in users, and
    only when a template shows them (the chat's poll renders a fragment without the menu)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    counts = SimpleLazyObject(lambda: header_counts(user.pk))
    return {
        "unread_messages": SimpleLazyObject(lambda: counts["messages"]),
        "unread_notifications": SimpleLazyObject(lambda: counts["notifications"]),
    }


def header_counts(user_id: int) -> dict:
    """Unread notifications, and messages from the other side newer than the user's read mark. Each half of the
    messages is read through the user's own conversations' indexes (as the freelancer, as the employer): one OR
    across the two would have PostgreSQL scan every message on the site. Plain SQL: this runs on every signed-in
    page, and building it with the ORM cost more than running it."""
    never = connection.ops.adapt_datetimefield_value(NEVER)
    messages, conversations = Message._meta.db_table, Conversation._meta.db_table
    sql = f"""
        SELECT
            (SELECT COUNT(*) FROM {Notification._meta.db_table} WHERE recipient_id = %s AND read_at IS NULL),
            (SELECT COUNT(*) FROM {messages} m JOIN {conversations} c ON c.id = m.conversation_id
              WHERE c.freelancer_id = %s AND m.sender_id <> %s AND m.created_at > COALESCE(c.freelancer_read_at, %s)),
            (SELECT COUNT(*) FROM {messages} m JOIN {conversations} c ON c.id = m.conversation_id
              JOIN {Project._meta.db_table} p ON p.id = c.project_id
              WHERE p.owner_id = %s AND m.sender_id <> %s AND m.created_at > COALESCE(c.employer_read_at, %s))
    """  # noqa: S608 — table names from the models; every value is a parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id, user_id, user_id, never, user_id, user_id, never])
        notifications, as_freelancer, as_employer = cursor.fetchone()
    return {"messages": as_freelancer + as_employer, "notifications": notifications}
