"""The invite page, the decline button, and where invitations show: My activities, the project page, the
employer's proposals page, the directory card and the profile. Real requests through the test client."""

import re

import pytest
from django.conf import settings as django_settings
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.services import profile_set_skills
from accounts.tests.factories import UserFactory
from invitations.models import Invitation
from invitations.services import invitation_decline
from invitations.tests.factories import make_invitation
from notifications.models import Notification
from projects.services import project_set_status
from projects.tests.factories import make_project, skill
from proposals.tests.factories import make_proposal

pytestmark = pytest.mark.django_db


def _client(user=None, language="en") -> Client:
    client = Client()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    if user is not None:
        client.force_login(user)
    return client


def _fa(text: str) -> str:
    with translation.override("fa"):
        return translation.gettext(text)


def _said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _invite(client, freelancer, **data):
    return client.post(reverse("invitation_send", args=[freelancer.username]), data)


@pytest.fixture
def employer(db):
    return UserFactory(display_name="Sara")


@pytest.fixture
def freelancer(db):
    user = UserFactory(display_name="Mina")
    profile_set_skills(user=user, skills=[skill("django")])
    return user


# --- the invite page ---------------------------------------------------------------------------------------------


def test_a_visitor_is_sent_to_log_in(freelancer):
    response = _client().get(reverse("invitation_send", args=[freelancer.username]))
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))
    assert _client().post(reverse("invitation_send", args=[freelancer.username]), {}).status_code == 302
    assert not Invitation.objects.exists()


def test_the_invite_page_lists_only_the_employers_open_projects_and_the_limits(
    employer, freelancer, settings, django_assert_max_num_queries
):
    settings.INVITATIONS_PER_PROJECT_PER_DAY = 7
    settings.USER_RATE_LIMITS = {**settings.USER_RATE_LIMITS, "invitation": "25/d/user"}
    make_project(owner=employer, title="Open one")
    make_project(owner=employer, title="Open two")
    make_project(owner=employer, title="A draft", publish=False)
    closed = make_project(owner=employer, title="Closed one")
    project_set_status(project=closed, by=employer, status="closed")
    make_project(title="Somebody else's")
    client = _client(employer)
    client.get(reverse("home"))
    with django_assert_max_num_queries(8):
        html = client.get(reverse("invitation_send", args=[freelancer.username])).content.decode()
    options = re.findall(r"<option [^>]*>([^<]*)</option>", html)
    assert options == ["Open two", "Open one"]
    assert "Each project can send at most 7 invitations in 24 hours." in html
    assert "You can send at most 25 invitations every day." in html
    assert "Mina" in html


def test_an_employer_without_an_open_project_is_offered_to_post_one(employer, freelancer):
    make_project(owner=employer, publish=False)
    html = _client(employer).get(reverse("invitation_send", args=[freelancer.username])).content.decode()
    assert 'data-testid="no-open-projects"' in html and "You have no project open for proposals" in html
    assert f'href="{reverse("project_create")}"' in html
    assert "<select" not in html


def test_an_unknown_or_inactive_freelancer_is_not_found(employer, freelancer):
    freelancer.is_active = False
    freelancer.save()
    assert _client(employer).get(reverse("invitation_send", args=[freelancer.username])).status_code == 404
    assert _client(employer).get(reverse("invitation_send", args=["nobody-here"])).status_code == 404


def test_ones_own_page_says_one_cannot_invite_oneself(employer):
    make_project(owner=employer)
    html = _client(employer).get(reverse("invitation_send", args=[employer.username])).content.decode()
    assert "you cannot invite yourself" in html and "<select" not in html


def test_inviting_sends_the_invitation_and_shows_it_on_the_page(employer, freelancer):
    project = make_project(owner=employer, title="Rug shop")
    client = _client(employer)
    response = _invite(client, freelancer, project=project.pk, note="You built two shops.")
    assert response.status_code == 302 and response.url == reverse("invitation_send", args=[freelancer.username])
    assert _said(response) == ["Mina is invited. They are notified and can answer with a proposal."]
    invitation = Invitation.objects.get()
    assert (invitation.project, invitation.freelancer, invitation.note) == (project, freelancer, "You built two shops.")
    assert Notification.objects.filter(recipient=freelancer, kind=Notification.Kind.INVITATION).count() == 1
    html = client.get(response.url).content.decode()
    assert 'data-testid="invitations-sent"' in html and "Waiting for an answer" in html


def test_inviting_twice_says_so_and_writes_nothing(employer, freelancer):
    project = make_project(owner=employer)
    client = _client(employer)
    _invite(client, freelancer, project=project.pk)
    response = _invite(client, freelancer, project=project.pk)
    assert response.status_code == 200
    assert "You have already invited Mina to this project; they have not answered yet." in response.content.decode()
    assert Invitation.objects.count() == 1 and Notification.objects.filter(recipient=freelancer).count() == 1


