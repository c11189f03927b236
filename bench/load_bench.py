"""The site under load, page by page, against a bare Django view on the same gunicorn, at several sizes.

    .venv/bin/python bench/load_bench.py [--scales 10000,100000,1000000] [--seconds 10] [--connections 16]
                                         [--workers 3] [--skip-ledger] [--plans]

Needs PostgreSQL (127.0.0.1:5432, user postgres), Redis (127.0.0.1:6379, it uses database 12 and empties it),
and `wrk` (apt-get install wrk). For each size it:

1. makes the database `hamkar_load` from scratch (migrated once into a template), fills it with bench/dataset.py
   (that many projects, and users, proposals, conversations and contracts in proportion), adds the demo accounts
   and their contracts (seed_demo), and VACUUM ANALYZEs it;
2. starts gunicorn (deploy/gunicorn.conf.py, `--workers` sync workers) in production mode (DJANGO_ENV=production,
   WhiteNoise, Redis cache, HTTPS as nginx would forward it), on settings that add one bare view (bench/bench_urls.py);
3. drives each request with wrk (`--connections` connections, 2 threads, `--seconds` each) and prints req/s, the
   median and p99 latency and the ratio of req/s to the bare view's, measured in the same run (before the pages and
   after; their mean is the baseline). The pages: Active projects (visitor, and signed in as a freelancer), a
   search for a common and a rare word, a filtered listing, page 50, a search with a different word every request
   (what a crawler does: nothing cached), a project page, a public profile, the workspace of a phased contract and
   the chat poll (signed in as its parties). A page whose median is over 50 ms is measured again with one
   connection: its time when no request is queued before it or runs beside it;
4. with --plans, prints the EXPLAIN ANALYZE of each page's slowest SQL statement, with the cache empty; with
   --profile, where each page's time goes (cProfile over 50 requests in this process, the cache warm): waiting on
   PostgreSQL, waiting on Redis, building SQL (the ORM), templates, and the rest (middlewares, the view).

At the end: each page's median at every size, and how it grew from the smallest size to the largest; then the
ledger benchmark (bench/ledger_bench.py: postings from separate processes against pgbench in the same run).
The goals of issue 17 are printed beside the figures.
"""

import argparse
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import psycopg

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from marketplace.servers import free_port  # noqa: E402

DB = "hamkar_load"
TEMPLATE_DB = "hamkar_load_template"
SERVER = "postgresql://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/12"
ORIGINAL_ENV = dict(os.environ)
GOALS = {  # issue 17: req/s as a share of the bare view's
    "Active projects, visitor": 0.25,
    "Active projects, freelancer": 0.10,
    "search, common word": 0.10,
    "project page": 0.20,
    "chat poll": 0.30,
}
MEDIAN_GOAL_MS = 50


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="10000,100000,1000000", help="numbers of projects, comma separated")
    parser.add_argument("--seconds", type=int, default=10, help="wrk's duration for each request (default 10)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn's sync workers (default 3)")
    parser.add_argument("--skip-ledger", action="store_true", help="leave out bench/ledger_bench.py")
    parser.add_argument("--plans", action="store_true", help="print each page's slowest SQL plan at each size")
    parser.add_argument(
        "--profile", action="store_true", help="print where each page's time goes, in the benchmark's process"
    )
    return parser.parse_args()


