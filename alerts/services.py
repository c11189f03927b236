"""Job alerts: saving searches as alerts, and announcing each newly published project to the freelancers whose
alerts match it, once each, in batches.

How a project finds its alerts without reading every user (alerts.models explains the index):

1. the keys the project has: "skill:<id>" for each of its skills, "category:<id>", and "word:<p>" for every
   beginning p of every word of its title and description (a saved word matches any word it begins, as in the
   search), plus "" (searches by budget or kind alone);
2. the saved searches filed under those keys (one indexed lookup), each then checked exactly here;
3. the profiles linked to one of the project's skills whose owners have not turned that alert off (one lookup in
   the profile↔skill links, indexed by skill).

So the work is the number of alerts that could match, whatever the number of users.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Profile, User
from alerts.models import EAGERNESS, AlertMatch, AlertRun, AlertSettings, Frequency, SavedSearch
from marketplace.errors import DomainError, NotAllowed
from marketplace.l10n import format_number
from marketplace.mail import mail_build
from notifications.models import Notification
from notifications.services import email_wanted, notify
from projects.models import Project
from projects.search import terms as search_terms
from projects.selectors import ProjectFilters

logger = logging.getLogger(__name__)

# A word is filed under its first KEY_LETTERS letters (the exact check then reads it whole).
KEY_LETTERS = 60
# The e-mail of the alert on a profile's skills, for someone who never chose: a profile with common skills matches
# several projects a day, and one e-mail a day about them is kinder than one each (the notification centre still
# shows each at once). A saved search is narrower and chosen on purpose: at once.
PROFILE_ALERT_FREQUENCY = Frequency.DAILY
# How long after its publication a project whose matching never finished is matched by the sweep.
SWEEP_GRACE_MINUTES = 5
SWEEP_WINDOW_HOURS = 24


# --- saved searches --------------------------------------------------------------------------------------------


def _word_key(word: str) -> str:
    return f"word:{word[:KEY_LETTERS]}"


def saved_search_index_key(*, terms: list[str], skill_ids: list[int], category_id: int | None) -> str:
    """The one key a saved search is filed under: something every project it matches must have, the most
    selective one we can tell without counting (a word of 3 letters or more, the longest; else a skill; else the
    category; else a short word), or "" when it asks only for a budget or a kind."""
    long_words = [term for term in terms if len(term) >= 3]
    if long_words:
        return _word_key(max(long_words, key=len))
    if skill_ids:
        return f"skill:{min(skill_ids)}"
    if category_id:
        return f"category:{category_id}"
    if terms:
        return _word_key(max(terms, key=len))
    return ""


def _same_search(search: SavedSearch, terms: list[str], skill_ids: set[int], filters: ProjectFilters) -> bool:
    return (
        search.terms == terms
        and search.category_id == (filters.category.pk if filters.category else None)
        and {skill.pk for skill in search.skills.all()} == skill_ids
        and search.budget_min == filters.budget_min
        and search.budget_max == filters.budget_max
        and search.kind == (filters.kind or "")
    )


@transaction.atomic
def saved_search_create(*, user: User, filters: ProjectFilters, frequency: str = Frequency.INSTANT) -> SavedSearch:
    """Keep a search of Active projects as an alert, within the user's JOB_ALERTS_MAX_SAVED_SEARCHES."""
    User.objects.select_for_update().filter(pk=user.pk).first()  # two tabs saving at once are counted one by one
    terms = search_terms(filters.query)
    skill_ids = {skill.pk for skill in filters.skills}
    if frequency not in Frequency.values:
        raise DomainError(_("Choose how often to be e-mailed from the list."))
    if not (terms or filters.category or skill_ids or filters.kind) and (
        filters.budget_min is None and filters.budget_max is None
    ):
        raise DomainError(
            _("Choose words, a category, skills or a budget first: an alert on every new project would be noise.")
        )
    if filters.budget_min is not None and filters.budget_max is not None and filters.budget_min > filters.budget_max:
        raise DomainError(_("The budget's lower end is above its upper end; no project could match."))
    existing = list(SavedSearch.objects.filter(user=user).prefetch_related("skills"))
    limit = settings.JOB_ALERTS_MAX_SAVED_SEARCHES
    if len(existing) >= limit:
        raise DomainError(
            ngettext(
                "You can keep at most %(count)s saved search. Delete one to save this search.",
                "You can keep at most %(count)s saved searches. Delete one to save this search.",
                limit,
            )
            % {"count": format_number(limit)}
        )
    if any(_same_search(search, terms, skill_ids, filters) for search in existing):
        raise DomainError(_("This search is saved as an alert already."))
    search = SavedSearch.objects.create(
        user=user,
        query=" ".join(filters.query.split())[:200],
        terms=terms,
        category=filters.category,
        budget_min=filters.budget_min,
        budget_max=filters.budget_max,
        kind=filters.kind or "",
        frequency=frequency,
        index_key=saved_search_index_key(
            terms=terms, skill_ids=sorted(skill_ids), category_id=filters.category.pk if filters.category else None
        ),
    )
    search.skills.set(sorted(skill_ids))
    return search


