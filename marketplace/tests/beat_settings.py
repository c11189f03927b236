"""Settings for the two-beats test (test_beat.py): short periods, a queue and lock of the test's own."""

import os

from marketplace.settings import *  # noqa: F403

CELERY_BEAT_SCHEDULE = {
    "tick-2s": {"task": "notifications.tasks.send_queued_emails", "schedule": 2.0},
    "tick-3s": {"task": "workspace.tasks.release_due_escrow", "schedule": 3.0},
}
CELERY_TASK_DEFAULT_QUEUE = os.environ["BEAT_TEST_QUEUE"]
CELERY_REDBEAT_KEY_PREFIX = os.environ["BEAT_TEST_QUEUE"] + ":"
CELERY_REDBEAT_LOCK_TIMEOUT = 4
CELERY_BEAT_MAX_LOOP_INTERVAL = 1
