"""GET /health/, the JSON log lines with their request id (also in the Celery task a request queued), and error
reports to a Sentry server (a local HTTP server that receives what the SDK sends)."""

import gzip
import http.server
import json
import logging
import re
import threading

import brotli
import pytest
from django.test import Client
from django.urls import path

from marketplace.observability import ContextFilter, JsonFormatter, request_id_var, user_id_var
from marketplace.servers import free_port


@pytest.mark.django_db
def test_health_names_every_service_and_answers_200_when_all_are_ok(client):
    response = client.get("/health/", HTTP_HOST="10.0.0.9")  # by address, as a load balancer calls
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["services"]) == {"database", "cache", "broker", "storage"}
    for service in body["services"].values():
        assert service["status"] == "ok"
        assert service["latency_ms"] >= 0
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_health_says_which_service_fails_and_why_with_503(client, settings, redis_url):
    settings.CELERY_BROKER_URL = "redis://:hunter2@127.0.0.1:1/0"
    settings.CACHES = {**settings.CACHES, "redis": {**settings.CACHES["redis"], "LOCATION": "redis://127.0.0.1:1/0"}}
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["services"]["database"]["status"] == "ok"
    for name in ("broker", "cache"):
        assert body["services"][name]["status"] == "error"
        assert "Connect" in body["services"][name]["error"] or "connect" in body["services"][name]["error"]
    assert "hunter2" not in response.content.decode()


@pytest.mark.django_db
def test_health_reports_object_storage_down(client, settings, s3_server):
    settings.STORAGES = s3_server.storages_setting("no-such-bucket")
    settings.FILE_STORAGE = "s3"
    from marketplace import health

    health._s3_client.cache_clear()
    try:
        body = client.get("/health/").json()
    finally:
        health._s3_client.cache_clear()
    assert body["services"]["storage"]["status"] == "error"
    assert "404" in body["services"]["storage"]["error"] or "Not Found" in body["services"]["storage"]["error"]


def test_a_json_log_line_has_the_request_id_user_and_exception():
    formatter = JsonFormatter()
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("hamkar", logging.ERROR, __file__, 1, "Failed for %s", ("حمید",), sys.exc_info())
    record.request_id, record.user_id = "abc123def456", 42
    line = formatter.format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "Failed for حمید"
    assert entry["request_id"] == "abc123def456" and entry["user_id"] == 42
    assert entry["level"] == "ERROR" and "ValueError: boom" in entry["exception"]


def test_a_failure_reason_never_carries_the_credentials_of_a_url():
    from marketplace.health import _reason

    reason = _reason(RuntimeError("Error connecting to redis://hamkar:hunter2@10.0.0.5:6379/0 (refused)"))
    assert "hunter2" not in reason and "hamkar:" not in reason
    assert reason.startswith("RuntimeError: Error connecting to redis://***@10.0.0.5:6379/0")


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.addFilter(ContextFilter())
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.mark.django_db
def test_a_requests_log_lines_carry_its_id_and_the_signed_in_user():
    from accounts.tests.factories import UserFactory

    user = UserFactory()
    client = Client()
    client.force_login(user)
    handler = _Collect()
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="nginx-request-0002")
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 404
    assert response["X-Request-ID"] == "nginx-request-0002"
    record = next(r for r in handler.records if "Not Found" in r.getMessage())
    assert (record.request_id, record.user_id) == ("nginx-request-0002", user.pk)
    # After the request, nothing of it is left behind for the next one.
    assert request_id_var.get() == "" and user_id_var.get() is None


