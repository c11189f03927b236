"""The Celery application. Settings come from Django's, under the CELERY_ namespace."""

import os

from celery import Celery
from celery.signals import beat_init, worker_init

from marketplace.observability import connect_celery_signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")

app = Celery("marketplace")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
connect_celery_signals()


@worker_init.connect(weak=False)
@beat_init.connect(weak=False)
def refuse_half_configuration(**kwargs) -> None:
    """A worker or beat in production will not start on a half configuration (as gunicorn will not).

    Celery logs and swallows exceptions raised by signal handlers, so this one leaves the process itself."""
    import sys

    from django.core.exceptions import ImproperlyConfigured

    from marketplace.checks import refuse_to_start_if_misconfigured

    try:
        refuse_to_start_if_misconfigured()
    except ImproperlyConfigured as error:
        print(f"ImproperlyConfigured: {error}", file=sys.stderr)
        raise SystemExit(1) from error
