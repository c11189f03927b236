"""A marketplace of any size, written with COPY: users, profiles, projects, skills, proposals, conversations,
messages, contracts and milestones in fixed proportions to the number of projects, from a fixed seed.

Used by bench/load_bench.py. The texts come from search_bench's vocabulary (Persian and English words, in a
Zipf-like frequency order), so a word search finds as many matches here as there. Per 100 projects:

    employers 5, freelancers 10, proposals about 200 (on published projects), conversations 25 (2 messages
    each), contracts 6 (one selected proposal and one milestone each; in progress or completed projects).

Every row goes through COPY with explicit primary keys; the sequences are moved past them at the end. Call
`fill(projects)` with Django set up on an empty, migrated database (the skill catalogue is loaded by migrations).
"""

import time
from datetime import timedelta
from decimal import Decimal
from random import Random

from bench.search_bench import ranked_vocabulary, zipf_cumulative_weights

SEED = 42
BATCH = 50_000  # projects generated, then copied, at a time: memory stays flat at any size
PASSWORD = "x-Bench-pass-1"  # noqa: S105 — the bench's throwaway accounts, on a scratch database


def _defaults(model, now) -> dict:
    """Each concrete field's value when a row does not give one: the field's default, now for auto_now(_add),
    NULL or "" when the field allows it."""
    values = {}
    for field in model._meta.concrete_fields:
        if field.has_default():
            values[field.attname] = field.get_default()
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            values[field.attname] = now
        elif field.null:
            values[field.attname] = None
        elif field.blank:
            values[field.attname] = ""
        else:
            values[field.attname] = _REQUIRED
    return values


_REQUIRED = object()


def copy_rows(model, rows) -> int:
    """COPY dicts (attname -> value, "id" included) into the model's table; the fields a row leaves out take
    their defaults. Returns how many rows went in."""
    from django.db import connection
    from django.utils import timezone

    fields = list(model._meta.concrete_fields)
    defaults = _defaults(model, timezone.now())
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            values = [row.get(field.attname, defaults[field.attname]) for field in fields]
            if any(value is _REQUIRED for value in values):
                missing = [field.attname for field, value in zip(fields, values, strict=True) if value is _REQUIRED]
                raise ValueError(f"{model.__name__} row without {missing}")
            copy.write_row(values)
            count += 1
    return count


def copy_links(table: str, columns: tuple[str, str], pairs) -> int:
    from django.db import connection

    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for pair in pairs:
            copy.write_row(pair)
            count += 1
    return count


