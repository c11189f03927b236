from django.utils.functional import SimpleLazyObject

from proposals.selectors import unread_total


def unread_messages(request):
    """The top menu's unread-messages count: one query, for signed-in users, and only when a template shows it
    (the chat's poll renders a fragment without the menu)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_messages": SimpleLazyObject(lambda: unread_total(user=user))}
