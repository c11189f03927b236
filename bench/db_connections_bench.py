"""Database connections in production: a new connection per request, one persistent connection per process
(CONN_MAX_AGE), or psycopg's pool (DATABASE_POOL); with gunicorn's sync workers and with threaded workers.

    .venv/bin/python bench/db_connections_bench.py [--seconds 8] [--clients 12]

Fills a scratch PostgreSQL database (`hamkar_bench_conn`, the demo data), then for each set-up starts gunicorn in
production mode and drives a project page with `--clients` keep-alive HTTP clients for `--seconds`. Prints req/s,
median and p99 latency, the ratio to a bare Django view on the same gunicorn (measured in the same run), and the
most connections PostgreSQL saw from the site at once.
"""

import argparse
import http.client
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from marketplace.servers import free_port, wait_for_port  # noqa: E402

ADMIN_URL = os.environ.get("DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DATABASE = "hamkar_bench_conn"
BIN = Path(sys.executable).parent


def environment(database_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REQUIRE_"))}
    env.update(
        DJANGO_ENV="production",
        DJANGO_SETTINGS_MODULE="bench.bench_settings",
        SECRET_KEY=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL="https://127.0.0.1",
        DATABASE_URL=database_url,
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"),
        EMAIL_URL="smtp://127.0.0.1:1",
        FILE_STORAGE="local",
        MEDIA_ROOT=str(BASE_DIR / "var" / "bench-media"),
        PRIVATE_MEDIA_ROOT=str(BASE_DIR / "var" / "bench-private"),
        STATIC_ROOT=str(BASE_DIR / "var" / "bench-static"),
        LOG_LEVEL="WARNING",
        PAYMENT_GATEWAYS="IRT=zarinpal",  # production needs a real gateway configured; the bench pays nothing
        ZARINPAL_MERCHANT_ID="7e5b3c2a-9f41-4d1e-8a6b-2c0f9e7d5a31",
    )
    return env


def prepare(env: dict) -> int:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DATABASE}"')
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"], ["seed_demo"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=BASE_DIR, env=env, check=True,
                       capture_output=True)  # fmt: skip
    with psycopg.connect(env["DATABASE_URL"]) as connection:
        return connection.execute("SELECT min(id) FROM projects_project WHERE status = 'open'").fetchone()[0]


def drive(port: int, path: str, seconds: float, clients: int) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = [0]
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers={"X-Forwarded-Proto": "https", "Host": "127.0.0.1"})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors[0] += 1
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies) / (time.monotonic() - started), latencies, errors[0]


def peak_connections(stop: threading.Event, found: list[int]) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        while not stop.is_set():
            count = connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [DATABASE]
            ).fetchone()[0]
            found.append(count)
            time.sleep(0.05)


def run(name: str, env: dict, gunicorn_args: list[str], path: str, seconds: float, clients: int, bare=None):
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "marketplace.wsgi", "--bind", f"127.0.0.1:{port}", *gunicorn_args, "--log-level",
         "warning"],
        cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port, process=process, timeout=60)
        drive(port, path, 1.0, clients)  # warm up: workers loaded, connections opened
        stop, counts = threading.Event(), []
        sampler = threading.Thread(target=peak_connections, args=(stop, counts))
        sampler.start()
        rate, latencies, errors = drive(port, path, seconds, clients)
        stop.set()
        sampler.join()
    finally:
        process.terminate()
        process.wait(30)
    median = statistics.median(latencies) * 1000
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000
    ratio = f"{rate / bare:.3f}" if bare else "1"
    print(f"{name:<56} {rate:>8.0f} {median:>8.1f} {p99:>8.1f} {ratio:>8} {max(counts, default=0):>6} {errors:>6}",
          flush=True)  # fmt: skip
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=12)
    args = parser.parse_args()
    base = environment(ADMIN_URL.rsplit("/", 1)[0] + f"/{DATABASE}")
    project = prepare(base)
    page = f"/projects/{project}/"
    sync = ["--workers", "3"]
    threaded = ["--workers", "2", "--threads", "4", "--worker-class", "gthread"]
    print(f"{'set-up (page ' + page + ')':<56} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'÷ bare':>8} {'conns':>6} "
          f"{'errors':>6}")  # fmt: skip
    bare_sync = run("bare Django view, sync x3", base, sync, "/bench/bare/", args.seconds, args.clients)
    setups = [
        ("new connection per request (CONN_MAX_AGE=0)", {"CONN_MAX_AGE": "0"}),
        ("persistent, one per process (CONN_MAX_AGE=60)", {"CONN_MAX_AGE": "60"}),
        ("psycopg pool 1..4 (DATABASE_POOL=1)", {"DATABASE_POOL": "1"}),
    ]
    for name, extra in setups:
        run(f"{name}, sync x3", {**base, **extra}, sync, page, args.seconds, args.clients, bare_sync)
    bare_threaded = run("bare Django view, gthread 2x4", base, threaded, "/bench/bare/", args.seconds, args.clients)
    for name, extra in setups:
        run(f"{name}, gthread 2x4", {**base, **extra}, threaded, page, args.seconds, args.clients, bare_threaded)
    return 0


if __name__ == "__main__":
    sys.exit(main())
