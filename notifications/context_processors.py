from django.utils.functional import SimpleLazyObject

from notifications.models import Notification


def unread_notifications(request):
    """The unread count on the bell in the top menu: one query, for signed-in users, and only when a template
    shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    return {"unread_notifications": SimpleLazyObject(unread.count)}
