"""Benchmark of the Active projects page (/projects/) on PostgreSQL with many projects.

Run from the project folder, with PostgreSQL answering at 127.0.0.1:5432 (user postgres, no password):

    .venv/bin/python bench/search_bench.py [--projects 100000] [--runs 50] [--keep]

It creates its own database `hamkar_bench` (dropping it first if it exists), migrates it, fills it with
--projects projects (about 90% open, 1-5 skills each, titles and descriptions drawn from a Persian and
English vocabulary with a fixed seed, so runs are comparable), and times GET requests through Django's
test client: a word search (?q=), a filtered listing (category, skill, budget, sort), the plain listing
and a deep page (?page=50). It prints how long the filling took, the median and p95 time and the SQL
query count of each kind of request, the number of matches of each search word, the EXPLAIN (ANALYZE,
BUFFERS) plan of the search SQL with whether the GIN index `projects_project_search_gin` is used, and
a summary block. The database is dropped at the end unless --keep is given.
"""

import argparse
import os
import re
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from random import Random
from urllib.parse import urlencode

import psycopg

DB_NAME = "hamkar_bench"
SERVER_URL = "postgresql://postgres@127.0.0.1:5432"
BATCH_SIZE = 5000
USER_COUNT = 200
SEED = 42
WARMUP_REQUESTS = 3
GIN_INDEX = "projects_project_search_gin"
EXPLAIN_LINES = 14

# One string of words a line reads better than 80 quoted words, hence the noqa: SIM905 below.
PERSIAN_WORDS = (  # noqa: SIM905
    "طراحی فروشگاه اینترنتی اپلیکیشن ترجمه سئو وردپرس لوگو حسابداری سایت وب برنامه‌نویسی اندروید موبایل "
    "پروژه سامانه مدیریت محتوا تولید مقاله تایپ ویرایش گرافیک بنر پوستر کاتالوگ بسته‌بندی انیمیشن ویدیو "
    "تدوین صداگذاری عکاسی فتوشاپ پایگاه داده تحلیل گزارش اکسل آموزش دوره پشتیبانی شبکه امنیت سرور لینوکس "
    "هوش مصنوعی یادگیری ماشین ربات تلگرام اینستاگرام بازاریابی تبلیغات دیجیتال کمپین ایمیل فرم پرداخت "
    "درگاه بانک حسابرسی مالیات ترازنامه قرارداد حقوقی مشاوره کسب‌وکار استارتاپ رابط کاربری تجربه "
    "واکنش‌گرا بهینه‌سازی سرعت نسخه جدید فوری کوچک بزرگ انگلیسی فارسی"
).split()
ENGLISH_WORDS = (  # noqa: SIM905
    "website online shop store design logo app mobile android ios django python react javascript wordpress "
    "plugin theme seo content article translation english persian marketing social media instagram telegram "
    "bot api backend frontend database postgresql dashboard admin panel payment gateway invoice accounting "
    "excel report data analysis machine learning model chatbot video editing animation motion graphics "
    "banner poster brochure catalog packaging illustration photo retouch landing page responsive redesign "
    "migration server linux docker deploy security audit testing bugfix performance optimization "
    "integration crm erp booking hotel restaurant"
).split()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark the Active projects page on PostgreSQL.")
    parser.add_argument("--projects", type=int, default=100_000, help="projects to create (default 100000)")
    parser.add_argument("--runs", type=int, default=50, help="timed requests of each kind (default 50)")
    parser.add_argument("--keep", action="store_true", help=f"keep the {DB_NAME} database at the end")
    return parser.parse_args()


