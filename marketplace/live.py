"""Live updates pushed to the browser: what changed for a person reaches every page they have open, at once.

Each signed-in page keeps one server-sent-events stream open (`marketplace/live_stream.py`, served by the ASGI
server). Anything that changes what a person sees (a new message, a message read by the other side, a new
notification, an unread count) is published here to that person's Redis channel, once the database transaction
that made it has committed; every ASGI process holding a stream of that person forwards it. A process subscribes
only to the channels of the people it serves, so an event costs one Redis PUBLISH whatever the number of
processes, and an idle stream costs nothing but a heartbeat: no database query, no poll.

Without Redis (development on the serverless broker) or with LIVE_EVENTS off, nothing is published and the pages
poll as they always did (the stream answers 204, which tells the browser not to retry).
"""

import json
import logging

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)
_client = None
# Not sent to browsers: each stream of the person ends, and the browser's reconnection is checked like a new one
# (a session that signed out is refused; the person's other devices are let in again).
REAUTH = "reauth"


def enabled() -> bool:
    return bool(settings.LIVE_EVENTS and settings.REDIS_URL)


def channel(user_id: int) -> str:
    """A person's channel. Redis's publish/subscribe ignores the database number, so the database's name is part of
    it: two sites (or two test runs) sharing a Redis never hear each other."""
    return f"{settings.LIVE_CHANNEL_PREFIX}:{settings.DATABASES['default']['NAME']}:user:{user_id}"


def _redis():
    global _client
    if _client is None:
        import redis

        _client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    return _client


def _people(user_ids) -> list[int]:
    return sorted({int(pk) for pk in user_ids if pk is not None})


def publish(user_ids, event: str, data: dict) -> None:
    """Send `event` with `data` to every page each of `user_ids` has open, once the current transaction commits
    (at once outside one). Best effort: a lost event is caught up by the page (it asks again when its stream
    reconnects, and the next full page shows the truth), so a Redis failure is logged, never raised."""
    if not enabled():
        return
    channels = [channel(pk) for pk in _people(user_ids)]
    if not channels:
        return
    body = json.dumps({"event": event, "data": data}, ensure_ascii=False, separators=(",", ":"))

    def send():
        try:
            pipe = _redis().pipeline(transaction=False)
            for name in channels:
                pipe.publish(name, body)
            pipe.execute()
        except Exception:  # a push is a courtesy; the page polls or reloads to the same truth
            logger.warning("live event %s not published", event, exc_info=True)

    transaction.on_commit(send)


def publish_counts(user_ids) -> None:
    """The header's two badges (unread messages, unread notifications), as each person's next page would show
    them, counted once the change commits. Only for the people with a page open (one Redis question for all of
    them): a job alert to a thousand freelancers costs a query only for those reading the site."""
    if not enabled():
        return
    from marketplace.context_processors import header_counts

    people = _people(user_ids)

    def send():
        try:
            listening = dict(_redis().pubsub_numsub(*(channel(pk) for pk in people)))
        except Exception:  # the badges are right again on the next page
            logger.warning("live counts not published", exc_info=True)
            return
        for pk in people:
            if listening.get(channel(pk).encode(), 0):
                publish([pk], "counts", header_counts(pk))

    if people:
        transaction.on_commit(send)


def signed_out(sender, request, user, **kwargs) -> None:
    """user_logged_out: the streams this session had open must not go on receiving."""
    if user is not None:
        publish([user.pk], REAUTH, {})