def server_execute(*statements: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def site_env(run_dir: Path, *, database: str = DB, redis_url: str = REDIS_URL) -> dict:
    """Production as the web machines run it, on one machine without nginx (HTTPS is forwarded by a header)."""
    return {
        "DJANGO_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "bench.bench_settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": "https://127.0.0.1",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "REDIS_URL": redis_url,
        "EMAIL_URL": "smtp://127.0.0.1:2525",  # e-mail waits in the outbox for a worker; none runs here
        "FILE_STORAGE": "local",
        "MEDIA_ROOT": str(run_dir / "media"),
        "PRIVATE_MEDIA_ROOT": str(run_dir / "private"),
        "STATIC_ROOT": str(run_dir / "static"),
        "LOG_LEVEL": "WARNING",
        "ACCOUNT_EMAIL_VERIFICATION": "optional",
        # A real gateway for toman, as production must have; nothing is paid in the bench.
        "PAYMENT_GATEWAYS": "IRT=zarinpal",
        "ZARINPAL_MERCHANT_ID": "7e5b3c2a-9f41-4d1e-8a6b-2c0f9e7d5a31",
    }


def setup_django(env: dict) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


def make_template() -> None:
    """A migrated, empty database to copy for each size (CREATE DATABASE ... TEMPLATE is a file copy)."""
    from django.core.management import call_command
    from django.db import connections

    server_execute(f"DROP DATABASE IF EXISTS {DB}", f"DROP DATABASE IF EXISTS {TEMPLATE_DB}", f"CREATE DATABASE {DB}")
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    connections.close_all()
    server_execute(f"ALTER DATABASE {DB} RENAME TO {TEMPLATE_DB}")
    print(f"migrated the template database in {time.perf_counter() - started:.1f} s")


def fresh_database(projects: int) -> dict:
    import redis
    from django.core.management import call_command
    from django.db import connection, connections

    from bench.dataset import fill

    connections.close_all()
    server_execute(f"DROP DATABASE IF EXISTS {DB}", f"CREATE DATABASE {DB} TEMPLATE {TEMPLATE_DB}")
    redis.Redis.from_url(REDIS_URL).flushdb()
    counts = fill(projects)
    started = time.perf_counter()
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115 — closed with the process
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    counts["seed_demo"] = round(time.perf_counter() - started, 1)
    return counts


class Site:
    def __init__(self, env: dict, workers: int):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [str(BASE_DIR / ".venv/bin/gunicorn"), "-c", "deploy/gunicorn.conf.py", "marketplace.wsgi"],
            cwd=BASE_DIR,
            env={**os.environ, **env, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": str(workers)},
            stdout=subprocess.DEVNULL,  # the access log: written as in production, not read
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base}/health/", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise SystemExit(f"gunicorn did not answer: {self.process.stderr.read().decode()[-2000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


def session_cookie(user) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def targets() -> list[tuple[str, str, str]]:
    """(name, path, cookie) of every request the run measures."""
    from random import Random

    from django.urls import reverse

    from accounts.models import User
    from bench.dataset import SEED
    from bench.search_bench import PERSIAN_WORDS, ranked_vocabulary
    from projects.models import Project, Skill
    from proposals.models import Conversation
    from workspace.models import Contract

    freelancer = User.objects.get(username="reza")
    employer = User.objects.get(username="sara")
    vocabulary = [word for word in ranked_vocabulary(Random(SEED)) if word in PERSIAN_WORDS]
    skill = Skill.objects.filter(projects__status="open").order_by("pk").first()
    project = Project.objects.filter(status="open", owner__username__startswith="load").order_by("-pk").first()
    phased = Contract.objects.filter(project__kind=Project.Kind.PHASED, employer=employer).order_by("pk").first()
    conversation = Conversation.objects.filter(project__owner=employer).order_by("pk").first()
    last = conversation.messages.order_by("-pk").first()
    as_freelancer, as_employer = session_cookie(freelancer), session_cookie(employer)
    listing = reverse("project_list")
    filtered = urlencode(
        {"category": skill.category_id, "skills": skill.slug, "budget_min": 1_000_000, "sort": "budget_high"}
    )
    return [
        ("Active projects, visitor", listing, ""),
        ("Active projects, freelancer", listing, as_freelancer),
        ("search, common word", f"{listing}?{urlencode({'q': vocabulary[0]})}", ""),
        ("search, rare word", f"{listing}?{urlencode({'q': vocabulary[-1]})}", ""),
        ("filtered listing", f"{listing}?{filtered}", ""),
        ("page 50", f"{listing}?page=50", ""),
        ("project page", reverse("project_detail", args=[project.pk]), ""),
        ("public profile", reverse("profile_public", args=[freelancer.username]), ""),
        ("workspace, phased", reverse("workspace", args=[phased.pk]), as_employer),
        ("chat poll", f"{reverse('conversation_poll', args=[conversation.pk])}?after={last.pk}", as_employer),
    ]


def crawler_script(run_dir: Path, reverse_words: bool = False) -> Path:
    """A wrk script that asks for a different search every request: the cache never helps it. With
    `reverse_words`, the same pairs of words the other way round: searches as costly that no earlier run cached."""
    from django.urls import reverse

    from bench.search_bench import ENGLISH_WORDS, PERSIAN_WORDS

    words = [*PERSIAN_WORDS, *ENGLISH_WORDS]
    pairs = [(b, a) if reverse_words else (a, b) for a in words[:40] for b in words[-25:]]
    paths = [f"{reverse('project_list')}?{urlencode({'q': f'{a} {b}'[:40]})}" for a, b in pairs]
    lua = run_dir / ("crawler-reversed.lua" if reverse_words else "crawler.lua")
    lua.write_text(
        "paths = {" + ",".join(f'"{path}"' for path in paths) + "}\n"
        "counter = 0\n"
        "request = function()\n"
        "  counter = counter + 1\n"
        "  return wrk.format(nil, paths[(counter % #paths) + 1])\n"
        "end\n"
    )
    return lua


def check(site: Site, path: str, cookie: str) -> None:
    request = urllib.request.Request(  # noqa: S310 — our own site, on http://127.0.0.1
        site.base + path, headers={"X-Forwarded-Proto": "https", **({"Cookie": cookie} if cookie else {})}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        if response.status != 200 or response.url != site.base + path:
            raise SystemExit(f"{path} answered {response.status} at {response.url}")


def settle(site: Site) -> None:
    """Wait until the workers have finished what the last run left queued (the bare view answers at once)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        started = time.perf_counter()
        check(site, "/bench/bare/", "")
        if time.perf_counter() - started < 0.05:
            return
        time.sleep(0.2)


def wrk(site: Site, path: str, cookie: str, args: argparse.Namespace, script: Path | None = None) -> dict:
    command = [
        "wrk", f"-t{min(2, args.connections)}", f"-c{args.connections}", f"-d{args.seconds}s", "--latency",
        "--timeout", "10s",
        "-H", "X-Forwarded-Proto: https",
    ]  # fmt: skip
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    if script:
        command += ["-s", str(script)]
    settle(site)
    output = subprocess.run([*command, site.base + path], capture_output=True, text=True, check=True).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _ms(re.search(r"\s50%\s+([\d.]+\w+)", output).group(1)),
        "p99": _ms(re.search(r"\s99%\s+([\d.]+\w+)", output).group(1)),
        "bad": int(bad.group(1)) if bad else 0,
        "errors": errors.group(1) if errors else "",
    }


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def signed_client(cookie: str):
    """Django's test client as the site's visitor, or as the user whose session cookie ("name=value") is given."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    if cookie:
        name, value = cookie.split("=", 1)
        client.cookies[name] = value
    return client


def slowest_plan(path: str, cookie: str) -> tuple[float, list[str]]:
    """The EXPLAIN ANALYZE of the slowest statement the page sends with an empty cache."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    client = signed_client(cookie)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, secure=True)
    assert response.status_code == 200, (path, response.status_code)
    worst = (0.0, [])
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            if not query["sql"].lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])  # the page's own SQL, parameters bound
            plan = [row[0] for row in cursor.fetchall()]
            took = float(re.search(r"Execution Time: ([\d.]+)", plan[-1]).group(1))
            if took > worst[0]:
                worst = (took, plan)
    return worst


PROFILE_BUCKETS = [  # (name, what a function's file path contains), first match wins
    ("PostgreSQL", ("psycopg",)),
    ("Redis", ("redis", "django_redis")),
    ("ORM", ("django/db/",)),
    ("templates", ("django/template", "templatetags", "django/forms", "django/utils/html", "django/utils/formats")),
    ("translation", ("django/utils/translation",)),
]


def profile(path: str, cookie: str, requests: int = 50) -> dict:
    """Seconds per request by bucket (PROFILE_BUCKETS, else "the rest"), from cProfile's own times."""
    import cProfile
    import pstats

    client = signed_client(cookie)
    for _ in range(5):
        assert client.get(path, secure=True).status_code == 200
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(requests):
        client.get(path, secure=True)
    profiler.disable()
    wall = (time.perf_counter() - started) / requests
    buckets = {name: 0.0 for name, _ in PROFILE_BUCKETS} | {"the rest": 0.0}
    for (filename, _line, _function), (_calls, _primitive, own, _cumulative, _callers) in pstats.Stats(
        profiler
    ).stats.items():
        bucket = next((name for name, parts in PROFILE_BUCKETS if any(p in filename for p in parts)), "the rest")
        buckets[bucket] += own / requests
    return {"wall": wall, **buckets}


def measure(projects: int, env: dict, run_dir: Path, args: argparse.Namespace) -> dict:
    print(f"\n{'=' * 100}\n{projects:,} projects")
    counts = fresh_database(projects)
    seconds = counts.pop("seconds")
    print("  data: " + ", ".join(f"{name} {count:,}" for name, count in counts.items() if name != "seed_demo"))
    print(f"  written in {seconds[0]} s, VACUUM ANALYZE {seconds[1]} s, seed_demo {counts['seed_demo']} s")
    site = Site(env, args.workers)
    results = {}
    try:
        pages = targets()
        for _name, path, cookie in pages:
            check(site, path, cookie)
        bare_before = wrk(site, "/bench/bare/", "", args)
        # The floor of any signed-in page: the bare view, with the session and the user read.
        freelancer = next(cookie for name, _path, cookie in pages if name == "Active projects, freelancer")
        signed_in = wrk(site, "/bench/bare-signed-in/", freelancer, args)
        for name, path, cookie in pages:
            results[name] = wrk(site, path, cookie, args)
        crawler = crawler_script(run_dir)
        results["search, a new word each request"] = wrk(site, "/projects/", "", args, script=crawler)
        bare_after = wrk(site, "/bench/bare/", "", args)
        # A page over the median goal, again with one connection: its time alone, nobody queued before it (under
        # --connections, a request mostly waits for the ones ahead of it: median ≈ connections ÷ req/s) and nobody
        # beside it (one connection per worker still had three requests share this machine's two cores).
        unqueued = argparse.Namespace(**{**vars(args), "connections": 1})
        paths = {name: (path, cookie, None) for name, path, cookie in pages}
        paths["search, a new word each request"] = ("/projects/", "", crawler_script(run_dir, reverse_words=True))
        for name, result in results.items():
            if result["p50"] > MEDIAN_GOAL_MS:
                path, cookie, script = paths[name]
                result["unqueued"] = wrk(site, path, cookie, unqueued, script=script)
    finally:
        site.stop()
    bare = (bare_before["rps"] + bare_after["rps"]) / 2
    print(
        f"  bare Django view: {bare_before['rps']:,.0f} req/s before the pages, {bare_after['rps']:,.0f} after "
        f"(baseline {bare:,.0f}); median {bare_before['p50']:.2f} ms"
    )
    print(
        f"  bare Django view, signed in (session and user read): {signed_in['rps']:,.0f} req/s "
        f"({signed_in['rps'] / bare:.3f} of bare), median {signed_in['p50']:.2f} ms"
    )
    print(f"  {'request':<34} {'req/s':>8} {'median':>9} {'p99':>9} {'÷ bare':>8}  goal")
    for name, result in results.items():
        ratio = result["rps"] / bare
        goal = GOALS.get(name)
        verdict = ""
        if goal is not None:
            verdict = f"≥ {goal:.2f} {'met' if ratio >= goal else 'MISSED'}"
        if result["p50"] > MEDIAN_GOAL_MS:
            alone = result["unqueued"]
            verdict += (
                f"  median over {MEDIAN_GOAL_MS} ms; alone (one connection): "
                f"{alone['rps']:,.0f} req/s, median {alone['p50']:.1f} ms, p99 {alone['p99']:.1f} ms"
            )
        if result["bad"] or result["errors"]:
            verdict += f"  ({result['bad']} non-2xx, socket errors: {result['errors'] or 'none'})"
        print(
            f"  {name:<34} {result['rps']:>8,.0f} {result['p50']:>7.1f}ms {result['p99']:>7.1f}ms "
            f"{ratio:>8.3f}  {verdict}"
        )
        result["ratio"] = ratio
    if args.profile:
        print("\n  where a request's time goes, ms (cProfile in this process, cache warm; profiling slows it down):")
        names = [name for name, _ in PROFILE_BUCKETS] + ["the rest"]
        print(f"  {'request':<34} {'total':>7}" + "".join(f"{name:>12}" for name in names))
        for name, path, cookie in [*pages, ("bare Django view", "/bench/bare/", "")]:
            spent = profile(path, cookie)
            print(f"  {name:<34} {spent['wall'] * 1000:>7.2f}" + "".join(f"{spent[n] * 1000:>12.2f}" for n in names))
    if args.plans:
        print("\n  the slowest SQL statement of each page, cache empty (EXPLAIN ANALYZE):")
        for name, path, cookie in pages:
            took, plan = slowest_plan(path, cookie)
            print(f"  --- {name}: {took:.2f} ms")
            for line in plan[:12]:
                print(f"      {line}")
    return results


def main() -> None:
    args = parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    scales = [int(scale) for scale in args.scales.split(",")]
    run_dir = Path(tempfile.mkdtemp(prefix="hamkar-load-"))
    env = site_env(run_dir)
    setup_django(env)
    from django.core.management import call_command

    call_command("compile_translations", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    print(
        f"{os.cpu_count()} CPUs; gunicorn {args.workers} sync workers; wrk 2 threads, {args.connections} "
        f"connections, {args.seconds} s a request; load average before: {os.getloadavg()[0]:.2f}"
    )
    make_template()
    by_scale = {}
    try:
        for projects in scales:
            by_scale[projects] = measure(projects, env, run_dir, args)
    finally:
        from django.db import connections

        connections.close_all()
        server_execute(f"DROP DATABASE IF EXISTS {DB}", f"DROP DATABASE IF EXISTS {TEMPLATE_DB}")
        shutil.rmtree(run_dir, ignore_errors=True)
    if len(scales) > 1:
        first, last = scales[0], scales[-1]
        print(
            f"\n{'=' * 100}\nmedian latency as the data grows (ms), and its growth from {first:,} to {last:,} projects"
        )
        print(f"  {'request':<34}" + "".join(f"{scale:>12,}" for scale in scales) + "   growth")
        for name in by_scale[first]:
            medians = [by_scale[scale][name]["p50"] for scale in scales]
            print(f"  {name:<34}" + "".join(f"{m:>12.1f}" for m in medians) + f"   ×{medians[-1] / medians[0]:.2f}")
        ratios = {name: statistics.mean(by_scale[scale][name]["ratio"] for scale in scales) for name in GOALS}
        print("  mean ratio to bare Django over the sizes: " + ", ".join(f"{n} {r:.3f}" for n, r in ratios.items()))
    if not args.skip_ledger:
        print(f"\n{'=' * 100}\nledger postings (bench/ledger_bench.py)")
        subprocess.run(
            [sys.executable, str(BASE_DIR / "bench/ledger_bench.py")], check=False, cwd=BASE_DIR, env=ORIGINAL_ENV
        )


if __name__ == "__main__":
    main()
