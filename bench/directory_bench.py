"""Benchmark of the freelancer directory (/freelancers/) on PostgreSQL with 100,000 freelancer profiles.

Run from the project folder, with PostgreSQL answering at 127.0.0.1:5432 (user postgres, no password):

    .venv/bin/python bench/directory_bench.py [--profiles 100000] [--runs 30] [--keep]

It creates its own database `hamkar_dirbench` (dropping it first if it exists), migrates it and writes with COPY
(bench/dataset.py's copy_rows) --profiles freelancers (1-8 skills each, mostly from one category; 0-3 portfolio
items; a headline, a bio and portfolio titles drawn from search_bench's Persian and English vocabulary in its
Zipf-like order, and a rare word in one headline in 2,000; 60% rated, with a count of completed projects; 1%
deactivated), plus one employer (no skill, so not listed) for every twenty. The search documents are built by the
service's own function (accounts.services.profile_search_document): the words are normalised as the site does.

Then, for each question a person asks the directory (a common word, by best match and by rating; a rare word;
two words; a common word typed with Arabic ي/ك; a skill; a category with a minimum rating; the plain listing by
rating and by completed projects; page 50), it times in the same run (DEBUG off, as in production):

- the directory's queries alone, as the page sends them (the capped count, the page's rows, their skills), through
  accounts.selectors.freelancer_directory and projects.selectors.CappedPaginator: median and p95 in ms, and the
  median as a multiple of a bare `SELECT 1` round trip measured beside them;
- the whole page through Django's test client (signed out; the page cache is off, so every request renders),
  as a multiple of a bare Django view (/bench/bare/, bench/bench_urls.py) measured beside it;

and prints each question's matches, the EXPLAIN (ANALYZE, BUFFERS) execution time of its count and page SQL with
the index each reads, and the full plan of the slowest. The database is dropped at the end unless --keep is given.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from random import Random
from types import SimpleNamespace
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project folder: bench.*, accounts.*, ...

from bench.search_bench import (
    PERSIAN_WORDS,
    execution_ms,
    explain,
    ranked_vocabulary,
    server_execute,
    zipf_cumulative_weights,
)

DB_NAME = "hamkar_dirbench"
SEED = 7
EXPLAIN_LINES = 24
RARE_WORD, RARE_EVERY = "کاشی‌کاری", 2000  # in the headline of one freelancer in 2,000
FIRST_NAMES = "مینا رضا سارا علی نگار امیر زهرا حسین Alex Sara David Mina Reza Leila Omid".split()  # noqa: SIM905


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark the freelancer directory on PostgreSQL.")
    parser.add_argument("--profiles", type=int, default=100_000, help="freelancer profiles (default 100000)")
    parser.add_argument("--runs", type=int, default=30, help="timed runs of each question (default 30)")
    parser.add_argument("--keep", action="store_true", help=f"keep the {DB_NAME} database at the end")
    return parser.parse_args()


def setup_django() -> None:
    server_execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
    server_execute(f"CREATE DATABASE {DB_NAME}")
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.bench_settings"  # the site plus the bare view
    os.environ.pop("REDIS_URL", None)
    os.environ["PUBLIC_PAGE_CACHE_SECONDS"] = "0"  # every request renders: the database is what is measured
    os.environ["DEBUG"] = "0"  # as in production: templates cached, no query log

    import django
    from django.core.management import call_command

    django.setup()
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrated {DB_NAME} in {time.perf_counter() - started:.1f} s")


def fill(count: int, rng: Random, vocabulary: list[str]) -> dict:
    """COPY the users, profiles, skill links and portfolio items; returns what was written."""
    from django.contrib.auth.hashers import make_password
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import PortfolioItem, Profile, User
    from accounts.services import profile_search_document
    from bench.dataset import copy_links, copy_rows
    from projects.models import Category

    started = time.perf_counter()
    weights = zipf_cumulative_weights(len(vocabulary))
    now = timezone.now()
    password = make_password("x-Bench-pass-1")
    categories = [list(category.skills.all()) for category in Category.objects.prefetch_related("skills")]
    categories = [skills for skills in categories if skills]
    every_skill = [skill for skills in categories for skill in skills]
    employers = count // 20

    def words(low: int, high: int) -> str:
        return " ".join(rng.choices(vocabulary, cum_weights=weights, k=rng.randint(low, high)))

    users, profiles, links, items = [], [], [], []
    item_id = 0
    for pk in range(1, count + employers + 1):
        freelancer = pk <= count
        active = not freelancer or rng.random() >= 0.01
        users.append(
            {"id": pk, "username": f"dir{pk}", "email": f"dir{pk}@example.com", "password": password,
             "is_active": active, "date_joined": now}
        )  # fmt: skip
        name = f"{rng.choice(FIRST_NAMES)} {pk}"
        if not freelancer:
            profile = SimpleNamespace(display_name=name, headline="", bio="")
            profiles.append({"id": pk, "user_id": pk, "display_name": name,
                             "search_document": profile_search_document(profile, [], [])})  # fmt: skip
            continue
        home = rng.choice(categories)
        skills = rng.sample(home, min(rng.randint(1, 6), len(home)))
        skills += [skill for skill in rng.sample(every_skill, rng.randint(0, 2)) if skill not in skills]
        titles = [words(2, 5) for _ in range(rng.randint(0, 3))]
        headline = words(3, 6)[:100] + (f" {RARE_WORD}" if pk % RARE_EVERY == 0 else "")
        profile = SimpleNamespace(display_name=name, headline=headline, bio=words(10, 30)[:1000])
        rated = rng.random() < 0.6
        rating_count = rng.randint(1, 40) if rated else 0
        profiles.append(
            {"id": pk, "user_id": pk, "display_name": name, "headline": profile.headline, "bio": profile.bio,
             "city": rng.choice(("تهران", "شیراز", "Tabriz", "")),
             "search_document": profile_search_document(profile, skills, titles), "listed": active,
             "rating_average": round(rng.uniform(3, 5), 2) if rated else 0, "rating_count": rating_count,
             "completed_projects": rating_count + rng.randint(0, 3) if rated else rng.randint(0, 1)}
        )  # fmt: skip
        links += [(pk, skill.pk) for skill in skills]
        for title in titles:
            item_id += 1
            items.append({"id": item_id, "profile_id": pk, "title": title[:120], "created_at": now})
    built = time.perf_counter() - started
    with transaction.atomic():
        written = {
            "users": copy_rows(User, users),
            "profiles": copy_rows(Profile, profiles),
            "skill links": copy_links(Profile.skills.through._meta.db_table, ("profile_id", "skill_id"), links),
            "portfolio items": copy_rows(PortfolioItem, items),
        }
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), [User, Profile, PortfolioItem]):
                cursor.execute(statement)
    copied = time.perf_counter() - started - built
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")  # as autovacuum would leave a long-lived database
    print(
        "wrote " + ", ".join(f"{number:,} {name}" for name, number in written.items())
        + f": rows built in {built:.1f} s, COPY {copied:.1f} s, "
        f"VACUUM ANALYZE {time.perf_counter() - started - built - copied:.1f} s"
    )  # fmt: skip
    return written


def questions(vocabulary: list[str]) -> dict[str, dict]:
    """What people ask the directory: the query string of each question."""
    from projects.models import Skill

    persian = [word for word in vocabulary if word in PERSIAN_WORDS]
    common = persian[0]
    arabic = next(word for word in persian if "ی" in word or "ک" in word)
    skill = Skill.objects.get(slug="django")
    return {
        "common word": {"q": common},
        "common word by rating": {"q": common, "sort": "rating"},
        "rare word": {"q": "کاشي"},  # RARE_WORD's prefix, typed with an Arabic yeh
        "two words": {"q": f"{persian[3]} {persian[10]}"},
        "Arabic-typed word": {"q": arabic.replace("ی", "ي").replace("ک", "ك")},
        "skill": {"skills": skill.slug},
        "category, rating ≥ 4.5": {"category": skill.category_id, "min_rating": "4.5"},
        "by rating": {},
        "by completed projects": {"sort": "completed"},
        "page 50 by rating": {"page": "50"},
    }


def run_directory(params: dict) -> tuple[int, int]:
    """The directory's queries for one question, as the view sends them; returns (matches counted, rows)."""
    from django.conf import settings

    from accounts.forms import FreelancerSearchForm
    from accounts.selectors import freelancer_directory
    from accounts.views import DIRECTORY_PAGE_SIZE
    from projects.selectors import CappedPaginator

    form = FreelancerSearchForm(params)
    profiles = freelancer_directory(filters=form.filters())
    paginator = CappedPaginator(profiles, DIRECTORY_PAGE_SIZE, cap=settings.FREELANCER_DIRECTORY_COUNT_CAP)
    page = paginator.get_page(params.get("page"))
    rows = list(page.object_list)
    for profile in rows:
        list(profile.skills.all())
    return paginator.count, len(rows)


