from notifications.models import Notification


def unread_notifications(request):
    """The unread count on the bell in the top menu (one query, pages with a signed-in user only)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": Notification.objects.filter(recipient=user, read_at__isnull=True).count()}
