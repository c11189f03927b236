"""The contract machine's long walk: the state machine of workspace/tests/machine.py (both sides, staff and the
clocks, every step checked against the rules and the invariants) run for many steps on a scratch PostgreSQL
database.

    .venv/bin/python bench/contract_machine.py [--steps 100000] [--walk 50] [--shrink] [--keep]

Creates a scratch database (hamkar_bench_machine) on the PostgreSQL server of DATABASE_URL (default
postgres://postgres@127.0.0.1:5432), migrates it, then runs walks of at most --walk steps, each in a transaction
rolled back at its end, until --steps steps were taken. Prints progress, then the steps, walks and steps per
second and what each action did (tried, done, refused by the rules and the service alike); on the first breach
(an invariant, or a service that disagrees with the rules, or an error that is not a refusal) the error and the
steps that reproduce it, and exits 1. The test suite's settings are used (marketplace.test_settings: Celery
in-process, e-mail kept in memory, a fast password hasher for the users each walk makes). The database is dropped
at the end unless --keep.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from urllib.parse import urlparse

import psycopg

DB_NAME = "hamkar_bench_machine"
BASE_DIR = Path(__file__).resolve().parent.parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Walk the contract machine for a long time on PostgreSQL.")
    parser.add_argument("--steps", type=int, default=100_000, help="steps to take in all (default 100000)")
    parser.add_argument("--walk", type=int, default=50, help="most steps in one walk (default 50)")
    parser.add_argument("--shrink", action="store_true", help="shrink a failing walk to a short one (slow)")
    parser.add_argument("--keep", action="store_true", help=f"keep the {DB_NAME} database at the end")
    return parser.parse_args()


def server_url() -> str:
    """DATABASE_URL without its database name: the server the scratch database is made on."""
    parts = urlparse(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres")
    if not parts.scheme.startswith("postgres"):
        sys.exit(f"DATABASE_URL must name a PostgreSQL server, not {parts.scheme}")
    return parts._replace(path="").geturl()


def server_execute(server: str, statement: str) -> None:
    """Run one statement on the server's `postgres` database, outside any transaction."""
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def setup_django(server: str, media: str) -> None:
    server_execute(server, f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    server_execute(server, f"CREATE DATABASE {DB_NAME}")
    sys.path.insert(0, str(BASE_DIR))
    os.environ["DATABASE_URL"] = f"{server}/{DB_NAME}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "marketplace.test_settings"
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT = f"{media}/public", f"{media}/private"
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrated {DB_NAME} in {time.perf_counter() - started:.1f} s")


def walk(args: argparse.Namespace) -> tuple[int, float]:
    """Walk until --steps steps were taken; returns the exit status and the seconds spent walking."""
    from django.utils import translation
    from hypothesis import HealthCheck, Phase, settings
    from hypothesis.stateful import run_state_machine_as_test

    from workspace.tests.machine import STATS, ContractMachine

    translation.activate("en")
    phases = [Phase.generate, Phase.shrink] if args.shrink else [Phase.generate]
    batch = settings(
        max_examples=20,
        stateful_step_count=args.walk,
        deadline=None,
        database=None,
        phases=phases,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    started = time.perf_counter()
    while STATS["steps"] < args.steps:
        try:
            run_state_machine_as_test(ContractMachine, settings=batch)
        except Exception:  # noqa: BLE001 — a breach, or any error that is not a refusal: each is a finding
            print(f"\nBREACH after {STATS['steps']} steps (the walk that led to it is below the error):")
            traceback.print_exc()
            return 1, time.perf_counter() - started
        elapsed = time.perf_counter() - started
        print(
            f"  {STATS['steps']:>7} steps, {STATS['walks']:>5} walks, {elapsed:7.0f} s, "
            f"{STATS['steps'] / elapsed:5.1f} steps/s",
            flush=True,
        )
    return 0, time.perf_counter() - started


def report(status: int, elapsed: float, walk_length: int) -> None:
    from workspace.tests.machine import ACTIONS, STATS

    steps = STATS["steps"]
    rate = steps / elapsed
    print(f"\nsteps           {steps} in {elapsed:.0f} s = {rate:.1f} per second")
    print(f"walks           {STATS['walks']} (Hypothesis examples), of at most {walk_length} steps each")
    print(f"100,000 steps   would take about {100_000 / rate / 60:.0f} minutes at this rate")
    print(f"{'action':<18}{'tried':>8}{'done':>8}{'refused':>9}{'nothing to act on':>19}")
    for action in ("top_up", *ACTIONS, "time_passes"):
        counts = [STATS[f"{kind} {action}"] for kind in ("tried", "done", "refused", "nothing to")]
        print(f"{action:<18}{counts[0]:>8}{counts[1]:>8}{counts[2]:>9}{counts[3]:>19}")
    sweep = ", ".join(f"{key[6:]} {count}" for key, count in sorted(STATS.items()) if key.startswith("sweep "))
    print(f"the sweep       {sweep}")
    print("result          " + ("a BREACH (above)" if status else "every invariant held and the rules agreed"))


def main() -> None:
    args = parse_args()
    server = server_url()
    media = tempfile.mkdtemp(prefix="hamkar-machine-")
    status = 1
    try:
        setup_django(server, media)
        status, elapsed = walk(args)
        report(status, elapsed, args.walk)
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(media, ignore_errors=True)
        if not args.keep:
            server_execute(server, f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    sys.exit(status)


if __name__ == "__main__":
    main()