def server_execute(statement: str) -> None:
    """Run one statement on the server's `postgres` database, outside any transaction."""
    with psycopg.connect(f"{SERVER_URL}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def setup_django() -> None:
    server_execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
    server_execute(f"CREATE DATABASE {DB_NAME}")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "marketplace.settings"
    os.environ.pop("REDIS_URL", None)

    import django
    from django.core.management import call_command

    django.setup()
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrated {DB_NAME} in {time.perf_counter() - started:.1f} s")


def zipf_cumulative_weights(count: int) -> list[float]:
    """Word frequencies like real text: the k-th most common word is used about 1/k as often as the first."""
    total, cumulative = 0.0, []
    for rank in range(1, count + 1):
        total += 1 / rank
        cumulative.append(total)
    return cumulative


def ranked_vocabulary(rng: Random) -> list[str]:
    """Persian and English words in one random frequency order (most frequent first)."""
    words = [*PERSIAN_WORDS, *ENGLISH_WORDS]
    rng.shuffle(words)
    return words


def create_owners() -> list[int]:
    from django.contrib.auth.hashers import make_password

    from accounts.models import Profile, User

    password = make_password("x-Bench-pass-1")  # hashed once: the same hash for every bench user
    users = User.objects.bulk_create(
        User(email=f"bench{n}@example.com", username=f"bench{n}", password=password) for n in range(USER_COUNT)
    )
    Profile.objects.bulk_create(Profile(user=user, display_name=f"Bench employer {n}") for n, user in enumerate(users))
    return [user.pk for user in users]


def random_project(rng: Random, vocabulary: list[str], weights: list[float], categories, owners, now):
    from projects.models import Project
    from projects.search import normalize

    title = " ".join(rng.choices(vocabulary, cum_weights=weights, k=rng.randint(3, 8)))[:120]
    description = " ".join(rng.choices(vocabulary, cum_weights=weights, k=rng.randint(30, 80))) + "."
    category, skill_ids = rng.choice(categories)
    budget_min = Decimal(rng.randint(5, 500) * 100_000)
    budget_max = budget_min * rng.choice((1, 1, 2, 3, 4))
    roll = rng.random()
    status = Project.Status.OPEN if roll < 0.9 else Project.Status.DRAFT if roll < 0.95 else Project.Status.CLOSED
    published_at = None
    if status != Project.Status.DRAFT:
        published_at = now - timedelta(seconds=rng.randint(0, 365 * 24 * 3600))
    project = Project(
        owner_id=rng.choice(owners),
        title=title,
        description=description,
        category=category,
        currency="IRT",
        budget_min=budget_min,
        budget_max=budget_max,
        duration_days=rng.randint(1, 120),
        kind=rng.choice((Project.Kind.SINGLE, Project.Kind.PHASED)),
        status=status,
        published_at=published_at,
        search_document=normalize(f"{title} {description}"),
    )
    skills = rng.sample(skill_ids, min(rng.randint(1, 5), len(skill_ids)))
    return project, skills


def fill(count: int, rng: Random, vocabulary: list[str]) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from projects.models import Category, Project

    started = time.perf_counter()
    owners = create_owners()
    categories = [(category, [skill.pk for skill in category.skills.all()]) for category in Category.objects.all()]
    categories = [(category, skill_ids) for category, skill_ids in categories if skill_ids]
    weights = zipf_cumulative_weights(len(vocabulary))
    through = Project.skills.through
    now = timezone.now()
    links = 0
    for start in range(0, count, BATCH_SIZE):
        batch = [
            random_project(rng, vocabulary, weights, categories, owners, now)
            for _ in range(min(BATCH_SIZE, count - start))
        ]
        with transaction.atomic():
            projects = Project.objects.bulk_create([project for project, _ in batch])
            rows = [
                through(project_id=project.pk, skill_id=skill_id)
                for project, (_, skill_ids) in zip(projects, batch, strict=True)
                for skill_id in skill_ids
            ]
            through.objects.bulk_create(rows, batch_size=BATCH_SIZE)
        links += len(rows)
    filled = time.perf_counter() - started
    # VACUUM ANALYZE rather than ANALYZE alone: it also empties the GIN index's pending list and sets the
    # visibility map, the state autovacuum keeps a long-lived table in, so timings do not depend on it.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) projects_project")
        cursor.execute("VACUUM (ANALYZE) projects_project_skills")
    print(
        f"filled {count} projects ({links} skill links, {len(owners)} employers) in {filled:.1f} s; "
        f"VACUUM ANALYZE {time.perf_counter() - started - filled:.1f} s"
    )


def search_words(vocabulary: list[str]) -> list[str]:
    """Common, middling and rare words, in Persian and in English, alternating."""
    persian = [word for word in vocabulary if word in PERSIAN_WORDS]
    english = [word for word in vocabulary if word in ENGLISH_WORDS]
    words = []
    for rank in (0, 15, 40, 75):
        words += [persian[min(rank, len(persian) - 1)], english[min(rank, len(english) - 1)]]
    return words


def filter_urls(rng: Random) -> list[str]:
    from projects.models import Skill

    skills = list(Skill.objects.select_related("category").order_by("pk"))
    picked = rng.sample(skills, 6)
    return [
        "/projects/?"
        + urlencode(
            {"category": skill.category_id, "skills": skill.slug, "budget_min": 1_000_000, "sort": "budget_high"}
        )
        for skill in picked
    ]


def listed_count(response) -> str:
    """The "N projects open for proposals" figure the page shows."""
    found = re.search(r"([\d,]+) projects? open for proposals", response.content.decode())
    return found.group(1) if found else "?"


def time_requests(client, urls: list[str], runs: int) -> dict:
    """Warm up, then `runs` timed GETs rotating through `urls`; milliseconds and query counts."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for url in (urls * WARMUP_REQUESTS)[:WARMUP_REQUESTS]:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, (url, response.status_code)
    timings, per_url, listed, query_counts = [], {url: [] for url in urls}, {}, set()
    for run in range(runs):
        url = urls[run % len(urls)]
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (url, response.status_code)
        timings.append(elapsed)
        per_url[url].append(elapsed)
        listed[url] = listed_count(response)
        query_counts.add(len(captured))
    return {
        "median": statistics.median(timings),
        "p95": statistics.quantiles(timings, n=20, method="inclusive")[18] if len(timings) > 1 else timings[0],
        "queries": query_counts,
        "per_url": {url: (statistics.median(times), listed[url]) for url, times in per_url.items() if times},
    }


def search_sql(client, word: str) -> tuple[str, str]:
    """The listing query and the count query one search request sends (both use to_tsquery)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get("/projects/?" + urlencode({"q": word}), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    searching = [query["sql"] for query in captured.captured_queries if "to_tsquery" in query["sql"]]
    listing = next(sql for sql in searching if "LIMIT" in sql)
    count = next(sql for sql in searching if "COUNT(" in sql)
    return listing, count


def explain(sql: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        # The SQL is what the page itself just sent, parameters already bound; nothing here comes from input.
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return [row[0] for row in cursor.fetchall()]


def access_path(plan: list[str]) -> str:
    """How the plan reads projects_project: which index, or a sequential scan."""
    for line in plan:
        if "projects_project " in line or line.rstrip().endswith("projects_project"):
            if "Seq Scan" in line:
                return "seq scan"
            if " using " in line:
                return line.split(" using ", 1)[1].split()[0]
        if "Bitmap Index Scan on " in line:
            return line.split("Bitmap Index Scan on ", 1)[1].split()[0]
    return "?"


def execution_ms(plan: list[str]) -> str:
    return next((line.split(":", 1)[1].strip() for line in plan if line.startswith("Execution Time")), "?")


def open_matches(word: str) -> int:
    from django.db import connection

    from projects.search import tsquery

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM projects_project WHERE status = 'open' AND "
            "search_vector @@ to_tsquery('simple'::regconfig, %s)",
            [tsquery(word)],
        )
        return cursor.fetchone()[0]


def report_search_plans(client, words: list[str], page_medians: dict[str, float]) -> tuple[int, int]:
    """Print the EXPLAIN of every search word's SQL (in full for the first); how many words used the GIN index."""
    used_count = 0
    details = []
    print("\nsearch words: open projects matching, page median, and EXPLAIN ANALYZE time of the listing / count SQL")
    for word in words:
        listing, count = search_sql(client, word)
        listing_plan, count_plan = explain(listing), explain(count)
        used = GIN_INDEX in "\n".join(listing_plan) or GIN_INDEX in "\n".join(count_plan)
        used_count += used
        page = page_medians.get(word)
        print(
            f"  {word:<14} {open_matches(word):>7} matches   page {page or 0:>7.1f} ms   "
            f"listing SQL {execution_ms(listing_plan):>11}   count SQL {execution_ms(count_plan):>11}   "
            f"access: listing {access_path(listing_plan)}, count {access_path(count_plan)}"
        )
        # In full: the first word (the most common one) and the first word whose plans use the index.
        if not details or (used and not any(shown_used for *_, shown_used in details)):
            details += [(word, "listing", listing, listing_plan, used), (word, "count", count, count_plan, used)]
    for word, name, sql, plan, _ in details:
        print(f"\nEXPLAIN (ANALYZE, BUFFERS) of the search {name} query for {word!r}:")
        print(f"  SQL: {sql[:300]}{' ...' if len(sql) > 300 else ''}")
        for line in plan[:EXPLAIN_LINES]:
            print(f"  {line}")
        if len(plan) > EXPLAIN_LINES:
            scans = scan_lines(plan[EXPLAIN_LINES:])
            more = f"{len(plan) - EXPLAIN_LINES} more lines" + (
                ", of which the scans of projects_project:" if scans else ""
            )
            print(f"  ... ({more})")
            for line in scans:
                print(f"  {line}")
            print(f"  Execution Time: {execution_ms(plan)}")
    return used_count, len(words)


def scan_lines(plan: list[str]) -> list[str]:
    """The plan nodes that read projects_project (or its indexes), each with its conditions."""
    lines, keep = [], False
    for line in plan:
        node = line.strip().removeprefix("->  ")
        if "Scan" in node and "projects_project" in node and "projects_project_skills" not in node:
            keep = True
        elif keep and not node.startswith(("Filter", "Recheck Cond", "Index Cond", "Rows Removed")):
            keep = False
        if keep:
            lines.append(line)
    return lines


def format_queries(counts: set[int]) -> str:
    return str(min(counts)) if len(counts) == 1 else f"{min(counts)}-{max(counts)} (varies!)"


def benchmark(args: argparse.Namespace) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from projects.models import Project

    rng = Random(SEED)
    vocabulary = ranked_vocabulary(rng)
    fill(args.projects, rng, vocabulary)
    total = Project.objects.count()
    open_count = Project.objects.filter(status=Project.Status.OPEN).count()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    print(f"PostgreSQL {version}, DEBUG={settings.DEBUG}, {args.runs} timed runs of each kind")

    client = Client()
    words = search_words(vocabulary)
    search_urls = {"/projects/?" + urlencode({"q": word}): word for word in words}
    kinds = {
        "search": list(search_urls),
        "filtered list": filter_urls(rng),
        "plain list": ["/projects/"],
        "page 50": ["/projects/?page=50"],
    }
    results = {kind: time_requests(client, urls, args.runs) for kind, urls in kinds.items()}

    print("\nfiltered listings: page median and projects listed")
    for url, (median, listed) in results["filtered list"]["per_url"].items():
        print(f"  {url:<90} {median:>7.1f} ms   {listed:>6} projects")

    page_medians = {search_urls[url]: median for url, (median, _) in results["search"]["per_url"].items()}
    used, searched = report_search_plans(client, words, page_medians)

    print("\n" + "=" * 78)
    print(f"projects: {total} (open: {open_count}), skills per project: 1-5")
    for kind, result in results.items():
        print(
            f"{kind:<15} median {result['median']:>7.1f} ms   p95 {result['p95']:>7.1f} ms   "
            f"queries {format_queries(result['queries'])}"
        )
    print(f"GIN index used by {used} of {searched} search words (the planner skips it when most rows match)")
    print("=" * 78)


def main() -> None:
    args = parse_args()
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


if __name__ == "__main__":
    main()