def _own_search(search: SavedSearch, by: User) -> SavedSearch:
    if search.user_id != by.pk:
        raise NotAllowed(_("This alert is not yours."))
    return search


@transaction.atomic
def saved_search_set_frequency(*, search: SavedSearch, by: User, frequency: str) -> SavedSearch:
    _own_search(search, by)
    if frequency not in Frequency.values:
        raise DomainError(_("Choose how often to be e-mailed from the list."))
    SavedSearch.objects.filter(pk=search.pk).update(frequency=frequency)
    search.frequency = frequency
    return search


@transaction.atomic
def saved_search_delete(*, search: SavedSearch, by: User) -> None:
    _own_search(search, by)
    SavedSearch.objects.filter(pk=search.pk).delete()


@transaction.atomic
def alert_settings_save(*, user: User, profile_skills: bool, profile_frequency: str) -> AlertSettings:
    """The alert on the profile's skills: on or off, and how often it e-mails."""
    if profile_frequency not in Frequency.values:
        raise DomainError(_("Choose how often to be e-mailed from the list."))
    preference, _created = AlertSettings.objects.update_or_create(
        user=user, defaults={"profile_skills": profile_skills, "profile_frequency": profile_frequency}
    )
    return preference


# --- matching a new project ------------------------------------------------------------------------------------


@dataclass
class Matching:
    """Who hears of a project, and what it cost to find out."""

    recipients: dict[int, str] = field(default_factory=dict)  # user id → e-mail frequency
    searches_examined: int = 0
    searches_matched: int = 0
    profiles_matched: int = 0

    @property
    def examined(self) -> int:
        return self.searches_examined + self.profiles_matched

    def add(self, user_id: int, frequency: str) -> None:
        current = self.recipients.get(user_id)
        if current is None or EAGERNESS[frequency] > EAGERNESS[current]:
            self.recipients[user_id] = frequency


def project_index_keys(*, project: Project, skill_ids: set[int]) -> set[str]:
    """Every key a saved search matching this project may be filed under (see the module's docstring)."""
    keys = {"", f"category:{project.category_id}"} | {f"skill:{pk}" for pk in skill_ids}
    for word in set(project.search_document.split()):
        keys.update(_word_key(word[:end]) for end in range(1, min(len(word), KEY_LETTERS) + 1))
    return keys


def saved_search_matches(
    search: SavedSearch, *, project: Project, skill_ids: set[int], search_skill_ids: set[int], keys: set[str]
) -> bool:
    """The exact test, as Active projects would list the project for this search: every word begins a word of the
    title or description, the category, every skill, the kind, and the budget ranges overlap."""
    if search.category_id is not None and search.category_id != project.category_id:
        return False
    if not search_skill_ids <= skill_ids:
        return False
    if search.kind and search.kind != project.kind:
        return False
    if search.budget_min is not None and project.budget_max < search.budget_min:
        return False
    if search.budget_max is not None and project.budget_min > search.budget_max:
        return False
    words = project.search_document.split()
    return all(
        _word_key(term) in keys if len(term) <= KEY_LETTERS else any(word.startswith(term) for word in words)
        for term in search.terms
    )