def test_another_employers_project_or_a_closed_one_is_refused_by_the_form(employer, freelancer):
    other = make_project(title="Somebody else's")
    closed = make_project(owner=employer)
    project_set_status(project=closed, by=employer, status="closed")
    make_project(owner=employer)
    client = _client(employer)
    for project in (other, closed):
        html = _invite(client, freelancer, project=project.pk).content.decode()
        assert "Choose one of your projects that are open for proposals." in html
    assert "Choose one of your projects" in _invite(client, freelancer, project="x").content.decode()
    assert not Invitation.objects.exists() and not Notification.objects.exists()


def test_a_note_too_long_is_a_form_error(employer, freelancer):
    project = make_project(owner=employer)
    html = _invite(_client(employer), freelancer, project=project.pk, note="x" * 1001).content.decode()
    assert "at most 1000 characters" in html
    assert not Invitation.objects.exists()


def test_a_proposal_already_sent_is_said_on_the_page(employer, freelancer):
    project = make_project(owner=employer)
    make_proposal(project=project, freelancer=freelancer)
    html = _invite(_client(employer), freelancer, project=project.pk).content.decode()
    assert "Mina has already sent a proposal on this project; no invitation is needed." in html
    assert not Invitation.objects.exists()


def test_the_per_project_daily_limit_flooded_through_the_page(employer, settings):
    settings.INVITATIONS_PER_PROJECT_PER_DAY = 3
    project = make_project(owner=employer)
    client = _client(employer)
    people = [UserFactory() for _ in range(5)]
    for person in people[:3]:
        assert _invite(client, person, project=project.pk).status_code == 302
    for person in people[3:]:
        html = _invite(client, person, project=project.pk).content.decode()
        assert "A project can send at most 3 invitations in 24 hours" in html
    assert Invitation.objects.count() == 3
    assert Notification.objects.filter(kind=Notification.Kind.INVITATION).count() == 3


def test_the_per_user_limit_flooded_counts_only_invitations_that_were_sent(employer, settings):
    settings.USER_RATE_LIMITS = {**settings.USER_RATE_LIMITS, "invitation": "2/d/user"}
    projects = [make_project(owner=employer) for _ in range(2)]
    client = _client(employer)
    people = [UserFactory() for _ in range(3)]
    assert _invite(client, people[0], project=projects[0].pk).status_code == 302
    # A refused invitation (the same person again) does not use up the limit.
    assert _invite(client, people[0], project=projects[0].pk).status_code == 200
    assert _invite(client, people[1], project=projects[1].pk).status_code == 302
    response = _invite(client, people[2], project=projects[0].pk)
    assert response.status_code == 200
    assert re.search(r"You can send at most 2 invitations every day\. You can try again in \d+ (hours|day)\.",
                     response.content.decode())  # fmt: skip
    assert Invitation.objects.count() == 2


def test_the_invite_page_in_persian(employer, freelancer):
    make_project(owner=employer, title="فروشگاه فرش")
    html = _client(employer, "fa").get(reverse("invitation_send", args=[freelancer.username])).content.decode()
    assert 'dir="rtl"' in html
    assert _fa("Invite to a project") in html and _fa("Send invitation") in html
    assert "۲۰" in html  # the per-project limit, in Persian digits
    assert "فروشگاه فرش" in html


# --- declining ---------------------------------------------------------------------------------------------------


def test_declining_from_the_project_page(freelancer):
    invitation = make_invitation(freelancer=freelancer)
    client = _client(freelancer)
    response = client.post(reverse("invitation_decline", args=[invitation.pk]), {"reason": "Fully booked."})
    assert response.status_code == 302 and response.url == reverse("project_detail", args=[invitation.project_id])
    assert _said(response) == ["You declined the invitation; the employer is told."]
    invitation.refresh_from_db()
    assert (invitation.status, invitation.decline_reason) == ("declined", "Fully booked.")
    assert Notification.objects.filter(recipient=invitation.invited_by, kind="invitation_declined").count() == 1


def test_only_the_invited_freelancer_can_decline(freelancer):
    invitation = make_invitation(freelancer=freelancer)
    for someone in (UserFactory(), invitation.invited_by):
        assert _client(someone).post(reverse("invitation_decline", args=[invitation.pk])).status_code == 403
    assert _client().post(reverse("invitation_decline", args=[invitation.pk])).status_code == 302  # to log in
    assert _client(freelancer).get(reverse("invitation_decline", args=[invitation.pk])).status_code == 405
    invitation.refresh_from_db()
    assert invitation.status == "open"


def test_declining_an_invitation_of_a_closed_project_is_refused_with_a_message(freelancer):
    invitation = make_invitation(freelancer=freelancer)
    project_set_status(project=invitation.project, by=invitation.invited_by, status="closed")
    response = _client(freelancer).post(reverse("invitation_decline", args=[invitation.pk]), {"reason": "No."})
    assert _said(response) == ["This project is no longer open for proposals, so its invitation cannot be answered."]
    invitation.refresh_from_db()
    assert invitation.status == "closed"
    assert not Notification.objects.filter(kind="invitation_declined").exists()


