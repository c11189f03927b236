"""Logs one JSON object a line, each with the request it belongs to, and error reports to Sentry.

A request gets an id (nginx's `X-Request-ID`, else one of ours), sent back in the response's `X-Request-ID`.
Every log line written while the request runs carries it and the signed-in user's id; a Celery task queued by
that request carries the same id in its message headers, so its log lines (and the e-mail it sends) can be
traced to the click that caused them.
"""

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

from celery import current_task
from django.core.signals import request_finished
from django.dispatch import receiver

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
user_id_var: contextvars.ContextVar[int | None] = contextvars.ContextVar("user_id", default=None)

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestContextMiddleware:
    """First in the chain: names the request. The user's id is added once authentication has run (below)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request.request_id = incoming if _VALID_ID.match(incoming) else new_request_id()
        # Left set until the response is closed (request_finished, below): Django logs a 4xx or 5xx answer only
        # after the middlewares have returned, and that line belongs to this request too.
        request_id_var.set(request.request_id)
        user_id_var.set(None)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id
        return response


@receiver(request_finished)
def _forget_the_request(**kwargs) -> None:
    request_id_var.set("")
    user_id_var.set(None)


class RequestUserMiddleware:
    """After AuthenticationMiddleware: the signed-in user's id joins the log context."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            user_id_var.set(user.pk)
        return self.get_response(request)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(record, "request_id", None) or request_id_var.get()
        record.user_id = getattr(record, "user_id", None) or user_id_var.get()
        if current_task and current_task.request.id and not getattr(record, "task_name", None):
            record.task_name = current_task.name
            record.task_id = current_task.request.id
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id, user_id, task, and the exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or None,
            "user_id": getattr(record, "user_id", None),
        }
        task_name = getattr(record, "task_name", None)
        if task_name:
            entry["task"] = task_name
            entry["task_id"] = getattr(record, "task_id", None)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


# --- Celery: the request's id travels with the task it queues ------------------------------------------------


def task_publish_add_request_id(headers=None, **kwargs) -> None:
    request_id = request_id_var.get()
    if headers is not None and request_id and "request_id" not in headers:
        headers["request_id"] = request_id


def task_prerun_set_request_id(task=None, **kwargs) -> None:
    if task is None:
        return
    request_id = getattr(task.request, "request_id", None) or f"task-{task.request.id}"
    # Kept on the task's request, so postrun puts back what was there (nothing in a worker; the web request's
    # own id when a task runs eagerly inside it).
    task.request._log_context = (request_id_var.set(request_id), user_id_var.set(None))


def task_postrun_reset_request_id(task=None, **kwargs) -> None:
    tokens = getattr(task.request, "_log_context", None) if task is not None else None
    if tokens:
        request_id_var.reset(tokens[0])
        user_id_var.reset(tokens[1])


def connect_celery_signals() -> None:
    from celery.signals import before_task_publish, task_postrun, task_prerun

    before_task_publish.connect(task_publish_add_request_id, weak=False)
    task_prerun.connect(task_prerun_set_request_id, weak=False)
    task_postrun.connect(task_postrun_reset_request_id, weak=False)


# --- Sentry ---------------------------------------------------------------------------------------------------


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float = 0.0) -> None:
    """Errors of the site and of the workers go to Sentry; no personal data (no cookies, bodies, user e-mails,
    addresses) unless a later decision says otherwise. The request id is attached as a tag."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    def add_request_id(event, hint):
        request_id = request_id_var.get()
        if request_id:
            event.setdefault("tags", {})["request_id"] = request_id
        return event

    def redis_command_only(crumb, hint):
        # A Redis key can be a secret: the session's key (sessions live in the cache) signs its user in.
        if crumb.get("category") == "redis":
            command = crumb.get("data", {}).get("redis.command", "")
            crumb["message"] = command
            crumb["data"] = {"redis.command": command}
        return crumb

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # No personal data: no user identity, cookies, bodies, query strings or local variables (which hold
        # e-mails and card numbers); what the code was doing is in the stack trace and the request id.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "database_query_data": False,
            "stack_frame_variables": False,
        },
        traces_sample_rate=traces_sample_rate,
        before_send=add_request_id,
        before_breadcrumb=redis_command_only,
    )
