"""Exactly one beat: two beat processes on one Redis, as when two machines each start one (RedBeat's lock)."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import redis

BASE_DIR = Path(__file__).resolve().parents[2]


def _start_beat(tmp_path, name: str, env: dict) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / f"{name}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "marketplace", "beat", "--loglevel=INFO",
         f"--schedule={tmp_path / name}-schedule"],
        cwd=BASE_DIR, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    return process, log


def _sends(log: Path) -> list[str]:
    return re.findall(r"Sending due task (tick-\d+s)", log.read_text(errors="replace"))


def _queued(client: redis.Redis, queue: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for raw in client.lrange(queue, 0, -1):
        task = json.loads(raw)["headers"]["task"]
        counts[task] = counts.get(task, 0) + 1
    return counts


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def test_two_beats_send_each_periodic_task_once_per_period_and_the_second_takes_over(redis_url, tmp_path):
    queue = f"beat-test-{uuid.uuid4().hex[:8]}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DJANGO_SETTINGS_MODULE": "marketplace.tests.beat_settings",
        "DJANGO_ENV": "development",
        "REDIS_URL": redis_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "BEAT_TEST_QUEUE": queue,
    }
    client = redis.Redis.from_url(redis_url)
    first, first_log = _start_beat(tmp_path, "first", env)
    second, second_log = _start_beat(tmp_path, "second", env)
    try:
        # Count from the first send, not from the processes' start: how long Django takes to import is not
        # what this test measures (a loaded machine took long enough to make the count look short).
        deadline = time.monotonic() + 60
        while not (_sends(first_log) or _sends(second_log)) and time.monotonic() < deadline:
            time.sleep(0.1)
        started = time.monotonic()
        time.sleep(13)
        together = time.monotonic() - started
        sends = {"first": _sends(first_log), "second": _sends(second_log)}
        senders = [name for name, sent in sends.items() if sent]
        assert len(senders) == 1, sends  # one beat holds the lock; the other waits
        holder, _standby = (first, second) if senders == ["first"] else (second, first)
        standby_log = second_log if senders == ["first"] else first_log
        sent = sends[senders[0]]
        # Once per period (and once at start), never twice: 13 s is 6.5 periods of 2 s and 4.3 of 3 s.
        assert together / 2 - 2 <= sent.count("tick-2s") <= together / 2 + 1.5, sent
        assert together / 3 - 2 <= sent.count("tick-3s") <= together / 3 + 1.5, sent
        # Every send reached the queue once. The beat keeps sending while this reads, and logs a send just before
        # it publishes it: the queue holds at least what was logged before it was read (but the one in flight),
        # and at most what was logged after.
        queued = _queued(client, queue)
        after = _sends(first_log if senders == ["first"] else second_log)
        for tick, task in (("tick-2s", "notifications.tasks.send_queued_emails"),
                           ("tick-3s", "workspace.tasks.release_due_escrow")):  # fmt: skip
            assert sent.count(tick) - 1 <= queued.get(task, 0) <= after.count(tick), (tick, queued, after)

        # The machine holding the lock dies; the other beat takes over once the lock expires (4 s here).
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(10)
        time.sleep(12)
        taken_over = _sends(standby_log)
        assert taken_over.count("tick-2s") >= 2, standby_log.read_text()[-2000:]
    finally:
        for process in (first, second):
            _stop(process)
        client.delete(queue)
        for key in client.scan_iter(f"{queue}:*"):
            client.delete(key)