def fill(projects: int) -> dict:
    """Write the marketplace; returns the counts of what it wrote and how long it took."""
    from django.contrib.auth.hashers import make_password
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Profile, User
    from projects.models import Category, Project
    from projects.search import normalize
    from proposals.models import Conversation, Message, Proposal
    from workspace.models import Contract, Milestone

    started = time.perf_counter()
    rng = Random(SEED)
    vocabulary = ranked_vocabulary(rng)
    weights = zipf_cumulative_weights(len(vocabulary))
    now = timezone.now()
    password = make_password(PASSWORD)
    employers = max(projects // 20, 10)
    freelancers = max(projects // 10, 20)
    categories = [(category.pk, [skill.pk for skill in category.skills.all()]) for category in Category.objects.all()]
    categories = [(pk, skills) for pk, skills in categories if skills]
    counts = {}

    def words(low: int, high: int) -> str:
        return " ".join(rng.choices(vocabulary, cum_weights=weights, k=rng.randint(low, high)))

    with transaction.atomic():
        user_ids = range(1, employers + freelancers + 1)
        counts["users"] = copy_rows(
            User,
            (
                {"id": pk, "username": f"load{pk}", "email": f"load{pk}@example.com", "password": password,
                 "date_joined": now - timedelta(days=pk % 700), "language": "fa" if pk % 3 else "en"}
                for pk in user_ids
            ),
        )  # fmt: skip
        counts["profiles"] = copy_rows(
            Profile,
            (
                {"id": pk, "user_id": pk, "display_name": f"{words(1, 2)} {pk}"[:80], "headline": words(3, 6)[:120],
                 "bio": words(10, 30)[:1000]}
                for pk in user_ids
            ),
        )  # fmt: skip
        freelancer_ids = range(employers + 1, employers + freelancers + 1)
        profile_skills = Profile.skills.through
        counts["profile skills"] = copy_links(
            profile_skills._meta.db_table,
            ("profile_id", "skill_id"),
            (
                (pk, skill)
                for pk in freelancer_ids
                for skill in rng.sample(
                    categories[pk % len(categories)][1], min(3, len(categories[pk % len(categories)][1]))
                )
            ),
        )

        proposal_id = conversation_id = message_id = contract_id = 0
        for start in range(1, projects + 1, BATCH):
            project_rows, skill_links, proposal_rows, conversation_rows, message_rows = [], [], [], [], []
            contract_rows, milestone_rows = [], []
            for pk in range(start, min(start + BATCH, projects + 1)):
                title = words(3, 8)[:120]
                description = words(30, 80) + "."
                category, skill_ids = rng.choice(categories)
                budget_min = Decimal(rng.randint(5, 500) * 100_000)
                budget_max = budget_min * rng.choice((1, 1, 2, 3, 4))
                roll = rng.random()
                status = (
                    Project.Status.OPEN if roll < 0.85
                    else Project.Status.DRAFT if roll < 0.90
                    else Project.Status.CLOSED if roll < 0.94
                    else Project.Status.IN_PROGRESS if roll < 0.98
                    else Project.Status.COMPLETED
                )  # fmt: skip
                published = (
                    None if status == Project.Status.DRAFT else now - timedelta(seconds=rng.randint(60, 365 * 86400))
                )
                bids = 0 if status == Project.Status.DRAFT else rng.randint(0, 4)
                bidders = rng.sample(freelancer_ids, bids)
                for number, freelancer in enumerate(bidders):
                    proposal_id += 1
                    selected = number == 0 and status in (Project.Status.IN_PROGRESS, Project.Status.COMPLETED)
                    proposal_rows.append(
                        {"id": proposal_id, "project_id": pk, "freelancer_id": freelancer,
                         "amount": budget_min, "delivery_days": rng.randint(1, 60), "cover_letter": words(15, 40),
                         "status": Proposal.Status.SELECTED if selected else Proposal.Status.SENT,
                         "created_at": published, "updated_at": published}
                    )  # fmt: skip
                    if selected:
                        contract_id += 1
                        done = status == Project.Status.COMPLETED
                        contract_rows.append(
                            {"id": contract_id, "project_id": pk, "proposal_id": proposal_id,
                             "employer_id": 1 + pk % employers, "freelancer_id": freelancer, "currency": "IRT",
                             "status": Contract.Status.COMPLETED if done else Contract.Status.ACTIVE,
                             "created_at": published, "accepted_at": published, "closed_at": now if done else None}
                        )  # fmt: skip
                        milestone_rows.append(
                            {"id": contract_id, "contract_id": contract_id, "number": 1, "title": title[:200],
                             "amount": budget_min, "upfront_share": Decimal(1),
                             "funded": budget_min, "released": budget_min if done else 0,
                             "status": Milestone.Status.COMPLETED if done else Milestone.Status.FUNDED}
                        )  # fmt: skip
                    if number == 0 and pk % 4 == 0:
                        conversation_id += 1
                        conversation_rows.append(
                            {"id": conversation_id, "project_id": pk, "freelancer_id": freelancer,
                             "created_at": published, "last_message_at": published}
                        )  # fmt: skip
                        for sender in (freelancer, 1 + pk % employers):
                            message_id += 1
                            message_rows.append(
                                {"id": message_id, "conversation_id": conversation_id, "sender_id": sender,
                                 "body": words(5, 20), "created_at": published}
                            )  # fmt: skip
                project_rows.append(
                    {"id": pk, "owner_id": 1 + pk % employers, "title": title, "description": description,
                     "category_id": category, "currency": "IRT", "budget_min": budget_min, "budget_max": budget_max,
                     "duration_days": rng.randint(1, 120), "status": status, "published_at": published,
                     "kind": rng.choice((Project.Kind.SINGLE, Project.Kind.PHASED)), "proposal_count": bids,
                     "search_document": normalize(f"{title} {description}"), "created_at": published or now,
                     "updated_at": published or now}
                )  # fmt: skip
                skill_links += [(pk, skill) for skill in rng.sample(skill_ids, min(rng.randint(1, 5), len(skill_ids)))]
            for name, model, rows in [
                ("projects", Project, project_rows),
                ("proposals", Proposal, proposal_rows),
                ("conversations", Conversation, conversation_rows),
                ("messages", Message, message_rows),
                ("contracts", Contract, contract_rows),
                ("milestones", Milestone, milestone_rows),
            ]:
                counts[name] = counts.get(name, 0) + copy_rows(model, rows)
            links = copy_links(Project.skills.through._meta.db_table, ("project_id", "skill_id"), skill_links)
            counts["project skills"] = counts.get("project skills", 0) + links
        models = [User, Profile, Project, Proposal, Conversation, Message, Contract, Milestone]
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(statement)
    written = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")  # as autovacuum would leave a long-lived database: stats, visibility map
    counts["seconds"] = (round(written, 1), round(time.perf_counter() - started - written, 1))
    return counts
