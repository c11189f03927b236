"""Benchmark of job alerts (alerts.services): what matching a newly published project costs as freelancers grow.

Run from the project folder, with PostgreSQL answering at 127.0.0.1:5432 (user postgres, no password):

    .venv/bin/python bench/alerts_bench.py [--sizes 10000,100000] [--searches 1000] [--runs 20] [--keep]

It creates its own database `hamkar_alertbench` (dropping it first), migrates it and writes with COPY
(bench/dataset.py): freelancers with 1-6 profile skills, mostly from one category (the catalogue's first skills are
the most common, so Django is on many profiles), and --searches saved searches by the first 10,000 of them (words from
search_bench's vocabulary, skills, a category, some with a budget range; filed under their index key by the service's
own function). Then, at each size (the freelancers are added up to it; the saved searches stay), for a few new
projects (a common skill; a rare skill; words that saved searches use, with a skill nobody lists), it prints:

- the saved searches examined (read through the index) against those that matched, and the profiles matched;
- the median and p95 time of the matching alone (alerts.services.project_alert_matching) over --runs runs;
- the time of the whole announcement once (project_alerts_send: the matching, then a notification per person, in
  batches of JOB_ALERTS_BATCH_SIZE, and the e-mails of those who want them at once, through the outbox);
- the time per person told.

The cost follows the matches: the word project matches the same few people at every size, and takes the same time.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from random import Random

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project folder: bench.*, accounts.*, ...

from bench.search_bench import ranked_vocabulary, server_execute, zipf_cumulative_weights

DB_NAME = "hamkar_alertbench"
SEED = 11
RARE_SKILL = "kotlin"  # on about one profile in a thousand (chosen below)
WORDS_PROJECT_SKILL = "swift"  # listed by no profile
PASSWORD = "x-Bench-pass-1"  # noqa: S105 — the bench's throwaway accounts, on a scratch database


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark the matching of job alerts on PostgreSQL.")
    parser.add_argument("--sizes", default="10000,100000", help="freelancers, comma-separated (default 10000,100000)")
    parser.add_argument("--searches", type=int, default=1000, help="saved searches (default 1000)")
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each matching (default 20)")
    parser.add_argument("--keep", action="store_true", help=f"keep the {DB_NAME} database at the end")
    return parser.parse_args()


def setup_django() -> None:
    server_execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
    server_execute(f"CREATE DATABASE {DB_NAME}")
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "marketplace.settings"
    os.environ.pop("REDIS_URL", None)
    os.environ["DEBUG"] = "0"
    # The e-mails' delivery tasks go to a throwaway folder (kombu's filesystem transport), as they would to Redis.
    os.environ["CELERY_BROKER_DIR"] = tempfile.mkdtemp(prefix="alertbench-broker-")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"

    import django
    from django.core.management import call_command

    django.setup()
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrated {DB_NAME} in {time.perf_counter() - started:.1f} s")


def fill_freelancers(count: int, rng: Random) -> None:
    """COPY `count` more users, each with a profile and 1-6 skills mostly from one category."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.models import Profile, User
    from bench.dataset import copy_links, copy_rows
    from projects.models import Category

    started = time.perf_counter()
    now = timezone.now()
    password = make_password(PASSWORD)
    categories = [list(c.skills.exclude(slug__in=[RARE_SKILL, WORDS_PROJECT_SKILL])) for c in Category.objects.all()]
    categories = [skills for skills in categories if skills]
    category_weights = zipf_cumulative_weights(len(categories))
    rare = Category.objects.get(skills__slug=RARE_SKILL).skills.get(slug=RARE_SKILL)
    first = (User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    last = first + count - 1
    users, profiles, links = [], [], []
    for pk in range(first, last + 1):
        users.append({"id": pk, "username": f"al{pk}", "email": f"al{pk}@example.com", "password": password,
                      "is_active": True, "date_joined": now, "language": rng.choice(("fa", "fa", "en"))})  # fmt: skip
        profiles.append({"id": pk, "user_id": pk, "display_name": f"Freelancer {pk}", "listed": True})
        home = rng.choices(categories, cum_weights=category_weights)[0]
        weights = zipf_cumulative_weights(len(home))
        skills = {skill.pk for skill in rng.choices(home, cum_weights=weights, k=rng.randint(1, 6))}
        if rng.random() < 0.001:
            skills.add(rare.pk)
        links += [(pk, skill_id) for skill_id in sorted(skills)]
    copy_rows(User, users)
    copy_rows(Profile, profiles)
    copy_links(Profile.skills.through._meta.db_table, ("profile_id", "skill_id"), links)
    print(f"  freelancers {first:,}-{last:,}: {len(links):,} profile skills, in {time.perf_counter() - started:.1f} s")


def fill_searches(count: int, owners: int, rng: Random, vocabulary: list[str]) -> None:
    """COPY `count` saved searches of the first `owners` freelancers (at most 10 each)."""
    from django.utils import timezone

    from alerts.models import Frequency, SavedSearch
    from alerts.services import saved_search_index_key
    from bench.dataset import copy_links, copy_rows
    from projects.models import Category
    from projects.search import terms

    now = timezone.now()
    categories = list(Category.objects.prefetch_related("skills"))
    weights = zipf_cumulative_weights(len(vocabulary))
    rows, links = [], []
    for pk in range(1, count + 1):
        kind = rng.random()
        words = terms(" ".join(rng.choices(vocabulary, cum_weights=weights, k=rng.randint(1, 2)))) if kind < 0.5 else []
        category = rng.choice(categories) if 0.3 <= kind < 0.7 else None
        skills = sorted({s.pk for s in rng.sample(list(rng.choice(categories).skills.all()), 1)}) if kind >= 0.6 else []
        budget_min = Decimal(rng.choice((1, 5, 20))) * 1_000_000 if rng.random() < 0.3 else None
        rows.append(
            {"id": pk, "user_id": rng.randint(1, owners), "query": " ".join(words), "terms": json.dumps(words),
             "category_id": category.pk if category else None, "budget_min": budget_min, "created_at": now,
             "frequency": rng.choice(Frequency.values),
             "index_key": saved_search_index_key(terms=words, skill_ids=skills,
                                                 category_id=category.pk if category else None)}
        )  # fmt: skip
        links += [(pk, skill_id) for skill_id in skills]
    copy_rows(SavedSearch, rows)
    copy_links(SavedSearch.skills.through._meta.db_table, ("savedsearch_id", "skill_id"), links)


def reset_sequences() -> None:
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connection

    models = [apps.get_model(label) for label in ("accounts.User", "accounts.Profile", "alerts.SavedSearch")]
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)
        cursor.execute("ANALYZE")