def timed(action, runs: int) -> dict:
    action()  # warm up
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "median": statistics.median(timings),
        "p95": statistics.quantiles(timings, n=20, method="inclusive")[18] if len(timings) > 1 else timings[0],
    }


def select_one() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def get(client, url: str) -> None:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="fa")
    assert response.status_code == 200, (url, response.status_code)


def access_paths(plan: list[str]) -> str:
    """The indexes the plan reads (or the tables it scans whole)."""
    found = []
    for line in plan:
        node = line.strip().removeprefix("->  ")
        if " using " in node and node.startswith(("Index Scan", "Index Only Scan")):
            found.append(node.split(" using ", 1)[1].split()[0])
        elif node.startswith("Bitmap Index Scan on "):
            found.append(node.split(" on ", 1)[1].split()[0])
        elif node.startswith("Seq Scan on "):
            found.append("seq scan " + node.split(" on ", 1)[1].split()[0])
    return ", ".join(dict.fromkeys(found)) or "?"


def sql_of(params: dict) -> tuple[str, str]:
    """The count and page SQL one question sends."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        run_directory(params)
    sql = [query["sql"] for query in captured.captured_queries if "accounts_profile" in query["sql"]]
    count = next(query for query in sql if "COUNT(" in query)
    page = next(query for query in sql if "COUNT(" not in query and "ORDER BY" in query)
    return count, page


def benchmark(args: argparse.Namespace) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    rng = Random(SEED)
    vocabulary = ranked_vocabulary(rng)
    fill(args.profiles, rng, vocabulary)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM accounts_profile WHERE listed")
        listed = cursor.fetchone()[0]
    print(f"PostgreSQL {version}, DEBUG={settings.DEBUG}, {args.runs} timed runs of each question")

    asked = questions(vocabulary)
    client = Client()
    bare_query = timed(select_one, args.runs * 3)
    bare_view = timed(lambda: get(client, "/bench/bare/"), args.runs)
    results = {}
    for name, params in asked.items():
        counted, rows = run_directory(params)
        url = "/freelancers/?" + urlencode(params)
        results[name] = {
            "queries": timed(lambda params=params: run_directory(params), args.runs),
            "page": timed(lambda url=url: get(client, url), args.runs),
            "counted": counted,
            "rows": rows,
        }

    print("\nEXPLAIN (ANALYZE, BUFFERS) execution time of each question's count and page SQL, and what they read")
    slowest, slowest_time = None, -1.0
    for name, params in asked.items():
        count_sql, page_sql = sql_of(params)
        count_plan, page_plan = explain(count_sql), explain(page_sql)
        total = sum(float(execution_ms(plan).split()[0]) for plan in (count_plan, page_plan))
        if total > slowest_time:
            slowest, slowest_time = (name, page_sql, page_plan), total
        print(
            f"  {name:<26} count {execution_ms(count_plan):>11} ({access_paths(count_plan)})\n"
            f"  {'':<26} page  {execution_ms(page_plan):>11} ({access_paths(page_plan)})"
        )
    name, sql, plan = slowest
    print(f"\nthe slowest, {name!r}: its page SQL and plan")
    print(f"  SQL: {sql[:400]}{' ...' if len(sql) > 400 else ''}")
    for line in plan[:EXPLAIN_LINES]:
        print(f"  {line}")
    if len(plan) > EXPLAIN_LINES:
        print(f"  ... ({len(plan) - EXPLAIN_LINES} more lines)\n  Execution Time: {execution_ms(plan)}")

    print("\n" + "=" * 100)
    employers = args.profiles // 20
    print(f"profiles: {args.profiles:,} freelancers (listed and active: {listed:,}) + {employers:,} employers")
    print(f"bare SELECT 1: median {bare_query['median']:.3f} ms; bare Django view: median {bare_view['median']:.2f} ms")
    print(
        f"{'question':<26} {'matches':>8} {'rows':>5}   {'queries median':>14} {'p95':>8} {'÷ SELECT 1':>10}"
        f"   {'page median':>11} {'p95':>8} {'÷ bare view':>11}"
    )
    for name, result in results.items():
        queries, page = result["queries"], result["page"]
        counted = f">{settings.FREELANCER_DIRECTORY_COUNT_CAP}" if result["counted"] > 1000 else result["counted"]
        print(
            f"{name:<26} {counted!s:>8} {result['rows']:>5}   {queries['median']:>11.1f} ms {queries['p95']:>5.1f} ms "
            f"{queries['median'] / bare_query['median']:>10.0f}   {page['median']:>8.1f} ms {page['p95']:>5.1f} ms "
            f"{page['median'] / bare_view['median']:>11.1f}"
        )
    print("=" * 100)


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    setup_django()
    try:
        benchmark(args)
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            print(f"kept the database {DB_NAME}")
        else:
            server_execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
            print(f"dropped the database {DB_NAME}")
        print(f"the whole run took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
