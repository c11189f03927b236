"""Ledger throughput under contention, beside pgbench's TPC-B measured in the same run on the same server.

    .venv/bin/python bench/ledger_bench.py [--processes 8 | --threads 8] [--seconds 15] [--warmup 3]
                                           [--accounts 20] [--pgbench-seconds 15] [--no-pgbench]

--processes N   N worker processes (the default, 8), each with its own django.setup() and its own connection,
                as gunicorn's workers would be; they start together on a barrier.
--threads N     N threads in one process instead (one interpreter: the GIL is part of what is measured).
--seconds S     how long the measured run lasts (15); every posting started before the end counts.
--warmup S      postings each worker makes before the barrier, not counted (3): connections open, code warm.
--accounts N    users (each with a funded wallet) and as many escrow accounts (20): the fewer, the more the
                workers fight over the same rows.
--pgbench-seconds S, --no-pgbench
                pgbench's TPC-B (pgbench -i -s 10 on a scratch database, then -c <clients> -j 2 -T S -n, the
                same number of clients as workers) is measured first, on its own database, and the ratio
                postings/s ÷ pgbench tps printed; --no-pgbench skips it.

Creates a scratch database (hamkar_ledger_bench), funds the wallets and escrows, then each worker posts money
movements until the time is up: fundings into escrow accounts (60%) and releases out of them (40%), wallets and
escrows picked at random, so workers fight over the same rows (and every release over the one revenue account).
Prints postings per second, median/p95/p99/max latency of a posting (the account lookups included), how many
were refused for insufficient funds, the SQL statements one funding and one release send, pgbench's tps and
latency, the ratio, and the result of check_ledger (exit 1 if it finds a breach). DEBUG is off, as in
production (Django keeps no query log), and PostgreSQL is made to CHECKPOINT before each measured run. The
scratch databases are dropped at the end. The load average is printed: another job on the machine moves both
figures, the ratio less.
"""

import argparse
import contextlib
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import psycopg

DB = "hamkar_ledger_bench"
PGBENCH_DB = "hamkar_ledger_bench_pgbench"
SERVER = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}
ADMIN_URL = f"postgresql://{SERVER['user']}@{SERVER['host']}:{SERVER['port']}/postgres"
BASE_DIR = Path(__file__).resolve().parents[1]
SEED = Decimal(10_000_000_000)  # per wallet: enough that fundings seldom run dry in a long run


