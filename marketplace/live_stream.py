"""The live stream (server-sent events): one long-lived GET per open page, served by the ASGI server.

A plain ASGI application in front of Django (marketplace/asgi.py routes LIVE_EVENTS_PATH here), not a Django view:
Django's ASGI handler gives each request a thread of its own for the sync middlewares, and a stream lives for an
hour, so a thousand open pages would hold a thousand threads. Here a stream is one coroutine and one queue; the
session is read once, when it opens (in a pooled thread, whose database connection is closed again at once), and
after that an idle stream costs a heartbeat every LIVE_HEARTBEAT_SECONDS and nothing else.

Fan-out: each process has one Redis connection subscribed to the channels of the people it is streaming to
(`Hub`); marketplace/live.py publishes to those channels from any process (web, worker). Every answer that is not
a stream (204: live updates off; 403: not signed in; 503: Redis down) stops the browser's EventSource for good,
and the page falls back to polling.
"""

import asyncio
import json
import logging
import weakref
from importlib import import_module
from types import SimpleNamespace

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from django.http.cookie import parse_cookie

from marketplace import live

logger = logging.getLogger(__name__)
_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub]" = weakref.WeakKeyDictionary()


class Hub:
    """This process's subscriptions: for each channel, the queues of the streams that listen to it."""

    QUEUE_SIZE = 100  # events waiting for one slow page; past that the page is dropped (it reconnects)

    def __init__(self):
        self.listeners: dict[str, set[asyncio.Queue]] = {}
        self.pubsub = None
        self.reader: asyncio.Task | None = None
        self.lock = asyncio.Lock()

    async def join(self, name: str) -> asyncio.Queue:
        async with self.lock:
            if self.pubsub is None:
                import redis.asyncio

                client = redis.asyncio.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1)
                self.pubsub = client.pubsub()
            if name not in self.listeners:
                await self.pubsub.subscribe(name)
                self.listeners[name] = set()
            queue = asyncio.Queue(maxsize=self.QUEUE_SIZE)
            self.listeners[name].add(queue)
            if self.reader is None or self.reader.done():
                self.reader = asyncio.create_task(self._read(self.pubsub))
            return queue

    async def leave(self, name: str, queue: asyncio.Queue) -> None:
        async with self.lock:
            queues = self.listeners.get(name)
            if queues is None:
                return
            queues.discard(queue)
            if not queues:
                del self.listeners[name]
                if self.pubsub is not None:
                    try:
                        await self.pubsub.unsubscribe(name)
                    except Exception:  # the reader notices a dead connection and resets the hub
                        logger.debug("unsubscribe %s failed", name, exc_info=True)

    async def _read(self, pubsub) -> None:
        try:
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
                if not message or message.get("type") != "message":
                    continue
                for queue in list(self.listeners.get(message["channel"].decode(), ())):
                    try:
                        queue.put_nowait(message["data"])
                    except asyncio.QueueFull:
                        _end(queue)
        except asyncio.CancelledError:
            raise
        except Exception:  # Redis went away: every stream ends, and the browsers reconnect
            logger.warning("live events: the Redis subscription broke; streams end and reconnect", exc_info=True)
            async with self.lock:
                for queues in self.listeners.values():
                    for queue in queues:
                        _end(queue)
                self.listeners.clear()
                if self.pubsub is pubsub:
                    self.pubsub = None
            try:
                await pubsub.aclose()
            except Exception:
                logger.debug("closing the broken subscription failed", exc_info=True)


def _end(queue: asyncio.Queue) -> None:
    """Tell a stream to end (None), even if its queue is full."""
    while True:
        try:
            queue.put_nowait(None)
            return
        except asyncio.QueueFull:
            queue.get_nowait()


def hub() -> Hub:
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        _hubs[loop] = Hub()
    return _hubs[loop]


def _signed_in(cookie_header: str) -> tuple[int, dict] | None:
    """The person the session cookie belongs to, checked exactly as Django checks it on a page (the session's
    password hash, an active account), and their badges' counts; None for anyone not signed in. Runs in a pooled
    thread and closes its database connection: the stream will not need it again."""
    from django.contrib.auth import get_user

    from marketplace.context_processors import header_counts

    key = parse_cookie(cookie_header).get(settings.SESSION_COOKIE_NAME)
    if not key:
        return None
    try:
        session = import_module(settings.SESSION_ENGINE).SessionStore(key)
        user = get_user(SimpleNamespace(session=session))  # get_user reads request.session only
        if not user.is_authenticated:
            return None
        return user.pk, header_counts(user.pk)
    finally:
        connections.close_all()


def _event(name: str, data) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()


async def _answer(send, status: int) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": b""})


async def stream(scope, receive, send) -> None:
    if scope.get("method") != "GET":
        return await _answer(send, 405)
    if not live.enabled():
        return await _answer(send, 204)
    cookie = b"; ".join(value for name, value in scope.get("headers", []) if name == b"cookie").decode("latin-1")
    person = await sync_to_async(_signed_in, thread_sensitive=False)(cookie)
    if person is None:
        return await _answer(send, 403)
    user_id, counts = person
    name = live.channel(user_id)
    try:
        queue = await hub().join(name)
    except Exception:  # no Redis: the page polls
        logger.warning("live events: cannot subscribe", exc_info=True)
        return await _answer(send, 503)
    disconnected = asyncio.create_task(_disconnect(receive))
    try:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream; charset=utf-8"),
                    (b"cache-control", b"no-store"),
                    (b"x-accel-buffering", b"no"),  # nginx passes each event on at once
                    (b"x-content-type-options", b"nosniff"),
                ],
            }
        )
        opening = f"retry: {settings.LIVE_RETRY_MILLISECONDS}\n\n".encode() + _event("counts", counts)
        await send({"type": "http.response.body", "body": opening, "more_body": True})
        await _forward(queue, disconnected, send)
    except asyncio.CancelledError:
        # The server is shutting down (a deployment): the stream ends here, without an error in the log, and the
        # browser reconnects to a process that is still running.
        pass
    finally:
        disconnected.cancel()
        await hub().leave(name, queue)
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _forward(queue: asyncio.Queue, disconnected: asyncio.Task, send) -> None:
    """Events as they come, a heartbeat comment when none came for LIVE_HEARTBEAT_SECONDS (it keeps proxies from
    closing an idle connection and finds browsers that left), until the browser leaves, the hub ends the stream,
    or LIVE_STREAM_MAX_SECONDS pass (the browser then reconnects, and its session is checked again)."""
    loop = asyncio.get_running_loop()
    closes_at = loop.time() + settings.LIVE_STREAM_MAX_SECONDS
    while not disconnected.done():
        left = closes_at - loop.time()
        if left <= 0:
            return
        getting = asyncio.ensure_future(queue.get())
        done, _ = await asyncio.wait(
            {getting, disconnected}, timeout=min(left, settings.LIVE_HEARTBEAT_SECONDS), return_when="FIRST_COMPLETED"
        )
        if getting not in done:
            getting.cancel()
            if not disconnected.done():
                await send({"type": "http.response.body", "body": b": heartbeat\n\n", "more_body": True})
            continue
        body = getting.result()
        if body is None:
            return
        event = json.loads(body)
        if event["event"] == live.REAUTH:
            return
        await send({"type": "http.response.body", "body": _event(event["event"], event["data"]), "more_body": True})


async def _disconnect(receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
