"""Helpers shared by the test suites (imported by tests only)."""

import threading

from django.db import connection


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
