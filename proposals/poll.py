"""An open chat asks every few seconds whether anything new was said; the answer is almost always "no", and it
costs no database query.

The cache keeps, for each conversation, the id of its newest message (set when a message is sent, once it is
committed) and its two parties (they never change). `IdleChatPollMiddleware` answers a poll before the user is
loaded: when the session's user is one of the parties and the newest message is one the page already shows, the
answer is the empty fragment the view would render. Anything else (no cached state, a new message, someone who is
not a party, staff reading a dispute) goes on to the view, which checks everything and fills the cache.

A poll answered here tells a signed-in party only that nothing is new; it never shows a message.
"""

from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from django.utils.cache import patch_cache_control

STATE_SECONDS = 24 * 3600  # an idle conversation's state is read again from the database after a day


def _last_key(pk: int) -> str:
    return f"chat:last:{pk}"


def _parties_key(pk: int) -> str:
    return f"chat:parties:{pk}"


def message_posted(message) -> None:
    """The message is the conversation's newest: now (a poll meanwhile goes on to the view, which cannot see it yet
    and answers nothing new) and again once it commits (in case a poll stored an older id in between)."""

    def store():
        cache.set(_last_key(message.conversation_id), message.pk, timeout=STATE_SECONDS)

    store()
    transaction.on_commit(store)


def remember(conversation, newest: int) -> None:
    """The view read the conversation: keep what the middleware needs. `add`, not `set`: a message sent while
    the view was reading has already stored a newer id, which must win."""
    cache.add(_last_key(conversation.pk), newest, timeout=STATE_SECONDS)
    cache.add(_parties_key(conversation.pk), [conversation.project.owner_id, conversation.freelancer_id], STATE_SECONDS)


def nothing_new(*, pk: int, user_id, after: int) -> bool:
    state = cache.get_many([_last_key(pk), _parties_key(pk)])
    newest, parties = state.get(_last_key(pk)), state.get(_parties_key(pk))
    if newest is None or parties is None or user_id is None:
        return False
    return str(user_id) in {str(party) for party in parties} and newest <= after


class IdleChatPollMiddleware:
    """Right after SessionMiddleware: an idle chat's poll is answered from the session and the cache alone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        after = request.GET.get("after", "")
        if request.method == "GET" and after.isdigit() and request.path_info.endswith("/poll/"):
            match = resolve_poll(request.path_info)
            user_id = request.session.get(SESSION_KEY)
            if match is not None and nothing_new(pk=match, user_id=user_id, after=int(after)):
                response = HttpResponse("", content_type="text/html; charset=utf-8")
                patch_cache_control(response, private=True, no_store=True)
                return response
        return self.get_response(request)


def resolve_poll(path: str) -> int | None:
    """The conversation's id if the path is a chat's poll."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.kwargs["pk"] if match.url_name == "conversation_poll" else None