def recreate_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def checkpoint() -> None:
    """Flush dirty pages now, so no checkpoint of the set-up falls inside a measured run."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django() -> None:
    os.environ.update(
        DATABASE_URL=f"postgres://{SERVER['user']}@{SERVER['host']}:{SERVER['port']}/{DB}",
        DJANGO_SETTINGS_MODULE="marketplace.settings",
        DEBUG="0",
    )
    os.environ.pop("REDIS_URL", None)
    if str(BASE_DIR) not in sys.path:
        sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


# --- pgbench ---------------------------------------------------------------------------------------------


def run_pgbench(clients: int, seconds: int) -> dict:
    """TPC-B on its own scratch database: tps (without the initial connection time) and average latency."""
    recreate_database(PGBENCH_DB)
    connect = ["-h", SERVER["host"], "-p", SERVER["port"], "-U", SERVER["user"]]
    try:
        subprocess.run(["pgbench", "-i", "-s", "10", "-q", *connect, PGBENCH_DB], check=True, capture_output=True)
        threads = min(2, clients)
        checkpoint()
        command = ["pgbench", "-c", str(clients), "-j", str(threads), "-T", str(seconds), "-n", *connect, PGBENCH_DB]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    finally:
        drop_database(PGBENCH_DB)
    tps = re.search(r"^tps = ([\d.]+) \(without initial connection time\)", output, re.M)
    latency = re.search(r"^latency average = ([\d.]+) ms", output, re.M)
    if not tps or not latency:
        raise SystemExit(f"could not read pgbench's output:\n{output}")
    return {"tps": float(tps.group(1)), "latency_ms": float(latency.group(1)), "command": " ".join(command)}


# --- the workers -----------------------------------------------------------------------------------------


def post_one(rng: random.Random, users: list, escrows: list, key: str) -> None:
    from escrow.ledger import post_funding, post_release

    escrow = rng.choice(escrows)
    if rng.random() < 0.6:
        post_funding(payer=rng.choice(users), escrow=escrow, amount=Decimal(rng.randint(1_000, 50_000)), key=f"f:{key}")
    else:
        post_release(
            escrow=escrow, freelancer=rng.choice(users), amount=Decimal(rng.randint(1_000, 30_000)), key=f"r:{key}"
        )


def work(number: int, user_ids: list, escrow_ids: list, warmup: float, seconds: float, barrier) -> dict:
    """Post for `warmup` seconds (not counted), wait for the others at the barrier, then post for `seconds`."""
    from accounts.models import User
    from escrow.ledger import InsufficientFunds
    from escrow.models import Account

    users = list(User.objects.filter(pk__in=user_ids))
    escrows = list(Account.objects.filter(pk__in=escrow_ids))
    rng = random.Random(number)
    step = 0
    warm_until = time.monotonic() + warmup
    while time.monotonic() < warm_until:
        with contextlib.suppress(InsufficientFunds):
            post_one(rng, users, escrows, f"warm:{number}:{step}")
        step += 1
    barrier.wait(timeout=600)
    latencies, refused = [], 0
    started = time.monotonic()
    end = started + seconds
    while (now := time.monotonic()) < end:
        try:
            post_one(rng, users, escrows, f"{number}:{step}")
        except InsufficientFunds:
            refused += 1
        latencies.append(time.monotonic() - now)
        step += 1
    return {"latencies": latencies, "refused": refused, "elapsed": time.monotonic() - started}


def process_main(number: int, user_ids, escrow_ids, warmup, seconds, barrier, results) -> None:
    setup_django()
    from django.db import connection

    try:
        results.put(work(number, user_ids, escrow_ids, warmup, seconds, barrier))
    except BaseException as error:  # the parent must hear of it, or it waits for ever
        barrier.abort()
        results.put({"error": repr(error)})
        raise
    finally:
        connection.close()


def run_processes(count: int, user_ids, escrow_ids, warmup, seconds) -> list[dict]:
    context = multiprocessing.get_context("spawn")  # a fresh interpreter each: nothing inherited but arguments
    barrier, results = context.Barrier(count + 1), context.Queue()
    workers = [
        context.Process(target=process_main, args=(n, user_ids, escrow_ids, warmup, seconds, barrier, results))
        for n in range(count)
    ]
    for worker in workers:
        worker.start()
    barrier.wait(timeout=600)
    outcomes = [results.get(timeout=seconds + 600) for _ in workers]
    for worker in workers:
        worker.join()
    return outcomes


def run_threads(count: int, user_ids, escrow_ids, warmup, seconds) -> list[dict]:
    from django.db import connection

    barrier, outcomes, lock = threading.Barrier(count + 1), [], threading.Lock()

    def thread_main(number: int) -> None:
        try:
            outcome = work(number, user_ids, escrow_ids, warmup, seconds, barrier)
        except BaseException as error:  # noqa: BLE001 — the run reports it and stops
            barrier.abort()
            outcome = {"error": repr(error)}
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=thread_main, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=600)
    for thread in threads:
        thread.join()
    return outcomes


# --- the run ---------------------------------------------------------------------------------------------


def seed(accounts: int) -> tuple[list[int], list[int], dict]:
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Profile, User
    from escrow.ledger import escrow_account, post_deposit, post_funding, post_release

    call_command("migrate", verbosity=0)
    users = User.objects.bulk_create(User(email=f"bench{n}@example.com", username=f"bench{n}") for n in range(accounts))
    Profile.objects.bulk_create(Profile(user=user) for user in users)
    for user in users:
        post_deposit(user=user, amount=SEED, currency="IRT", gateway="sandbox", key=f"seed:{user.pk}")
    escrows = [escrow_account(f"escrow:bench-{n}", "IRT") for n in range(accounts)]
    for n, escrow in enumerate(escrows):
        post_funding(payer=users[n], escrow=escrow, amount=Decimal(1_000_000), key=f"seed:escrow:{n}")
    post_release(escrow=escrows[0], freelancer=users[1], amount=Decimal(1_000), key="seed:release")  # revenue made
    with CaptureQueriesContext(connection) as funding:
        post_funding(payer=users[0], escrow=escrows[1], amount=Decimal(1_000), key="count:funding")
    with CaptureQueriesContext(connection) as release:
        post_release(escrow=escrows[1], freelancer=users[2], amount=Decimal(1_000), key="count:release")
    statements = {"funding": len(funding), "release": len(release)}
    return [u.pk for u in users], [e.pk for e in escrows], statements


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, round(len(ordered) * fraction) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--processes", type=int, help="worker processes (the default: 8)")
    mode.add_argument("--threads", type=int, help="threads in one process instead of processes")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--accounts", type=int, default=20, help="users (and as many escrow accounts)")
    parser.add_argument("--pgbench-seconds", type=int, default=15)
    parser.add_argument("--no-pgbench", action="store_true")
    args = parser.parse_args()
    clients = args.threads or args.processes or 8
    kind = "threads" if args.threads else "processes"

    load_before = os.getloadavg()
    pgbench = None if args.no_pgbench else run_pgbench(clients, args.pgbench_seconds)

    recreate_database(DB)
    setup_django()
    from django.db import connections

    from escrow.checks import ledger_check

    try:
        user_ids, escrow_ids, statements = seed(args.accounts)
        connections.close_all()
        checkpoint()
        run = run_threads if args.threads else run_processes
        outcomes = run(clients, user_ids, escrow_ids, args.warmup, args.seconds)
        errors = [outcome["error"] for outcome in outcomes if "error" in outcome]
        if errors:
            raise SystemExit("a worker failed: " + "; ".join(errors))
        report = ledger_check()
    finally:
        connections.close_all()
        drop_database(DB)

    latencies = sorted(latency for outcome in outcomes for latency in outcome["latencies"])
    total, elapsed = len(latencies), max(outcome["elapsed"] for outcome in outcomes)
    rate = total / elapsed
    ms = [value * 1000 for value in latencies]
    print(f"PostgreSQL, {clients} {kind} for {args.seconds:g} s over {args.accounts} wallets and escrows")
    print(f"load average    {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after ({os.cpu_count()} cores)")
    print(f"postings        {total} in {elapsed:.2f} s = {rate:.0f} per second")
    print(
        f"latency         median {statistics.median(ms):.1f} ms   p95 {percentile(ms, 0.95):.1f} ms   "
        f"p99 {percentile(ms, 0.99):.1f} ms   max {ms[-1]:.1f} ms"
    )
    print(f"refused         {sum(o['refused'] for o in outcomes)} for insufficient funds (nothing written for those)")
    print(f"statements      {statements['funding']} per funding, {statements['release']} per release (SQL sent)")
    if pgbench:
        print(f"pgbench         {pgbench['tps']:.0f} tps, latency average {pgbench['latency_ms']:.2f} ms")
        print(f"                ({pgbench['command']})")
        print(f"ratio           {rate / pgbench['tps']:.3f} postings per pgbench transaction")
    print(
        f"check_ledger    {report.transactions} transactions, {report.entries} entries: "
        f"{'clean' if report.clean else 'BREACHES: ' + '; '.join(report.breaches[:5])}"
    )
    if not report.clean:
        sys.exit(1)


if __name__ == "__main__":
    main()
