"""Fixtures every app's tests share: the real services, the system Chromium, and the e-mail outbox. Only
fixtures: helpers that tests call are in marketplace/testing.py (and each app's tests/factories.py)."""

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make beside it are
# ordinary synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def _missing(what: str, required: bool) -> None:
    if required:
        pytest.fail(f"{what} (required by the environment)")
    pytest.skip(what)


@pytest.fixture(autouse=True)
def _outbox_email(settings):
    """Django's test set-up swaps EMAIL_BACKEND for locmem; put our outbox back, so tests exercise the real
    path: outbox row → Celery task → delivery backend (locmem here, so mail.outbox shows what was sent)."""
    settings.EMAIL_BACKEND = "notifications.backends.OutboxEmailBackend"
    mail.outbox = []


@pytest.fixture(autouse=True)
def _english_to_start_with():
    """A request in Persian leaves Persian active in the thread; each test starts from English."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def media_dirs(settings, tmp_path):
    """Each test writes its files to its own folders, so a test can see exactly what reached the disk."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    return tmp_path


@pytest.fixture(autouse=True)
def _fresh_redis_cache():
    """Redis outlives a test (the database cache is rolled back with the test's database): start each test
    with an empty one, and with the failover cache trusting Redis again."""
    from django.core.cache import caches

    from marketplace.cache import FailoverCache

    FailoverCache._down_until = 0.0
    if "redis" in django_settings.CACHES:
        caches["redis"].clear()


@pytest.fixture
def require_postgres(db):
    from django.db import connection

    if connection.vendor != "postgresql":
        _missing("PostgreSQL does not answer; this test needs it", REQUIRE_SERVICES)


@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_URL")
    if not django_settings.SERVICES["redis"] or not url:
        _missing("Redis does not answer at 127.0.0.1:6379; this test needs it", REQUIRE_SERVICES)
    return url


# --- the browser ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        _missing(f"Chromium not found at {CHROMIUM} (apt-get install chromium)", REQUIRE_BROWSER)
    try:
        import playwright  # noqa: F401
    except ImportError:
        _missing("Playwright for Python is not installed", REQUIRE_BROWSER)
    return {
        "executable_path": CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
        "headless": True,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "locale": "en-US"}


@pytest.fixture(autouse=True)
def _skill_catalogue(request):
    """A transactional test empties every table when it ends, the skill catalogue that a data migration loaded
    too; the next transactional test gets it back here."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (
        "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
        or (marker is not None and marker.kwargs.get("transaction"))
    )
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    from projects.catalogue_loader import load_catalogue
    from projects.models import Category, Skill

    if not Skill.objects.exists():
        load_catalogue(Category, Skill)


@pytest.fixture
def site(live_server, transactional_db, settings):
    """The live site's base URL, with a transactional database behind it; it is the site's public address
    (SITE_URL), so the links in the e-mails it sends lead back to it."""
    settings.SITE_URL = live_server.url
    return live_server.url


@pytest.fixture
def asgi_server(transactional_db, redis_url):
    """The ASGI application (pages and the live stream) under uvicorn, with Redis behind the stream."""
    from marketplace.testing import AsgiServer

    server = AsgiServer().start()
    yield server
    server.stop()


@pytest.fixture
def login_as(site, page):
    """Sign the browser page in as a user (a real session, made by Django's test client)."""
    from marketplace.testing import sign_in

    def login(user, language="en"):
        sign_in(page.context, site, user, language)
        return user

    return login


# --- local servers that speak real protocols -------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_server():
    """moto's standalone S3 server on 127.0.0.1, for the whole run."""
    from marketplace.servers import S3Server, moto_server_command

    if moto_server_command() is None:
        _missing("moto_server is not installed (requirements-dev.txt); the S3 tests need it", REQUIRE_SERVICES)
    server = S3Server().start()
    yield server
    server.stop()


@pytest.fixture
def s3_storage(s3_server, settings, request):
    """Uploaded files go to a fresh bucket on the local S3 server for this test; returns (server, bucket)."""
    bucket = s3_server.create_bucket(f"hamkar-{os.getpid()}-{abs(hash(request.node.nodeid)) % 10**8}")
    settings.STORAGES = s3_server.storages_setting(bucket)
    settings.FILE_STORAGE = "s3"
    return s3_server, bucket


@pytest.fixture
def zarinpal(settings):
    """A local server speaking Zarinpal's REST API v4 and StartPay page; toman payments go to it."""
    from escrow.tests.gateway_servers import ZarinpalServer

    server = ZarinpalServer().start()
    settings.PAYMENT_GATEWAYS = {**settings.PAYMENT_GATEWAYS, "IRT": "zarinpal"}
    settings.ZARINPAL_MERCHANT_ID = server.MERCHANT_ID
    settings.ZARINPAL_API_BASE = server.api_base
    settings.ZARINPAL_STARTPAY_URL = server.startpay
    settings.PAYMENT_GATEWAY_TIMEOUT = 1.0
    yield server
    server.stop()


@pytest.fixture
def stripe_server(settings):
    """A local server speaking Stripe's Checkout Session API, hosted page and signed webhooks; dollar and euro
    payments go to it."""
    from escrow.tests.gateway_servers import StripeServer

    server = StripeServer().start()
    settings.PAYMENT_GATEWAYS = {**settings.PAYMENT_GATEWAYS, "USD": "stripe", "EUR": "stripe"}
    settings.STRIPE_SECRET_KEY = server.SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = server.WEBHOOK_SECRET
    settings.STRIPE_API_BASE = server.base
    settings.STRIPE_CHECKOUT_ORIGIN = server.base
    settings.PAYMENT_GATEWAY_TIMEOUT = 1.0
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _close_browser_contexts(request):
    """Close every browser context a test opened (page_as makes its own): an open page keeps its connection to the
    live server, whose request thread then keeps a database connection for the rest of the run."""
    yield
    if "browser" in request.fixturenames:
        for context in list(request.getfixturevalue("browser").contexts):
            context.close()
