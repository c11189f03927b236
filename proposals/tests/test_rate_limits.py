"""Flooding the chat and the proposals: settings.USER_RATE_LIMITS, counted per user in the real cache."""

import re

import pytest
from django.conf import settings as django_settings
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from marketplace.testing import rate_limit_window_passes, run_in_threads
from projects.tests.factories import make_project
from proposals.models import Conversation, Message, Proposal, ProposalRevision
from proposals.tests.factories import make_proposal

AGAIN = r"You can try again in (1 minute|\d+ seconds)\."


def _limits(settings, **rates):
    settings.USER_RATE_LIMITS = {**settings.USER_RATE_LIMITS, **rates}


def _client(user, language="en") -> Client:
    client = Client()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(user)
    return client


@pytest.fixture
def chat(db):
    proposal = make_proposal(project=make_project(title="Rug shop"))
    return {
        "conversation": Conversation.objects.get(),
        "freelancer": proposal.freelancer,
        "employer": proposal.project.owner,
    }


def _say(client, conversation, body, **headers):
    return client.post(reverse("message_create", args=[conversation.pk]), {"body": body}, **headers)


def _notice(response) -> str:
    """The message this request left for the next page (the client never showed the earlier ones)."""
    return [str(m) for m in get_messages(response.wsgi_request)][-1]


def _error_slot(response) -> str:
    match = re.fullmatch(r'<p class="field-errors" role="alert">(.*)</p>', response.content.decode())
    assert match, response.content.decode()
    return match.group(1)


# --- chat messages --------------------------------------------------------------------------------------------


