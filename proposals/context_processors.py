from proposals.selectors import unread_total


def unread_messages(request):
    """The top menu's unread-messages count (one query, for signed-in users only)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_messages": unread_total(user=user)}
