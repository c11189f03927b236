"""Every deadline of a contract, enforced: the review clock's release (workspace.services.delivery), the
remainder clock (the employer is warned before it runs out; when it does, both are told and the freelancer may
dispute non-payment), and the stages of a dispute (warned before; unanswered → the claim stands; negotiation
over → staff). Run every minute by the beat (workspace.tasks.enforce_deadlines) and by
`manage.py enforce_deadlines`; each step locks its row and re-reads it, so concurrent or repeated runs act once.
"""

import logging
from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications.models import Notification
from workspace.models import Dispute, Milestone, MilestoneEvent
from workspace.services.delivery import release_due_escrow, warn_before_auto_release
from workspace.services.disputes import dispute_enforce_deadline, dispute_warn_deadline
from workspace.services.history import notify_parties, record_event

logger = logging.getLogger(__name__)


def warn_before_remainder_due(*, now=None) -> int:
    """Tell the employer the rest is due soon, once per remainder clock."""
    now = now or timezone.now()
    due = Milestone.objects.filter(
        status=Milestone.Status.DELIVERED, remainder_due_at__gt=now,
        remainder_due_at__lte=now + settings.ESCROW_REMAINDER_WARNING,
    ).exclude(remainder_warned_for=F("remainder_due_at"))  # fmt: skip
    warned = 0
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            milestone = (
                Milestone.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("contract__project", "contract__employer")
                .filter(pk=pk, status=Milestone.Status.DELIVERED, remainder_due_at__gt=now)
                .exclude(remainder_warned_for=F("remainder_due_at"))
                .first()
            )
            if milestone is None:
                continue
            milestone.remainder_warned_for = milestone.remainder_due_at
            milestone.save(update_fields=["remainder_warned_for"])
            notify_parties(
                milestone, Notification.Kind.REMAINDER_DUE_SOON, [milestone.contract.employer],
                when=milestone.remainder_due_at.isoformat(), amount=milestone.remaining_to_fund,
            )  # fmt: skip
            warned += 1
    return warned


def mark_remainder_lapsed(*, now=None) -> int:
    """The remainder clock ran out: a line on the timeline and a notice to both (once); from now on the
    freelancer may dispute non-payment (rules._dispute reads the time itself, so nothing waits on this)."""
    now = now or timezone.now()
    lapsed = Milestone.objects.filter(
        status=Milestone.Status.DELIVERED, remainder_due_at__lte=now, remainder_lapsed=False
    )
    count = 0
    for pk in lapsed.values_list("pk", flat=True):
        with transaction.atomic():
            milestone = (
                Milestone.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("contract__project", "contract__employer", "contract__freelancer")
                .filter(pk=pk, status=Milestone.Status.DELIVERED, remainder_due_at__lte=now, remainder_lapsed=False)
                .first()
            )
            if milestone is None:
                continue
            milestone.remainder_lapsed = True
            milestone.save(update_fields=["remainder_lapsed"])
            record_event(milestone, MilestoneEvent.Kind.REMAINDER_LAPSED, before=milestone.status)
            contract = milestone.contract
            notify_parties(
                milestone, Notification.Kind.REMAINDER_LAPSED, [contract.freelancer, contract.employer],
                amount=milestone.remaining_to_fund,
            )  # fmt: skip
            count += 1
    return count


def enforce_dispute_deadlines(*, now=None) -> dict[str, int]:
    now = now or timezone.now()
    done = {"warned": 0, "defaulted": 0, "escalated": 0}
    open_stages = [Dispute.Status.OPEN, Dispute.Status.ANSWERED]
    soon = Dispute.objects.filter(
        status__in=open_stages, deadline__gt=now, deadline__lte=now + settings.DISPUTE_DEADLINE_WARNING
    ).filter(Q(deadline_warned_for__isnull=True) | ~Q(deadline_warned_for=F("deadline")))
    for pk in soon.values_list("pk", flat=True):
        with _each("dispute warning", pk):
            done["warned"] += dispute_warn_deadline(pk, now=now)
    passed = Dispute.objects.filter(status__in=open_stages, deadline__lte=now).order_by("deadline")
    for pk in passed.values_list("pk", flat=True):
        with _each("dispute deadline", pk):
            if outcome := dispute_enforce_deadline(pk, now=now):
                done[outcome] += 1
    return done


@contextmanager
def _each(what: str, pk: int):
    """One row's failure is logged (with its traceback, to the error reports) and the sweep goes on with the
    next: a row that cannot be handled must not hold up every other deadline, every minute."""
    try:
        yield
    except Exception:
        logger.exception("%s of %s failed; the sweep goes on", what, pk)


def enforce_deadlines(*, now=None) -> dict[str, int]:
    """Every clock, in one sweep. Returns what each step did (for the command's output and the tests)."""
    now = now or timezone.now()
    done = {}
    for name, step in (
        ("released", release_due_escrow),
        ("release_warned", warn_before_auto_release),
        ("remainder_warned", warn_before_remainder_due),
        ("remainder_lapsed", mark_remainder_lapsed),
    ):
        done[name] = 0
        with _each(name, 0):
            done[name] = step(now=now)
    done.update({f"disputes_{key}": value for key, value in enforce_dispute_deadlines(now=now).items()})
    return done
