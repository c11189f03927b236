"""gunicorn's settings for the web machines (Procfile.production and scripts/production_rehearsal.py use it)."""

import json
import os

from gunicorn.glogging import Logger, SafeAtoms

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: one request at a time each, one database connection each (CONN_MAX_AGE keeps it open).
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))  # a 200 MB upload from nginx's buffer takes seconds
graceful_timeout = 30
# Recycle workers now and then (a slow leak cannot grow for ever); jitter keeps them from restarting together. Each
# restart imports the site again (about a second of CPU): at 2,000 a busy worker restarted every few seconds, which
# bench/load_bench.py measured as a quarter of the machine.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 — gunicorn's heartbeat files, in RAM
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
# One JSON object a line, like the application's logs; request_id is the response's X-Request-ID (nginx's, or the
# one the site made up when called directly).
access_log_format = (
    '{"time": "%(t)s", "logger": "gunicorn.access", "request_id": "%({x-request-id}o)s", "method": "%(m)s", '
    '"path": "%(U)s", "status": %(s)s, "bytes": %(B)s, "duration_ms": %(M)s, "instance": "'
    + os.environ.get("INSTANCE_NAME", "web")
    + '"}'
)


class _JsonAtoms(SafeAtoms):
    """Each text value escaped for a JSON string: gunicorn escapes only double quotes, so a path holding a
    backslash or a newline (%5C, %0A) would otherwise break the line or split it in two."""

    def __init__(self, atoms):
        dict.__init__(self)
        for key, value in atoms.items():
            if isinstance(value, str):
                value = json.dumps(value)[1:-1]
            self[key] = "null" if value is None else value


class JsonAccessLogger(Logger):
    atoms_wrapper_class = _JsonAtoms


logger_class = JsonAccessLogger
