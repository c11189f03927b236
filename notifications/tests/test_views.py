"""The notification centre: the list, the bell's badge, marking read, and the e-mail settings."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from notifications.models import EmailPreference, Notification
from notifications.services import notify

K = Notification.Kind


def _client(user, language="en") -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(user)
    return client


def _notify(user, count=1, **extra):
    for n in range(count):
        notify([user], K.PROPOSAL_NEW, url="/projects/", project=f"Shop {n}", amount="1000", currency="IRT", **extra)


@pytest.mark.django_db
def test_the_centre_needs_a_login_and_shows_only_ones_own(client):
    assert client.get(reverse("notification_list")).status_code == 302
    me, someone = UserFactory(), UserFactory()
    _notify(me)
    notify([someone], K.WITHDRAWAL_PAID, amount="5", currency="IRT", reference="SECRET-REF")
    page = _client(me).get(reverse("notification_list")).content.decode()
    assert "Shop 0" in page
    assert "SECRET-REF" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_bell_counts_unread_ones_in_the_readers_digits(language):
    me = UserFactory()
    client = _client(me, language)
    assert 'data-testid="unread-notifications"' not in client.get(reverse("home")).content.decode()
    _notify(me, 12)
    page = client.get(reverse("home")).content.decode()
    shown = "12" if language == "en" else "۱۲"
    assert f'<span class="badge" data-testid="unread-notifications">{shown}</span>' in page


@pytest.mark.django_db
@pytest.mark.parametrize("count", [3, 60])
def test_the_centre_runs_a_bounded_number_of_queries(django_assert_max_num_queries, count):
    me, actor = UserFactory(), UserFactory()
    for n in range(count):
        notify([me], K.PROPOSAL_NEW, actor=actor, url="/", project=f"Shop {n}", amount="1000", currency="IRT")
    client = _client(me)
    client.get(reverse("home"))  # the session is saved once; not part of the page's cost
    with django_assert_max_num_queries(8):
        response = client.get(reverse("notification_list"))
    assert response.status_code == 200
    assert response.content.decode().count('data-testid="notification"') == min(count, 20)


@pytest.mark.django_db
def test_the_centre_pages_through_older_ones_newest_first():
    me = UserFactory()
    _notify(me, 45)  # Shop 0 … Shop 44; Shop 44 is the newest
    client = _client(me)
    first = client.get(reverse("notification_list")).content.decode()
    assert "Page 1 of 3" in first and 'href="?page=2"' in first
    assert "Shop 44" in first and "Shop 24" not in first
    last = client.get(reverse("notification_list"), {"page": "3"}).content.decode()
    assert "Shop 0" in last and "Shop 5" not in last and 'href="?page=2"' in last
    assert client.get(reverse("notification_list"), {"page": "abc"}).status_code == 200


@pytest.mark.django_db
def test_opening_one_marks_it_read_and_follows_its_link():
    me = UserFactory()
    _notify(me, 2)
    first, second = Notification.objects.order_by("pk")
    client = _client(me)
    response = client.post(reverse("notification_open", args=[first.pk]))
    assert response.status_code == 302 and response["Location"] == "/projects/"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None
    assert client.get(reverse("notification_open", args=[first.pk])).status_code == 405  # no change on GET


@pytest.mark.django_db
def test_one_cannot_open_or_read_someone_elses_notification():
    me, someone = UserFactory(), UserFactory()
    _notify(someone)
    theirs = Notification.objects.get()
    assert _client(me).post(reverse("notification_open", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.django_db
def test_a_link_to_another_site_is_not_followed():
    me = UserFactory()
    notify([me], K.PROPOSAL_NEW, url="https://evil.example/", project="Shop", amount="1", currency="IRT")
    response = _client(me).post(reverse("notification_open", args=[Notification.objects.get().pk]))
    assert response["Location"] == reverse("notification_list")


@pytest.mark.django_db
def test_mark_all_read_touches_only_ones_own():
    me, someone = UserFactory(), UserFactory()
    _notify(me, 3)
    _notify(someone, 2)
    client = _client(me)
    response = client.post(reverse("notification_read_all"), follow=True)
    assert "All notifications are marked as read." in response.content.decode()
    assert not Notification.objects.filter(recipient=me, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=someone, read_at__isnull=True).count() == 2
    assert 'data-testid="unread-notifications"' not in response.content.decode()


@pytest.mark.django_db
def test_the_csrf_token_is_required_to_mark_read():
    me = UserFactory()
    _notify(me)
    client = Client(enforce_csrf_checks=True)
    client.force_login(me)
    assert client.post(reverse("notification_read_all")).status_code == 403
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_email_settings_turn_kinds_off_and_on():
    me = UserFactory()
    client = _client(me)
    page = client.get(reverse("notification_settings")).content.decode()
    assert page.count('type="checkbox"') == len(K)
    assert page.count(" checked") == len(K)  # everything is e-mailed to start with

    wanted = [kind for kind in K.values if kind not in (K.PROPOSAL_EDITED, K.MESSAGES_UNREAD)]
    response = client.post(reverse("notification_settings"), {"email_kinds": wanted}, follow=True)
    assert "Your e-mail settings are saved." in response.content.decode()
    assert sorted(EmailPreference.objects.get(user=me).muted) == sorted([K.MESSAGES_UNREAD, K.PROPOSAL_EDITED])
    page = response.content.decode()
    assert 'value="proposal_edited" data-kind="proposal_edited">' in page  # unchecked now
    assert 'value="proposal_new" checked' in page


@pytest.mark.django_db
def test_email_settings_refuse_an_unknown_kind_and_change_nothing():
    me = UserFactory()
    client = _client(me)
    client.post(reverse("notification_settings"), {"email_kinds": [K.PROPOSAL_NEW]})
    before = EmailPreference.objects.get(user=me).muted
    response = client.post(reverse("notification_settings"), {"email_kinds": ["proposal_new", "rocket_launch"]})
    assert response.status_code == 200
    assert "Choose from the listed kinds of notification." in response.content.decode()
    assert EmailPreference.objects.get(user=me).muted == before


@pytest.mark.django_db
def test_what_people_wrote_is_escaped_and_keeps_its_own_direction():
    me, actor = UserFactory(), UserFactory()
    actor.profile.display_name = "سارا"
    actor.profile.save(update_fields=["display_name"])
    notify([me], K.PROPOSAL_NEW, actor=actor, project="<script>alert(1)</script>", amount="1000", currency="IRT")
    page = _client(me).get(reverse("notification_list")).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert (
        "<bdi>سارا</bdi> sent a proposal of <bdi>1,000 toman</bdi> on "
        "“<bdi>&lt;script&gt;alert(1)&lt;/script&gt;</bdi>”." in page
    )