def new_projects(vocabulary: list[str], size: int) -> list[tuple[str, object]]:
    """Three projects, published by an employer with no alerts (made through the service as drafts, then opened
    without queueing the task: the bench calls the matching itself)."""
    from django.utils import timezone

    from accounts.services import user_create
    from projects.models import Project, Skill
    from projects.services import project_create

    owner = user_create(email=f"boss{size}@example.com", username=f"boss{size}", password=PASSWORD)
    common = Skill.objects.get(slug="django")
    common_words = " ".join(vocabulary[:40:4])  # frequent words of the vocabulary, as many saved searches use them
    rare_words = " ".join(vocabulary[-8:])  # its rarest: few saved searches, if any, use them
    made = []
    for name, text, skill in (
        ("common skill (Django)", rare_words, common),
        (f"rare skill ({RARE_SKILL})", rare_words, Skill.objects.get(slug=RARE_SKILL)),
        ("frequent words, a skill nobody lists", common_words, Skill.objects.get(slug=WORDS_PROJECT_SKILL)),
    ):
        project = project_create(
            owner=owner, title=text[:120], description=f"{text} {text}", category=skill.category, skills=[skill],
            currency="IRT", budget_min=Decimal(2_000_000), budget_max=Decimal(8_000_000), kind=Project.Kind.SINGLE,
            duration_days=30,
        )  # fmt: skip
        Project.objects.filter(pk=project.pk).update(status=Project.Status.OPEN, published_at=timezone.now())
        project.refresh_from_db()
        made.append((name, project))
    return made


def measure(size: int, projects, runs: int) -> None:
    from django.db import connection, reset_queries

    from alerts.services import project_alert_matching, project_alerts_send

    print(f"\n{size:,} freelancers")
    print(f"  {'project':38} {'searches examined':>17} {'matched':>8} {'profiles':>9} {'people':>7} "
          f"{'matching median':>15} {'p95':>8} {'queries':>7} {'announce all':>12} {'per person':>10}")  # fmt: skip
    for name, project in projects:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            matching = project_alert_matching(project=project)
            times.append((time.perf_counter() - started) * 1000)
        connection.force_debug_cursor = True
        reset_queries()
        project_alert_matching(project=project)
        queries = len(connection.queries)
        connection.force_debug_cursor = False
        started = time.perf_counter()
        run = project_alerts_send(project_id=project.pk)
        announce = time.perf_counter() - started
        people = len(matching.recipients)
        times.sort()
        print(
            f"  {name:38} {matching.searches_examined:>17,} {matching.searches_matched:>8,} "
            f"{matching.profiles_matched:>9,} {people:>7,} {statistics.median(times):>12.1f} ms "
            f"{times[int(len(times) * 0.95) - 1]:>5.1f} ms {queries:>7} {announce:>10.2f} s "
            f"{(announce * 1000 / people if people else 0):>7.2f} ms"
        )
        assert run.matched == people


def main() -> None:
    args = parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    rng = Random(SEED)
    vocabulary = ranked_vocabulary(Random(SEED))
    setup_django()
    try:
        done = 0
        for size in sizes:
            print(f"filling up to {size:,} freelancers")
            fill_freelancers(size - done, rng)
            if done == 0:
                fill_searches(args.searches, min(size, 10_000), rng, vocabulary)
                print(f"  {args.searches:,} saved searches by the first {min(size, 10_000):,} freelancers")
            done = size
            reset_sequences()
            measure(size, new_projects(vocabulary, size), args.runs)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            server_execute(f"DROP DATABASE IF EXISTS {DB_NAME}")


if __name__ == "__main__":
    main()
