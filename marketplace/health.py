"""GET /health/: is each service this site needs answering, and how fast.

Answered by a middleware at the top of the chain, before host validation and the HTTPS redirect: a load balancer
calls each machine by its address over plain HTTP. The body names database, cache, broker and storage, each
`ok` or `error` with a reason (an exception's class and message, never a URL or a credential) and a latency in
milliseconds; 200 when all are ok, 503 otherwise. Each probe gives up after about a second, so the check stays
cheap enough to run every few seconds.
"""

import functools
import re
import time
import uuid

from django.conf import settings
from django.http import JsonResponse

PATH = "/health/"
TIMEOUT = 1.0  # seconds, for each network probe
_CREDENTIALS = re.compile(r"://[^@/\s]+@")


def _database() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    from django.core.cache import caches

    # The cache behind the failover: the health check must see Redis itself, not the database stand-in.
    cache = caches["redis"] if "redis" in settings.CACHES else caches["default"]
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("the value written was not read back")
    cache.delete(key)


def _broker() -> None:
    url = settings.CELERY_BROKER_URL
    if url.startswith(("redis://", "rediss://")):
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)
        try:
            client.ping()
        finally:
            client.close()
        return
    if url.startswith("filesystem://"):
        import os

        if not os.access(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"], os.W_OK):
            raise RuntimeError("the broker folder is not writable")
        return
    from kombu import Connection

    with Connection(url, connect_timeout=TIMEOUT) as connection:  # any other broker kombu speaks
        connection.ensure_connection(max_retries=1)


@functools.cache
def _s3_client():
    """One client per process: making one costs more than the probe itself."""
    import boto3
    from botocore.config import Config
    from django.core.files.storage import storages

    storage = storages["private"]
    return boto3.client(
        "s3",
        endpoint_url=storage.endpoint_url,
        region_name=storage.region_name,
        aws_access_key_id=storage.access_key,
        aws_secret_access_key=storage.secret_key,
        config=Config(connect_timeout=TIMEOUT, read_timeout=TIMEOUT, retries={"max_attempts": 0}),
    ), storage.bucket_name


def _storage() -> None:
    if settings.FILE_STORAGE == "s3":
        client, bucket = _s3_client()
        client.head_bucket(Bucket=bucket)
        return
    import os

    for folder in (settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT):
        os.makedirs(folder, exist_ok=True)  # as the storage itself would on the first upload
        if not os.access(folder, os.W_OK):
            raise RuntimeError("an upload folder is not writable")


PROBES = {"database": _database, "cache": _cache, "broker": _broker, "storage": _storage}


def _reason(error: Exception) -> str:
    """The failure's class and message, with any credentials in a URL (user:password@) blanked out."""
    return _CREDENTIALS.sub("://***@", f"{type(error).__name__}: {error}")[:200]


def health_report() -> tuple[bool, dict]:
    services = {}
    for name, probe in PROBES.items():
        started = time.perf_counter()
        try:
            probe()
        except Exception as error:  # noqa: BLE001 — any failure is a finding, reported with its reason
            services[name] = {"status": "error", "error": _reason(error)}
        else:
            services[name] = {"status": "ok"}
        services[name]["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    healthy = all(service["status"] == "ok" for service in services.values())
    return healthy, services


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != PATH or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        healthy, services = health_report()
        response = JsonResponse({"status": "ok" if healthy else "error", "services": services})
        response.status_code = 200 if healthy else 503
        response["Cache-Control"] = "no-store"
        return response
