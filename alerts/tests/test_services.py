"""Job alerts: matching a newly published project to saved searches and profile skills, once per freelancer, never
its owner; the limit on saved searches; the e-mail frequencies and the daily e-mail. The Celery tasks are the real
task functions, called directly; the database is the real one."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test.utils import override_settings
from django.utils import timezone

from accounts.services import user_set_language
from alerts.models import AlertMatch, AlertRun, AlertSettings, Frequency, SavedSearch
from alerts.services import alert_settings_save, project_alert_matching, saved_search_index_key
from alerts.tasks import send_alert_digests, send_project_alerts, sweep_project_alerts
from alerts.tests.factories import freelancer, save_search
from marketplace.errors import DomainError
from notifications.models import Notification, OutgoingEmail
from notifications.services import email_preferences_save
from projects.models import Category, Project
from projects.services import project_set_status
from projects.tests.factories import make_project, skill

pytestmark = pytest.mark.django_db
JOB_ALERT = Notification.Kind.JOB_ALERT
M = Decimal(1_000_000)


def alerted(user) -> int:
    return Notification.objects.filter(recipient=user, kind=JOB_ALERT).count()


def mailed(user) -> list[OutgoingEmail]:
    return [email for email in OutgoingEmail.objects.all() if user.email in email.to]


def alert_tasks(callbacks) -> list:
    """The on-commit callbacks that queue the alerts task (others, such as the page cache's, run beside them)."""
    return [callback for callback in callbacks if "project_alerts_queue" in callback.__qualname__]


def web(slug="web-development"):
    return Category.objects.get(slug=slug)


def django_project(**extra):
    extra.setdefault("skills", [skill("django")])
    extra.setdefault("category", web())
    return make_project(**extra)


# --- the matching --------------------------------------------------------------------------------------------


def test_a_freelancer_with_the_projects_skill_is_alerted_by_their_profile_and_others_are_not():
    fits = freelancer(skills=[skill("django")])
    other = freelancer(skills=[skill("logo-design")])
    no_skills = freelancer()
    project = django_project(title="A Django shop")

    send_project_alerts(project.pk)

    assert [alerted(fits), alerted(other), alerted(no_skills)] == [1, 0, 0]
    notification = Notification.objects.get(recipient=fits)
    assert notification.url == f"/projects/{project.pk}/"
    assert "A Django shop" in notification.text
    assert "2,000,000" in notification.text  # the top of the budget


def test_a_saved_search_matches_by_skill_category_and_words_each_as_the_listing_would():
    by_skill, by_category, by_words, by_nothing_shared = (freelancer() for _ in range(4))
    save_search(by_skill, skills=[skill("django")])
    save_search(by_category, category=web())
    save_search(by_words, query="rug shop")
    save_search(by_nothing_shared, query="rug", category=web("graphic-design"))

    project = django_project(title="Handmade rugs", description="An online shop for our handmade rugs and kilims.")
    send_project_alerts(project.pk)

    assert [alerted(by_skill), alerted(by_category), alerted(by_words), alerted(by_nothing_shared)] == [1, 1, 1, 0]


def test_every_saved_word_must_begin_a_word_of_the_project():
    prefix, missing_word, inside_a_word = freelancer(), freelancer(), freelancer()
    save_search(prefix, query="hand rug")  # "hand" begins "handmade"
    save_search(missing_word, query="rug carpet")
    save_search(inside_a_word, query="made")  # inside "handmade", at the start of no word

    send_project_alerts(django_project(title="Handmade rugs", description="Pictures of our rugs, for a shop.").pk)

    assert [alerted(prefix), alerted(missing_word), alerted(inside_a_word)] == [1, 0, 0]


@pytest.mark.parametrize("typed", ["فرشي", "فرشی", "فرش‌ی"])
def test_persian_words_match_however_typed_arabic_ye_or_zero_width_joiner(typed):
    searcher = freelancer()
    save_search(searcher, query=f"کاتالوگ {typed}")

    send_project_alerts(django_project(title="کاتالوگ فرشیهای دستباف", description="برای فروشگاه اینترنتی ما.").pk)

    assert alerted(searcher) == 1


def test_budget_ranges_must_overlap_and_the_kind_must_match():
    cheap, rich, overlapping, phased_only = freelancer(), freelancer(), freelancer(), freelancer()
    save_search(cheap, category=web(), budget_max=Decimal(500_000))
    save_search(rich, category=web(), budget_min=Decimal(3) * M)
    save_search(overlapping, category=web(), budget_min=Decimal("1.5") * M, budget_max=Decimal(5) * M)
    save_search(phased_only, category=web(), kind=Project.Kind.PHASED)

    send_project_alerts(django_project(budget_min=1 * M, budget_max=2 * M).pk)

    assert [alerted(cheap), alerted(rich), alerted(overlapping), alerted(phased_only)] == [0, 0, 1, 0]


def test_a_search_of_several_skills_needs_all_of_them():
    both, one_more = freelancer(), freelancer()
    save_search(both, skills=[skill("django"), skill("react")])
    save_search(one_more, skills=[skill("django"), skill("laravel")])

    send_project_alerts(django_project(skills=[skill("django"), skill("react")]).pk)

    assert [alerted(both), alerted(one_more)] == [1, 0]


def test_several_matching_alerts_make_one_notification_and_the_most_eager_email():
    keen = freelancer(skills=[skill("django")])  # the profile alert: daily by default
    save_search(keen, query="shop", frequency=Frequency.OFF)
    save_search(keen, skills=[skill("django")], frequency=Frequency.INSTANT)
    save_search(keen, category=web(), frequency=Frequency.DAILY)

    project = django_project(title="A Django shop")
    send_project_alerts(project.pk)
    send_project_alerts(project.pk)  # a redelivered task, or the sweep: nobody is told twice

    assert alerted(keen) == 1
    assert len(mailed(keen)) == 1
    assert AlertMatch.objects.get(user=keen, project=project).email == Frequency.INSTANT


def test_the_owner_is_never_alerted_of_their_own_project():
    owner = freelancer(skills=[skill("django")])
    save_search(owner, category=web())

    send_project_alerts(django_project(owner=owner).pk)

    assert alerted(owner) == 0


def test_a_deactivated_account_and_a_turned_off_profile_alert_are_not_alerted():
    gone = freelancer(skills=[skill("django")])
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    quiet = freelancer(skills=[skill("django")])
    alert_settings_save(user=quiet, profile_skills=False, profile_frequency=Frequency.DAILY)

    send_project_alerts(django_project().pk)

    assert [alerted(gone), alerted(quiet)] == [0, 0]


def test_a_draft_is_not_alerted_until_it_is_published(django_capture_on_commit_callbacks):
    fits = freelancer(skills=[skill("django")])
    with django_capture_on_commit_callbacks(execute=True):
        draft = django_project(publish=False)
    send_project_alerts(draft.pk)  # even asked directly, a draft is announced to nobody
    assert alerted(fits) == 0

    with django_capture_on_commit_callbacks(execute=True) as queued:
        project_set_status(project=draft, by=draft.owner, status=Project.Status.OPEN)

    assert len(alert_tasks(queued)) == 1  # queued once the publication commits, it ran (Celery is eager in tests)
    assert alerted(fits) == 1
    assert AlertRun.objects.get(project=draft).matched == 1


def test_reopening_a_closed_project_alerts_nobody_again(django_capture_on_commit_callbacks):
    fits = freelancer(skills=[skill("django")])
    with django_capture_on_commit_callbacks(execute=True):
        project = django_project()
    project_set_status(project=project, by=project.owner, status=Project.Status.CLOSED)
    with django_capture_on_commit_callbacks(execute=True) as queued:
        project_set_status(project=project, by=project.owner, status=Project.Status.OPEN)

    assert alert_tasks(queued) == []
    assert alerted(fits) == 1


def test_a_project_matching_many_is_announced_in_batches_each_once():
    people = [freelancer(skills=[skill("django")]) for _ in range(7)]
    project = django_project()

    from alerts.services import project_alerts_send

    run = project_alerts_send(project_id=project.pk, batch_size=3)

    assert run.matched == 7
    assert [alerted(person) for person in people] == [1] * 7
    assert AlertMatch.objects.filter(project=project).count() == 7


def test_the_sweep_matches_a_project_whose_task_was_lost_and_only_once():
    fits = freelancer(skills=[skill("django")])
    project = django_project()  # its on-commit task never ran (no commit in this test): as if the broker was down
    Project.objects.filter(pk=project.pk).update(published_at=timezone.now() - timedelta(minutes=10))

    assert sweep_project_alerts() == 1
    assert sweep_project_alerts() == 0
    assert alerted(fits) == 1


# --- what the matching costs -----------------------------------------------------------------------------------


def test_a_saved_search_is_filed_under_its_most_selective_key():
    assert saved_search_index_key(terms=["rug", "shopping"], skill_ids=[5], category_id=2) == "word:shopping"
    assert saved_search_index_key(terms=["ui"], skill_ids=[7, 5], category_id=2) == "skill:5"
    assert saved_search_index_key(terms=["ui"], skill_ids=[], category_id=2) == "category:2"
    assert saved_search_index_key(terms=["ui"], skill_ids=[], category_id=None) == "word:ui"
    assert saved_search_index_key(terms=[], skill_ids=[], category_id=None) == ""


def test_only_alerts_that_could_match_are_examined():
    for _ in range(5):
        save_search(freelancer(), skills=[skill("logo-design")])  # filed under another skill: never read
        save_search(freelancer(), query="carpets")  # another word
        freelancer(skills=[skill("logo-design")])
    match = freelancer()
    save_search(match, query="rug")
    near_miss = freelancer()
    save_search(near_miss, query="rug", budget_min=Decimal(9) * M)  # filed under "rug", refused by its budget

    matching = project_alert_matching(project=django_project(title="Rug shop", skills=[skill("react")]))

    assert set(matching.recipients) == {match.pk}
    assert matching.searches_examined == 2


@pytest.mark.parametrize("others", [10, 60])
def test_matching_runs_the_same_few_queries_however_many_users_do_not_match(others, django_assert_max_num_queries):
    for index in range(others):
        save_search(freelancer(), skills=[skill("logo-design")], frequency=Frequency.OFF)
        if index % 2:
            freelancer(skills=[skill("laravel")])
    fits = [freelancer(skills=[skill("django")]) for _ in range(3)]
    for person in fits:
        save_search(person, query="shop", frequency=Frequency.OFF)
    alert_settings_save(user=fits[0], profile_skills=True, profile_frequency=Frequency.OFF)
    project = django_project(title="A Django shop")

    # The project, its skills, the saved searches filed under its keys, their skills, the matching profiles; then
    # one batch in a savepoint: the matches, the users, the notifications (one bulk insert); then the run's row
    # (update_or_create: a savepoint, select, savepoint, insert). Sixteen, with 10 or 60 users who do not match.
    with django_assert_max_num_queries(16):
        send_project_alerts(project.pk)

    assert [alerted(person) for person in fits] == [1, 1, 1]


# --- the e-mails -----------------------------------------------------------------------------------------------


def test_at_once_emails_now_daily_waits_for_the_digest_and_off_never_emails():
    at_once, daily, off = freelancer(), freelancer(), freelancer()
    save_search(at_once, category=web(), frequency=Frequency.INSTANT)
    save_search(daily, category=web(), frequency=Frequency.DAILY)
    save_search(off, category=web(), frequency=Frequency.OFF)

    send_project_alerts(django_project(title="A Django shop").pk)

    assert [alerted(at_once), alerted(daily), alerted(off)] == [1, 1, 1]  # the notification centre, always
    assert [len(mailed(at_once)), len(mailed(daily)), len(mailed(off))] == [1, 0, 0]
    assert "A Django shop" in mailed(at_once)[0].body

    assert send_alert_digests() == 1
    assert [len(mailed(at_once)), len(mailed(daily)), len(mailed(off))] == [1, 1, 0]
    assert send_alert_digests() == 0  # each project is listed once


def test_the_daily_email_lists_the_days_projects_in_one_email_in_the_readers_language():
    reader = freelancer(skills=[skill("django")])  # the profile alert: daily unless chosen otherwise
    user_set_language(user=reader, language="fa")
    first = django_project(title="فروشگاه جنگو")
    second = django_project(title="Django API", budget_max=Decimal(3) * M)
    closed = django_project(title="Closed before the digest")
    for project in (first, second, closed):
        send_project_alerts(project.pk)
    project_set_status(project=closed, by=closed.owner, status=Project.Status.CLOSED)
    assert mailed(reader) == []

    assert send_alert_digests() == 1

    [email] = mailed(reader)
    assert "سلام" in email.body  # the greeting in Persian
    assert "۲" in email.subject  # two projects, counted in Persian digits
    assert "فروشگاه جنگو" in email.body and "Django API" in email.body
    assert "Closed before the digest" not in email.body
    assert f"/projects/{first.pk}/" in email.body and f"/projects/{second.pk}/" in email.body
    assert "۳٬۰۰۰٬۰۰۰" in email.body  # amounts in Persian digits
    assert AlertMatch.objects.filter(user=reader, digested_at__isnull=True).count() == 0


def test_turning_off_job_alert_emails_in_notification_settings_stops_both_kinds_of_email():
    at_once, daily = freelancer(), freelancer()
    save_search(at_once, category=web(), frequency=Frequency.INSTANT)
    save_search(daily, category=web(), frequency=Frequency.DAILY)
    for person in (at_once, daily):
        email_preferences_save(user=person, muted=[JOB_ALERT])

    send_project_alerts(django_project().pk)
    send_alert_digests()

    assert [alerted(at_once), alerted(daily)] == [1, 1]
    assert mailed(at_once) == mailed(daily) == []
    assert mail.outbox == []


# --- saving searches -------------------------------------------------------------------------------------------


@override_settings(JOB_ALERTS_MAX_SAVED_SEARCHES=3)
def test_a_user_keeps_at_most_the_set_number_of_saved_searches():
    user = freelancer()
    for word in ("rug", "shop", "logo"):
        save_search(user, query=word)

    with pytest.raises(DomainError, match="at most 3 saved searches"):
        save_search(user, query="carpet")
    assert SavedSearch.objects.filter(user=user).count() == 3


def test_an_empty_a_repeated_or_an_impossible_search_is_refused():
    user = freelancer()
    with pytest.raises(DomainError, match="Choose words, a category"):
        save_search(user, query="  ")
    save_search(user, query="rug shop", skills=[skill("django")])
    with pytest.raises(DomainError, match="saved as an alert already"):
        save_search(user, query="Rug  SHOP", skills=[skill("django")])
    with pytest.raises(DomainError, match="lower end is above"):
        save_search(user, budget_min=Decimal(5), budget_max=Decimal(1))
    assert SavedSearch.objects.filter(user=user).count() == 1


def test_alert_settings_default_to_on_with_a_daily_email():
    user = freelancer(skills=[skill("django")])
    send_project_alerts(django_project().pk)

    assert not AlertSettings.objects.filter(user=user).exists()
    assert AlertMatch.objects.get(user=user).email == Frequency.DAILY
