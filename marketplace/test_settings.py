"""Settings for the test suite: the real services when they answer.

PostgreSQL (DATABASE_URL, else 127.0.0.1:5432 as postgres) and Redis (REDIS_URL, else 127.0.0.1:6379) are used
when they answer. When one does not, the suite runs on SQLite / the database cache and the tests that need the
service skip with a printed reason; with REQUIRE_SERVICES=1 a missing service is an error instead.
"""

import os
import socket
from urllib.parse import urlparse

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def _answers(url: str, default_port: int) -> bool:
    parts = urlparse(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


_database_url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/marketplace"
_redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
SERVICES = {
    "postgresql": _answers(_database_url, 5432) if _database_url.startswith("postgres") else False,
    "redis": _answers(_redis_url, 6379),
}
if REQUIRE_SERVICES and not all(SERVICES.values()):
    missing = ", ".join(name for name, up in SERVICES.items() if not up)
    raise RuntimeError(f"REQUIRE_SERVICES=1 but these services do not answer: {missing}")

if SERVICES["postgresql"]:
    os.environ["DATABASE_URL"] = _database_url
elif os.environ.get("DATABASE_URL", "").startswith("postgres"):
    del os.environ["DATABASE_URL"]


def _worker_redis_url(url: str, worker: str) -> str:
    """Each pytest-xdist worker (gw0, gw1, ...) gets a Redis database of its own, since a test empties its database
    and a Celery worker consumes from it: REDIS_URL's for gw0, then the next ones up, or down once past 15."""
    parts = urlparse(url)
    base = int(parts.path.strip("/") or 0)
    index = int(worker.removeprefix("gw"))
    number = base + index if base + index <= 15 else base - index
    if not 0 <= number <= 15:
        raise RuntimeError(f"no Redis database left for xdist worker {worker} (REDIS_URL {url})")
    return parts._replace(path=f"/{number}").geturl()


if os.environ.get("PYTEST_XDIST_WORKER"):
    _redis_url = _worker_redis_url(_redis_url, os.environ["PYTEST_XDIST_WORKER"])
if SERVICES["redis"]:
    os.environ["REDIS_URL"] = _redis_url
else:
    os.environ.pop("REDIS_URL", None)
os.environ.setdefault("DJANGO_ENV", "development")

from marketplace.settings import *  # noqa: E402,F403
from marketplace.settings import BASE_DIR, USER_RATE_LIMITS  # noqa: E402

# Tests exercise production's account policy: an address must be verified before logging in.
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
# Celery tasks run in-process, through the real task functions; tests/test_celery_worker.py runs a real
# worker on Redis.
CELERY_TASK_ALWAYS_EAGER = True
EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
PRIVATE_MEDIA_ROOT = BASE_DIR / "var" / "test-private"
# Rate limits are tested on their own (accounts/tests/test_rate_limits.py); the other tests sign up and log in
# many users from one address.
ACCOUNT_RATE_LIMITS = False
# The per-user limits likewise (proposals/tests/test_rate_limits.py, projects/tests/test_rate_limits.py set theirs);
# the other tests send many messages, proposals and projects as one user.
USER_RATE_LIMITS = dict.fromkeys(USER_RATE_LIMITS, "")
