"""Helpers shared by the test suites (imported by tests only); the fixtures are in conftest.py, the ways to make
rows in a state in each app's tests/factories.py."""

import contextlib
import http.client
import json
import os
import socket
import threading
import time
import tracemalloc
from pathlib import Path
from urllib.parse import urlsplit

from allauth.core.internal.ratelimit import get_cache_key, parse_rates
from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.db import connection
from django.test import Client

from marketplace.ratelimits import APP
from marketplace.servers import free_port


def files_under(root) -> list:
    """The files below `root`, as sorted paths relative to it."""
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*") if p.is_file())


def run_in_threads(count: int, action) -> list:
    """Start `count` real threads that call `action()` at the same moment; return what each returned or raised.
    Each thread closes its own database connection when done."""
    barrier = threading.Barrier(count)
    outcomes = []

    def run():
        try:
            barrier.wait()
            outcomes.append(action())
        except Exception as error:  # noqa: BLE001 — every outcome is returned and asserted on
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def spooled_upload(name: str, content_type: str, fill) -> TemporaryUploadedFile:
    """An upload as Django hands a large one to a view: a TemporaryUploadedFile on disk. `fill(file)` writes its
    content, in chunks, so the test itself never holds it in memory. Closing the upload deletes the file."""
    upload = TemporaryUploadedFile(name, content_type, 0, None)
    fill(upload.file)
    upload.size = upload.file.seek(0, os.SEEK_END)
    upload.seek(0)
    return upload


def peak_memory(action) -> tuple:
    """Run `action()`; return what it returned and the peak of the Python memory it allocated, in bytes."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    try:
        result = action()
        return result, tracemalloc.get_traced_memory()[1] - before
    finally:
        if started:
            tracemalloc.stop()


# --- the browser ----------------------------------------------------------------------------------------


def session_cookie(user) -> str:
    """The value of a real session cookie for `user` (made by Django's test client)."""
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def sign_in(context, site: str, user, language: str | None = "en") -> None:
    """Give a browser context a real session for `user`, and a language."""
    cookies = [{"name": settings.SESSION_COOKIE_NAME, "value": session_cookie(user), "url": site}]
    if language:
        cookies.append({"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": site})
    context.add_cookies(cookies)


def page_as(browser, site: str, user, language: str | None = "en", **context_options):
    """A page in a browser context of its own, signed in as `user` (for tests with several people at once)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **context_options)
    sign_in(context, site, user, language)
    return context.new_page()


# --- axe-core, the accessibility checker -----------------------------------------------------------------

AXE_VERSION = "4.14.1"
AXE_INTEGRITY = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="


def axe_script() -> str:
    """axe-core's browser script, from the npm registry (pinned, checked against the registry's sha512), kept
    in var/vendor/ after the first run. The tests inject it into the page under test; users never load it."""
    import base64
    import hashlib
    import io
    import tarfile
    import urllib.request

    target = Path(settings.BASE_DIR) / "var" / "vendor" / f"axe-core-{AXE_VERSION}" / "axe.min.js"
    if not target.exists():
        url = f"https://registry.npmjs.org/axe-core/-/axe-core-{AXE_VERSION}.tgz"
        with urllib.request.urlopen(url, timeout=60) as response:
            tarball = response.read()
        digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
        if digest != AXE_INTEGRITY:
            raise OSError(f"axe-core {AXE_VERSION} from {url} does not match its integrity hash ({digest})")
        with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
            script = archive.extractfile("package/axe.min.js").read()
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: two test processes (pytest-xdist workers) may fetch it at once.
        partial = target.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(script)
        partial.replace(target)
    return target.read_text()


def queries_beyond_the_cache(captured) -> list[str]:
    """The SQL of a CaptureQueriesContext, less the database cache's own statements: without Redis (development,
    `make test` without services) the cache is a table, and reading a cached page is a query on it."""
    table = settings.CACHES.get("db", settings.CACHES["default"]).get("LOCATION", "cache_table")
    return [query["sql"] for query in captured.captured_queries if table not in query["sql"]]


def rate_limit_window_passes(user, action: str) -> None:
    """What the passing of time does to `user`'s count of `action` (settings.USER_RATE_LIMITS,
    marketplace/ratelimits.py): every use recorded in the cache becomes older than its window, as if the window had
    gone by, so a test sees the limit free up without sleeping for a minute."""
    for rate in parse_rates(settings.USER_RATE_LIMITS[action]):
        key = get_cache_key(None, app=APP, action=action, rate=rate, user=user)
        cache.set(key, [moment - rate.duration for moment in cache.get(key, [])], rate.duration)


# --- the ASGI server and its live stream ---------------------------------------------------------------------


class AsgiServer:
    """marketplace.asgi's application under uvicorn, in a thread of the test process (so it shares the test's
    settings and database), on a free port; static files served as runserver would."""

    def __init__(self):
        import uvicorn
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

        from marketplace.asgi import application

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            ASGIStaticFilesHandler(application),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            loop="asyncio",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> "AsgiServer":
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        # Django's ASGI handler runs each request's sync code in a thread of its own; the connections those threads
        # opened outlive them (the test settings keep connections, CONN_MAX_AGE). They would keep the test
        # database from being emptied or dropped: end them. (Production's ASGI server serves only the live stream,
        # which closes its connection itself.)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


class EventStream:
    """A browser's EventSource, read in a thread: the status, then every event (name, data) and heartbeat as they
    arrive. `wait_for(name)` returns the next event of that name not yet taken."""

    def __init__(self, base_url: str, cookie: str | None):
        parts = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        headers = {"Accept": "text/event-stream"}
        if cookie:
            headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={cookie}"
        self.connection.request("GET", settings.LIVE_EVENTS_PATH, headers=headers)
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.events: list[tuple[str, dict]] = []
        self.heartbeats = 0
        self.ended = threading.Event()
        self._changed = threading.Condition()
        self._taken = 0
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()
        else:
            self.ended.set()

    def _read(self) -> None:
        name, data = "message", ""
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                with self._changed:
                    if line.startswith(": "):
                        self.heartbeats += 1
                    elif line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: "):
                        data = line[6:]
                    elif line == "" and data:
                        self.events.append((name, json.loads(data)))
                        name, data = "message", ""
                    self._changed.notify_all()
        except (OSError, ValueError, AttributeError):  # the socket was shut by close()
            pass
        finally:
            self.ended.set()
            with self._changed:
                self._changed.notify_all()

    def wait_for(self, name: str, timeout: float = 10) -> dict:
        with self._changed:
            found = self._changed.wait_for(lambda: self._find(name) is not None or self.ended.is_set(), timeout)
            index = self._find(name)
            if not found or index is None:
                raise AssertionError(f"no {name!r} event within {timeout} s; got {self.events}")
            self._taken = max(self._taken, index + 1)
            return self.events[index][1]

    def _find(self, name: str) -> int | None:
        for index in range(self._taken, len(self.events)):
            if self.events[index][0] == name:
                return index
        return None

    def names(self) -> list[str]:
        with self._changed:
            return [name for name, _ in self.events]

    def close(self) -> None:
        """Hang up, as a closed tab does (shutting the socket down first wakes the reading thread)."""
        if self.connection.sock is not None:
            with contextlib.suppress(OSError):
                self.connection.sock.shutdown(socket.SHUT_RDWR)
        self.ended.wait(5)
        self.connection.close()