def test_a_chat_flood_is_cut_at_the_limit_and_the_form_says_until_when(chat, settings):
    _limits(settings, message="3/m/user")
    conversation, freelancer = chat["conversation"], _client(chat["freelancer"])
    for number in range(3):
        response = _say(freelancer, conversation, f"Message {number}", HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert response.content == b""
        assert response["HX-Trigger"] == "message-sent"

    response = _say(freelancer, conversation, "One too many", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "HX-Trigger" not in response
    error = _error_slot(response)
    assert error.startswith("You can send at most 3 messages every minute. ")
    assert re.search(AGAIN, error)
    assert list(conversation.messages.values_list("body", flat=True).order_by("pk")) == [
        "Message 0",
        "Message 1",
        "Message 2",
    ]

    # The other side of the same chat has a count of its own.
    response = _say(_client(chat["employer"]), conversation, "I am not limited", HTTP_HX_REQUEST="true")
    assert response["HX-Trigger"] == "message-sent"
    assert conversation.messages.filter(body="I am not limited").exists()


def test_a_refused_chat_post_without_htmx_comes_back_with_the_message(chat, settings):
    _limits(settings, message="1/m/user")
    conversation, freelancer = chat["conversation"], _client(chat["freelancer"])
    assert _say(freelancer, conversation, "First").status_code == 302

    response = _say(freelancer, conversation, "Second")
    assert response.status_code == 302
    notice = _notice(response)
    assert notice.startswith("You can send at most 1 message every minute. ")
    assert re.search(AGAIN, notice)
    assert notice in freelancer.get(response["Location"]).content.decode()
    assert not conversation.messages.filter(body="Second").exists()


def test_the_refusal_is_in_persian_digits_on_a_persian_page(chat, settings):
    _limits(settings, message="2/m/user")
    conversation, freelancer = chat["conversation"], _client(chat["freelancer"], language="fa")
    for body in ("یک", "دو"):
        assert _say(freelancer, conversation, body, HTTP_HX_REQUEST="true")["HX-Trigger"] == "message-sent"
    error = _error_slot(_say(freelancer, conversation, "سه", HTTP_HX_REQUEST="true"))
    assert "۲" in error
    assert not re.search(r"[0-9]", error)


def test_refused_chat_posts_use_up_nothing_and_the_limit_frees_up_after_its_window(chat, settings):
    _limits(settings, message="2/m/user")
    conversation, freelancer = chat["conversation"], _client(chat["freelancer"])
    for _ in range(3):  # an empty message is refused by the form, before any count
        assert "Write a message or attach a file." in _error_slot(
            _say(freelancer, conversation, "", HTTP_HX_REQUEST="true")
        )
    for body in ("one", "two"):
        assert _say(freelancer, conversation, body, HTTP_HX_REQUEST="true")["HX-Trigger"] == "message-sent"
    assert "at most 2 messages" in _error_slot(_say(freelancer, conversation, "three", HTTP_HX_REQUEST="true"))

    rate_limit_window_passes(chat["freelancer"], "message")
    assert _say(freelancer, conversation, "three", HTTP_HX_REQUEST="true")["HX-Trigger"] == "message-sent"
    assert conversation.messages.filter(sender=chat["freelancer"]).count() == 2 + 1


def test_staff_are_limited_like_everyone(chat, settings):
    _limits(settings, message="1/m/user")
    staff = chat["employer"]
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    client = _client(staff)
    assert _say(client, chat["conversation"], "One", HTTP_HX_REQUEST="true")["HX-Trigger"] == "message-sent"
    assert "at most 1 message" in _error_slot(_say(client, chat["conversation"], "Two", HTTP_HX_REQUEST="true"))


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_messages_at_the_same_moment_lets_only_the_limit_through(settings):
    """Several requests at once (as on several web processes sharing Redis): the count is taken under the cache's
    lock, so exactly the allowed number get through."""
    _limits(settings, message="3/m/user")
    proposal = make_proposal(project=make_project())
    conversation = Conversation.objects.get()
    clients = [_client(proposal.freelancer) for _ in range(8)]
    url = reverse("message_create", args=[conversation.pk])

    outcomes = run_in_threads(8, lambda: clients.pop().post(url, {"body": "Hi"}, HTTP_HX_REQUEST="true"))
    sent = [o for o in outcomes if o.status_code == 200 and o.get("HX-Trigger") == "message-sent"]
    refused = [o for o in outcomes if b"at most 3 messages" in o.content]
    assert (len(sent), len(refused)) == (3, 5)
    assert Message.objects.filter(conversation=conversation, body="Hi").count() == 3


# --- proposals --------------------------------------------------------------------------------------------------


def _bid(client, project, **overrides):
    data = {
        "amount": "1500000",
        "delivery_days": "10",
        "cover_letter": "I have built three shops like this one; here is how I would do it.",
    }
    data.update(overrides)
    return client.post(reverse("proposal_create", args=[project.pk]), data)


@pytest.mark.django_db
def test_proposals_beyond_the_limit_are_refused_and_another_freelancer_still_bids(settings):
    _limits(settings, proposal="2/h/user")
    projects = [make_project(title=f"Shop number {n}") for n in range(4)]
    freelancer = UserFactory()
    client = _client(freelancer)
    for project in projects[:2]:
        response = _bid(client, project)
        assert response.status_code == 302
        assert (
            _notice(response)
            == "Your proposal is sent. You can talk with the employer and edit it until you are chosen."
        )

    response = _bid(client, projects[2])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("project_detail", args=[projects[2].pk]))
    assert _notice(response) == "You can send at most 2 proposals every hour. You can try again in 1 hour."
    assert Proposal.objects.filter(freelancer=freelancer).count() == 2
    assert not Proposal.objects.filter(project=projects[2]).exists()

    other = UserFactory()
    assert _bid(_client(other), projects[2]).status_code == 302
    assert Proposal.objects.filter(project=projects[2], freelancer=other).exists()


@pytest.mark.django_db
def test_refused_proposals_use_up_nothing_and_the_limit_frees_up_after_its_window(settings):
    _limits(settings, proposal="1/h/user")
    first, second = make_project(title="First shop"), make_project(title="Second shop")
    freelancer = UserFactory()
    client = _client(freelancer)
    _bid(client, first, amount="-5")  # refused by the form
    assert not Proposal.objects.exists()
    assert _bid(client, first).status_code == 302
    response = _bid(client, second)
    assert "You can send at most 1 proposal every hour." in _notice(response)
    assert not Proposal.objects.filter(project=second).exists()

    rate_limit_window_passes(freelancer, "proposal")
    _bid(client, second)
    assert Proposal.objects.filter(project=second, freelancer=freelancer).exists()


@pytest.mark.django_db
def test_a_refusal_by_the_rules_gives_the_use_back(settings):
    _limits(settings, proposal="1/h/user")
    first, second = make_project(title="First shop"), make_project(title="Second shop")
    freelancer = UserFactory()
    make_proposal(project=first, freelancer=freelancer)  # sent earlier, outside the web: not counted
    client = _client(freelancer)
    response = _bid(client, first)
    assert _notice(response) == "You have already sent a proposal on this project; edit it instead."
    assert _bid(client, second).status_code == 302
    assert Proposal.objects.filter(project=second, freelancer=freelancer).exists()


@pytest.mark.django_db
def test_proposal_edits_beyond_the_limit_are_refused_and_keep_no_revision(settings):
    _limits(settings, proposal_edit="2/h/user")
    proposal = make_proposal(project=make_project())
    client = _client(proposal.freelancer)
    url = reverse("proposal_update", args=[proposal.pk])
    letter = "A lower price, after our talk with the employer."
    for amount in ("1400000", "1300000"):
        response = client.post(url, {"amount": amount, "delivery_days": "10", "cover_letter": letter})
        assert _notice(response) == "Your proposal is updated."

    response = client.post(url, {"amount": "1200000", "delivery_days": "10", "cover_letter": letter})
    assert _notice(response) == "You can edit your proposals at most 2 times every hour. You can try again in 1 hour."
    proposal.refresh_from_db()
    assert proposal.amount == 1300000
    assert ProposalRevision.objects.filter(proposal=proposal).count() == 1 + 2  # as sent, and the two edits