def project_alert_matching(*, project: Project) -> Matching:
    """Everyone whose alerts match `project`, never its owner, each with the most eager e-mail frequency of their
    matching alerts. Three queries, each an index lookup bounded by the alerts that could match."""
    matching = Matching()
    skill_ids = set(project.skills.order_by().values_list("pk", flat=True))
    keys = project_index_keys(project=project, skill_ids=skill_ids)
    candidates = list(
        SavedSearch.objects.filter(index_key__in=sorted(keys), user__is_active=True)
        .exclude(user_id=project.owner_id)
        .only("pk", "user_id", "terms", "category_id", "budget_min", "budget_max", "kind", "frequency")
    )
    matching.searches_examined = len(candidates)
    skills_of: dict[int, set[int]] = {search.pk: set() for search in candidates}
    if candidates:
        links = SavedSearch.skills.through.objects.filter(savedsearch_id__in=list(skills_of))
        for search_id, skill_id in links.values_list("savedsearch_id", "skill_id"):
            skills_of[search_id].add(skill_id)
    for search in candidates:
        if saved_search_matches(
            search, project=project, skill_ids=skill_ids, search_skill_ids=skills_of[search.pk], keys=keys
        ):
            matching.searches_matched += 1
            matching.add(search.user_id, search.frequency)
    if skill_ids:
        profiles = (
            Profile.skills.through.objects.filter(skill_id__in=sorted(skill_ids), profile__user__is_active=True)
            .filter(
                Q(profile__user__alert_settings__isnull=True) | Q(profile__user__alert_settings__profile_skills=True)
            )
            .exclude(profile__user_id=project.owner_id)
            .values_list("profile__user_id", "profile__user__alert_settings__profile_frequency")
            .distinct()
        )
        for user_id, frequency in profiles:
            matching.profiles_matched += 1
            matching.add(user_id, frequency or PROFILE_ALERT_FREQUENCY)
    return matching


def _record_matches(project: Project, batch: dict[int, str]) -> list[int]:
    """Write one AlertMatch per user of the batch; return the users who had none for this project yet (only they
    are told: the matching may run again, by the sweep or a redelivered task)."""
    table = connection.ops.quote_name(AlertMatch._meta.db_table)
    now = timezone.now()
    values = ", ".join(["(%s, %s, %s, %s)"] * len(batch))
    params = [value for user_id, frequency in batch.items() for value in (user_id, project.pk, frequency, now)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, project_id, email, created_at) VALUES {values} "  # noqa: S608 — our own table name
            "ON CONFLICT (user_id, project_id) DO NOTHING RETURNING user_id",
            params,
        )
        return [row[0] for row in cursor.fetchall()]


def _announce(project: Project, batch: dict[int, str]) -> int:
    """Tell one batch of freelancers, in one transaction: a notification each, and an e-mail now to those who
    want one at once (the daily e-mail lists the rest that want it). Returns how many were told."""
    with transaction.atomic():
        new = _record_matches(project, batch)
        if not new:
            return 0
        people = list(User.objects.filter(pk__in=new, is_active=True))
        params = {"project": project.title, "amount": project.budget_max, "currency": project.currency}
        url = reverse("project_detail", args=[project.pk])
        at_once = [user for user in people if batch[user.pk] == Frequency.INSTANT]
        later = [user for user in people if batch[user.pk] != Frequency.INSTANT]
        notify(at_once, Notification.Kind.JOB_ALERT, actor=project.owner, url=url, **params)
        notify(later, Notification.Kind.JOB_ALERT, actor=project.owner, url=url, email=False, **params)
        return len(people)