def test_a_reason_too_long_is_refused_with_a_message(freelancer):
    invitation = make_invitation(freelancer=freelancer)
    response = _client(freelancer).post(reverse("invitation_decline", args=[invitation.pk]), {"reason": "x" * 501})
    assert "at most 500 characters" in _said(response)[0]
    invitation.refresh_from_db()
    assert invitation.status == "open"


# --- where invitations show --------------------------------------------------------------------------------------


def test_the_project_page_shows_the_invitation_above_the_proposal_form(freelancer, django_assert_max_num_queries):
    invitation = make_invitation(freelancer=freelancer, note="You built two shops.")
    client = _client(freelancer)
    url = reverse("project_detail", args=[invitation.project_id])
    client.get(reverse("home"))
    with django_assert_max_num_queries(10):
        html = client.get(url).content.decode()
    notice = html.index('data-testid="invitation-notice"')
    assert notice < html.index('data-testid="proposal-form"')
    assert "invited you to send a proposal" in html and "You built two shops." in html
    assert 'data-testid="invitation-notice"' not in _client(UserFactory()).get(url).content.decode()
    assert 'data-testid="invitation-notice"' not in _client(invitation.invited_by).get(url).content.decode()
    # Answered: the notice is gone, the proposal is shown instead.
    make_proposal(project=invitation.project, freelancer=freelancer)
    assert 'data-testid="invitation-notice"' not in client.get(url).content.decode()


def test_the_project_page_in_persian_shows_the_notice(freelancer):
    invitation = make_invitation(freelancer=freelancer)
    html = _client(freelancer, "fa").get(reverse("project_detail", args=[invitation.project_id])).content.decode()
    assert _fa("Decline the invitation") in html
    assert _fa("%(name)s invited you to send a proposal").split("%(name)s")[-1].strip() in html


@pytest.mark.parametrize("count", [1, 6])
def test_my_activities_lists_the_invitations_in_bounded_queries(freelancer, count, django_assert_max_num_queries):
    for n in range(count):
        employer = UserFactory(display_name=f"Employer {n}")
        make_invitation(project=make_project(owner=employer, title=f"Project {n}"), freelancer=freelancer)
    closed = Invitation.objects.order_by("pk").first()
    project_set_status(project=closed.project, by=closed.invited_by, status="closed")
    client = _client(freelancer)
    client.get(reverse("home"))
    with django_assert_max_num_queries(6):
        html = client.get(reverse("my_activities") + "?tab=freelancer").content.decode()
    assert html.count('data-testid="my-invitation"') == count
    assert "From <bdi>Employer 0</bdi>" in html and "Your portfolio has two shops like this one." in html
    assert html.count("Waiting for an answer") == count - 1 and html.count("Project closed") == 1


def test_my_activities_in_persian(freelancer):
    make_invitation(project=make_project(title="فروشگاه فرش"), freelancer=freelancer)
    html = _client(freelancer, "fa").get(reverse("my_activities") + "?tab=freelancer").content.decode()
    assert _fa("Invitations") in html and _fa("Waiting for an answer") in html and "فروشگاه فرش" in html


@pytest.mark.parametrize("count", [1, 6])
def test_the_proposals_page_lists_whom_the_employer_invited(employer, count, django_assert_max_num_queries):
    project = make_project(owner=employer)
    invitations = [make_invitation(project=project, freelancer=UserFactory(display_name=f"F{n}")) for n in range(count)]
    make_proposal(project=project, freelancer=invitations[0].freelancer)
    if count > 1:
        invitation_decline(invitation=invitations[1], by=invitations[1].freelancer, reason="Booked.")
    client = _client(employer)
    client.get(reverse("home"))
    with django_assert_max_num_queries(11):
        html = client.get(reverse("project_proposals", args=[project.pk])).content.decode()
    assert html.count('data-testid="invited-') == count
    assert "Answered with a proposal" in html
    if count > 1:
        assert "Declined" in html and "Booked." in html
    html = _client(employer, "fa").get(reverse("project_proposals", args=[project.pk])).content.decode()
    assert _fa("Invited") in html and _fa("Answered with a proposal") in html


def test_the_directory_card_and_the_profile_link_to_the_invite_page(freelancer, employer):
    invite = reverse("invitation_send", args=[freelancer.username])
    assert f'href="{invite}"' in _client().get(reverse("freelancer_directory")).content.decode()
    assert f'href="{invite}"' in _client(employer).get(reverse("freelancer_directory")).content.decode()
    profile = reverse("profile_public", args=[freelancer.username])
    assert f'href="{invite}"' in _client().get(profile).content.decode()
    assert f'href="{invite}"' in _client(employer, "fa").get(profile).content.decode()
    assert f'href="{invite}"' not in _client(freelancer).get(profile).content.decode()  # one's own profile


def test_the_help_page_shows_the_invitation_limit(settings):
    settings.USER_RATE_LIMITS = {**settings.USER_RATE_LIMITS, "invitation": "9/d/user"}
    html = _client().get(reverse("help_page", args=["how-it-works"])).content.decode()
    assert "You can send at most 9 invitations every day." in html
