"""Ledger throughput under contention: 8 threads posting money movements on PostgreSQL.

    .venv/bin/python bench/ledger_bench.py [--threads 8] [--postings 400] [--accounts 20]

Creates a scratch database (hamkar_ledger_bench), funds some wallets, then each thread posts --postings
movements (fundings into escrow accounts and releases out of them, picked at random, so threads fight over the
same rows), and prints postings per second, median and p95 latency, how many were refused for insufficient
funds, and the result of check_ledger. The database is dropped at the end.
"""

import argparse
import os
import random
import statistics
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import psycopg

DB = "hamkar_ledger_bench"
BASE_DIR = Path(__file__).resolve().parents[1]


def recreate_database() -> None:
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB}")
        conn.execute(f"CREATE DATABASE {DB}")


def drop_database() -> None:
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--postings", type=int, default=400, help="per thread")
    parser.add_argument("--accounts", type=int, default=20, help="users (and as many escrow accounts)")
    args = parser.parse_args()

    recreate_database()
    os.environ.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DB}", DJANGO_SETTINGS_MODULE="marketplace.settings"
    )
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    from accounts.models import Profile, User
    from escrow.checks import ledger_check
    from escrow.ledger import InsufficientFunds, escrow_account, post_deposit, post_funding, post_release

    call_command("migrate", verbosity=0)
    users = User.objects.bulk_create(
        User(email=f"bench{n}@example.com", username=f"bench{n}") for n in range(args.accounts)
    )
    Profile.objects.bulk_create(Profile(user=user) for user in users)
    for user in users:
        post_deposit(user=user, amount=Decimal(10_000_000), currency="IRT", gateway="sandbox", key=f"seed:{user.pk}")
    escrows = [escrow_account(f"escrow:bench-{n}", "IRT") for n in range(args.accounts)]

    latencies: list[float] = []
    refused = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(args.threads)

    def work(number: int) -> None:
        rng = random.Random(number)
        mine, short = [], 0
        barrier.wait()
        for step in range(args.postings):
            escrow = rng.choice(escrows)
            started = time.perf_counter()
            try:
                if rng.random() < 0.6:
                    post_funding(
                        payer=rng.choice(users), escrow=escrow, amount=Decimal(rng.randint(1_000, 50_000)),
                        key=f"f:{number}:{step}",
                    )  # fmt: skip
                else:
                    post_release(
                        escrow=escrow, freelancer=rng.choice(users), amount=Decimal(rng.randint(1_000, 30_000)),
                        key=f"r:{number}:{step}",
                    )  # fmt: skip
            except InsufficientFunds:
                short += 1
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            refused[0] += short
        connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(args.threads)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started

    report = ledger_check()
    total = len(latencies)
    latencies.sort()
    print(f"PostgreSQL, {args.threads} threads x {args.postings} postings over {args.accounts} wallets and escrows")
    print(f"postings        {total} in {elapsed:.2f} s = {total / elapsed:.0f} per second")
    print(
        f"latency         median {statistics.median(latencies) * 1000:.1f} ms   "
        f"p95 {latencies[int(total * 0.95) - 1] * 1000:.1f} ms   max {latencies[-1] * 1000:.1f} ms"
    )
    print(f"refused         {refused[0]} for insufficient funds (nothing written for those)")
    print(
        f"check_ledger    {report.transactions} transactions, {report.entries} entries: "
        f"{'clean' if report.clean else 'BREACHES: ' + '; '.join(report.breaches[:5])}"
    )
    connections.close_all()
    drop_database()
    if not report.clean:
        sys.exit(1)


if __name__ == "__main__":
    main()