def project_alerts_send(*, project_id: int, batch_size: int | None = None) -> AlertRun | None:
    """Announce a newly published project to every freelancer whose alerts match it, once each, in batches of
    JOB_ALERTS_BATCH_SIZE (each its own transaction, so ten thousand matches make no giant one). Safe to run
    again: nobody is told twice."""
    project = Project.objects.select_related("owner__profile").filter(pk=project_id).first()
    if project is None or project.status != Project.Status.OPEN:
        return None
    matching = project_alert_matching(project=project)
    size = batch_size or settings.JOB_ALERTS_BATCH_SIZE
    user_ids = sorted(matching.recipients)
    told = 0
    for start in range(0, len(user_ids), size):
        told += _announce(project, {pk: matching.recipients[pk] for pk in user_ids[start : start + size]})
    run, _created = AlertRun.objects.update_or_create(
        project=project, defaults={"candidates": matching.examined, "matched": len(user_ids)}
    )
    logger.info(
        "Job alerts for project %s: %s alerts examined, %s people matched, %s told now",
        project.pk, matching.examined, len(user_ids), told,
    )  # fmt: skip
    return run


def project_alerts_queue(*, project: Project) -> None:
    """Once the publication commits, ask a worker to announce the project. A broker that is down must not fail
    the employer's request: the sweep (project_alerts_sweep) matches the project later."""
    project_id = project.pk

    def queue() -> None:
        from alerts.tasks import send_project_alerts  # Imported here to prevent an import cycle (tasks → services)

        try:
            send_project_alerts.apply_async(args=[project_id], retry=False)
        except Exception:
            logger.warning("Could not queue the job alerts of project %s; the sweep will", project_id, exc_info=True)

    transaction.on_commit(queue)


def project_alerts_sweep(*, now=None) -> int:
    """Match the projects published in the last SWEEP_WINDOW_HOURS whose matching never finished (their task was
    lost). Returns how many were matched."""
    now = now or timezone.now()
    due = (
        Project.objects.filter(
            status=Project.Status.OPEN,
            published_at__gte=now - timedelta(hours=SWEEP_WINDOW_HOURS),
            published_at__lte=now - timedelta(minutes=SWEEP_GRACE_MINUTES),
        )
        .exclude(pk__in=AlertRun.objects.values("project_id"))
        .values_list("pk", flat=True)
    )
    return sum(project_alerts_send(project_id=pk) is not None for pk in list(due))


# --- the daily e-mail ------------------------------------------------------------------------------------------


def alert_digest_send(*, now=None) -> int:
    """One e-mail to each person with projects their daily alerts found since the last one, listing those still
    open, in their language. Returns how many e-mails were queued."""
    now = now or timezone.now()
    due = AlertMatch.objects.filter(email=Frequency.DAILY, digested_at__isnull=True)
    user_ids = sorted(set(due.values_list("user_id", flat=True)))
    sent = 0
    for start in range(0, len(user_ids), settings.JOB_ALERTS_BATCH_SIZE):
        chunk = user_ids[start : start + settings.JOB_ALERTS_BATCH_SIZE]
        users = {user.pk: user for user in User.objects.filter(pk__in=chunk).select_related("profile")}
        wanted = email_wanted(users=users.values(), kind=Notification.Kind.JOB_ALERT)
        for user_id in chunk:
            with transaction.atomic():
                matches = list(
                    due.filter(user_id=user_id)
                    .select_for_update(skip_locked=True, of=("self",))
                    .select_related("project")
                    .order_by("-project__published_at", "-project_id")
                )
                if not matches:
                    continue  # another run took them
                AlertMatch.objects.filter(pk__in=[match.pk for match in matches]).update(digested_at=now)
                projects = [match.project for match in matches if match.project.status == Project.Status.OPEN]
                user = users.get(user_id)
                if not projects or user is None or not user.is_active or not user.email or user_id not in wanted:
                    continue
                _digest_email(user, projects)
                sent += 1
    return sent


def _digest_email(user: User, projects: list[Project]) -> None:
    with translation.override(user.language or settings.LANGUAGE_CODE):
        body = render_to_string(
            "alerts/email/digest.txt",
            {
                "user": user,
                "projects": projects,
                "site_url": settings.SITE_URL,
                "SITE_NAME": settings.SITE_NAME,
            },
        )
        subject = ngettext(
            "%(count)s new project matches your job alerts",
            "%(count)s new projects match your job alerts",
            len(projects),
        ) % {"count": format_number(len(projects))}
        mail_build(subject=subject, text=body, to=[user.email]).send()