@pytest.mark.django_db(transaction=True)
def test_a_task_queued_by_a_request_carries_the_requests_id(redis_url):
    """Sign-up queues the verification e-mail's delivery on commit, inside the request: the message published to
    the broker carries the request's id in its headers."""
    from celery.signals import before_task_publish

    from marketplace.celery import app

    published = []

    def remember(headers=None, **kwargs):
        published.append(dict(headers or {}))

    before_task_publish.connect(remember, weak=False)
    app.conf.task_always_eager = False
    try:
        response = Client().post(
            "/accounts/signup/",
            {"email": "ids@example.com", "username": "ids", "password1": "Sturdy-pass-2026",
             "password2": "Sturdy-pass-2026"},
            HTTP_X_REQUEST_ID="nginx-request-0001",
        )  # fmt: skip
    finally:
        app.conf.task_always_eager = True
        before_task_publish.disconnect(remember)
        with app.connection_for_write() as connection:
            connection.default_channel.queue_purge(app.conf.task_default_queue)
    assert response.status_code == 302
    deliveries = [h for h in published if h.get("task") == "notifications.tasks.deliver_email"]
    assert [h.get("request_id") for h in deliveries] == ["nginx-request-0001"]


@pytest.mark.django_db  # the home page is served from the cache, a table when Redis is absent
def test_a_forged_request_id_is_replaced_and_a_good_one_kept():
    for forged in ("<script>", "bad id\nwith newline", "x" * 200):
        answer = Client().get("/", HTTP_X_REQUEST_ID=forged)
        assert answer["X-Request-ID"] != forged and re.fullmatch(r"[0-9a-f]{32}", answer["X-Request-ID"])
    assert Client().get("/", HTTP_X_REQUEST_ID="0123456789abcdef")["X-Request-ID"] == "0123456789abcdef"


class _SentryIngest(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        # As Sentry does: the SDK compresses with brotli when the brotli package is installed, else with gzip.
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            body = brotli.decompress(body)
        self.received.append((self.path, body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def _boom(request):
    raise RuntimeError("a bug that Sentry must hear about")


urlpatterns = [path("boom/", _boom)]


def test_an_error_reaches_sentry_without_personal_data(site, django_user_model, settings):
    """Through a real WSGI server (the live server), as gunicorn runs the site: Sentry's Django integration sees
    the whole request, and must still send no e-mail, session cookie or query string."""
    import urllib.error
    import urllib.request

    import sentry_sdk

    from marketplace.observability import sentry_init

    port = free_port()
    server = http.server.HTTPServer(("127.0.0.1", port), _SentryIngest)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _SentryIngest.received = []
    user = django_user_model.objects.create_user(username="victim", email="victim@example.com", password="x" * 12)
    session = Client()
    session.force_login(user)
    settings.ROOT_URLCONF = __name__
    try:
        sentry_init(dsn=f"http://publickey@127.0.0.1:{port}/42", environment="test")
        request = urllib.request.Request(  # noqa: S310 — our own live server
            f"{site}/boom/?card=6037991234567890",
            headers={"Cookie": f"sessionid={session.cookies['sessionid'].value}", "X-Request-ID": "sentry-test-0001"},
        )
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(request, timeout=10)  # noqa: S310 — our own live server
        assert error.value.code == 500
        sentry_sdk.flush(timeout=5)
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init(dsn=None)
        server.shutdown()
    assert _SentryIngest.received, "no event reached the Sentry server"
    path_, body = _SentryIngest.received[0]
    assert path_ == "/api/42/envelope/"
    text = body.decode(errors="replace")
    assert "a bug that Sentry must hear about" in text
    assert "/boom/" in text  # the request itself is described
    assert "sentry-test-0001" in text  # and tagged with its id
    assert "victim@example.com" not in text and session.cookies["sessionid"].value not in text
    assert "6037991234567890" not in text


def test_gunicorns_access_log_line_stays_one_json_object_whatever_the_path():
    import importlib.util

    from django.conf import settings as django_settings

    spec = importlib.util.spec_from_file_location("gunicorn_conf", django_settings.BASE_DIR / "deploy/gunicorn.conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    atoms = {"t": "[30/Nov/2026:12:00:00 +0000]", "m": "GET", "U": '/x\\",\n"status": 999', "s": 200, "B": None,
             "M": 3, "{x-request-id}o": "abc123def456"}  # fmt: skip
    line = conf.access_log_format % conf._JsonAtoms(atoms)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["path"] == '/x\\",\n"status": 999'
    assert entry["status"] == 200 and entry["bytes"] is None and entry["request_id"] == "abc123def456"
