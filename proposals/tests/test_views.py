import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import UserFactory
from marketplace.testing import files_under, queries_beyond_the_cache
from projects.tests.factories import make_project
from proposals.models import Conversation, Message, Proposal
from proposals.services import message_send
from proposals.tests.factories import make_proposal

ROLES = ["anonymous", "employer", "bidder", "other", "staff"]


@pytest.fixture
def world(db):
    project = make_project(title="Rug shop")
    proposal = make_proposal(project=project)
    conversation = Conversation.objects.get()
    message = message_send(
        conversation=conversation,
        sender=project.owner,
        body="Here is the brief",
        attachment=SimpleUploadedFile("brief.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"),
    )
    staff = UserFactory()
    staff.is_staff = True
    staff.save()
    return {
        "project": project,
        "proposal": proposal,
        "conversation": conversation,
        "message": message,
        "users": {"employer": project.owner, "bidder": proposal.freelancer, "other": UserFactory(), "staff": staff},
    }


def _client_for(client, world, role):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if role != "anonymous":
        client.force_login(world["users"][role])
    return client


# (name, method, url builder, data, expected status per role)
MATRIX = [
    ("project proposals", "get", lambda w: reverse("project_proposals", args=[w["project"].pk]), None,
     {"anonymous": 302, "employer": 200, "bidder": 403, "other": 403, "staff": 200}),
    ("edit proposal", "post", lambda w: reverse("proposal_update", args=[w["proposal"].pk]),
     {"amount": "900000", "delivery_days": "5", "cover_letter": "A lower price, after our talk."},
     {"anonymous": 302, "employer": 403, "bidder": 302, "other": 403, "staff": 403}),
    ("withdraw", "post", lambda w: reverse("proposal_withdraw", args=[w["proposal"].pk]), {},
     {"anonymous": 302, "employer": 403, "bidder": 302, "other": 403, "staff": 403}),
    ("review", "post", lambda w: reverse("proposal_review", args=[w["proposal"].pk]), {"action": "shortlist"},
     {"anonymous": 302, "employer": 302, "bidder": 403, "other": 403, "staff": 403}),
    ("conversation", "get", lambda w: reverse("conversation_detail", args=[w["conversation"].pk]), None,
     {"anonymous": 302, "employer": 200, "bidder": 200, "other": 403, "staff": 200}),
    ("poll", "get", lambda w: reverse("conversation_poll", args=[w["conversation"].pk]) + "?after=0", None,
     {"anonymous": 302, "employer": 200, "bidder": 200, "other": 403, "staff": 200}),
    ("send message", "post", lambda w: reverse("message_create", args=[w["conversation"].pk]), {"body": "Hello"},
     {"anonymous": 302, "employer": 302, "bidder": 302, "other": 403, "staff": 403}),
    ("attachment", "get",
     lambda w: reverse("message_attachment", args=[w["conversation"].pk, w["message"].pk]), None,
     {"anonymous": 302, "employer": 200, "bidder": 200, "other": 403, "staff": 200}),
    ("my chat on a project", "get", lambda w: reverse("project_chat", args=[w["project"].pk]), None,
     {"anonymous": 302, "employer": 404, "bidder": 302, "other": 404, "staff": 404}),
    ("inbox", "get", lambda w: reverse("conversation_list"), None,
     {"anonymous": 302, "employer": 200, "bidder": 200, "other": 200, "staff": 200}),
    ("send proposal", "post", lambda w: reverse("proposal_create", args=[w["project"].pk]),
     {"amount": "1000000", "delivery_days": "7", "cover_letter": "I would love to build this rug shop for you."},
     {"anonymous": 302, "employer": 403, "bidder": 302, "other": 302, "staff": 302}),
]  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method", "url", "data", "expected"), MATRIX, ids=[row[0] for row in MATRIX])
def test_who_may_use_each_url(client, world, role, name, method, url, data, expected):
    client = _client_for(client, world, role)
    target = url(world)
    response = client.get(target) if method == "get" else client.post(target, data)
    assert response.status_code == expected[role], (name, role)
    if role == "anonymous":
        assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
def test_other_freelancers_see_only_the_count(client, world):
    client = _client_for(client, world, "other")
    html = client.get(reverse("project_detail", args=[world["project"].pk])).content.decode()
    assert world["proposal"].cover_letter not in html
    assert "<dt>Proposals</dt><dd>1</dd>" in html
    assert f'href="{reverse("project_proposals", args=[world["project"].pk])}"' not in html


@pytest.mark.django_db
def test_bidder_lowers_the_amount_and_the_employer_sees_it_and_the_history(client, world):
    bidder = _client_for(client, world, "bidder")
    bidder.post(
        reverse("proposal_update", args=[world["proposal"].pk]),
        {"amount": "۱٬۲۰۰٬۰۰۰", "delivery_days": "۸", "cover_letter": "A lower price, as we agreed in the chat."},
    )
    employer = type(client)()
    employer.force_login(world["users"]["employer"])
    employer.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = employer.get(reverse("project_proposals", args=[world["project"].pk])).content.decode()
    assert "1,200,000 toman" in html
    assert 'data-testid="edited-mark"' in html
    assert "Version 2" in html and "Version 1" in html and "1,500,000" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "0"}, "greater than or equal to 1"),
        ({"amount": "-5"}, "greater than or equal to 1"),
        ({"amount": "lots"}, "Enter a number."),
        ({"delivery_days": "0"}, "greater than or equal to 1"),
        ({"cover_letter": "short"}, "at least 20 characters"),
    ],
)
def test_bad_proposals_are_refused_with_a_message(client, world, data, message):
    client = _client_for(client, world, "other")
    payload = {
        "amount": "1000000",
        "delivery_days": "7",
        "cover_letter": "I would love to build this rug shop.",
        **data,
    }
    response = client.post(reverse("proposal_create", args=[world["project"].pk]), payload, follow=True)
    assert message in response.content.decode()
    assert Proposal.objects.count() == 1


@pytest.mark.django_db
def test_a_second_proposal_is_refused_with_a_message(client, world):
    client = _client_for(client, world, "bidder")
    payload = {"amount": "1000000", "delivery_days": "7", "cover_letter": "Another attempt at the same project."}
    response = client.post(reverse("proposal_create", args=[world["project"].pk]), payload, follow=True)
    assert "already sent a proposal" in response.content.decode()
    assert Proposal.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"body": ""}, "Write a message or attach a file."),
        ({"body": "x" * 10_000}, "at most 5000 characters"),
        ({"body": "", "attachment": SimpleUploadedFile("x.exe", b"MZ", content_type="application/x-msdownload")},
         "Allowed file types"),
    ],
)  # fmt: skip
def test_bad_messages_are_refused_and_nothing_is_stored(client, world, media_dirs, data, message):
    client = _client_for(client, world, "bidder")
    before = files_under(media_dirs)
    response = client.post(reverse("message_create", args=[world["conversation"].pk]), data, HTTP_HX_REQUEST="true")
    assert message in response.content.decode()
    assert Message.objects.count() == 1
    assert files_under(media_dirs) == before


@pytest.mark.django_db
def test_an_oversized_attachment_is_refused(client, world, media_dirs, settings):
    settings.UPLOAD_DOCUMENT_MAX_BYTES = 1024
    client = _client_for(client, world, "bidder")
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * 4096, content_type="application/pdf")
    response = client.post(reverse("message_create", args=[world["conversation"].pk]), {"attachment": big}, follow=True)
    assert "larger than" in response.content.decode()
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_links_are_clickable_and_everything_else_escaped(client, world):
    bidder = world["users"]["bidder"]
    message_send(conversation=world["conversation"], sender=bidder, body="See https://example.com/x <b>bold</b>")
    client = _client_for(client, world, "employer")
    html = client.get(reverse("conversation_detail", args=[world["conversation"].pk])).content.decode()
    assert '<a href="https://example.com/x" rel="nofollow">https://example.com/x</a>' in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


@pytest.mark.django_db
def test_unread_counts_per_conversation_and_in_the_menu(client, world):
    bidder = _client_for(client, world, "bidder")
    assert 'data-testid="unread-total">1<' in bidder.get(reverse("conversation_list")).content.decode()
    bidder.get(reverse("conversation_detail", args=[world["conversation"].pk]))  # reading marks as read
    assert 'data-testid="unread-total"' not in bidder.get(reverse("conversation_list")).content.decode()


@pytest.mark.django_db
def test_poll_returns_only_newer_messages(client, world):
    client = _client_for(client, world, "bidder")
    first = world["message"].pk
    message_send(conversation=world["conversation"], sender=world["users"]["employer"], body="Second message")
    html = client.get(reverse("conversation_poll", args=[world["conversation"].pk]), {"after": first}).content.decode()
    assert "Second message" in html and "Here is the brief" not in html


@pytest.mark.django_db
def test_the_freelancers_proposals_list(client, world):
    client = _client_for(client, world, "bidder")
    html = client.get(reverse("my_activities"), {"tab": "freelancer"}).content.decode()
    assert html.count('data-testid="my-proposal-row"') == 1
    assert "Rug shop" in html and '<span class="status-badge status-sent">Sent</span>' in html


@pytest.mark.django_db
@pytest.mark.parametrize("count", [5, 200])
def test_proposals_list_runs_a_bounded_number_of_queries(client, django_assert_max_num_queries, count):
    project = make_project()
    for _ in range(count):
        make_proposal(project=project)
    client.force_login(project.owner)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("project_proposals", args=[project.pk])).status_code == 200


@pytest.mark.django_db
def test_a_long_conversation_is_paginated_with_bounded_queries(client, django_assert_max_num_queries):
    project = make_project()
    proposal = make_proposal(project=project)
    conversation = Conversation.objects.get()
    Message.objects.bulk_create(
        Message(conversation=conversation, sender=proposal.freelancer if n % 2 else project.owner, body=f"Message {n}")
        for n in range(1000)
    )
    client.force_login(project.owner)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("conversation_detail", args=[conversation.pk]))
    assert len(response.context["page"]) == 50 and response.context["has_older"]
    older = client.get(
        reverse("conversation_detail", args=[conversation.pk]), {"before": response.context["page"][0].pk}
    )
    assert len(older.context["page"]) == 50


@pytest.mark.django_db
def test_the_poll_does_not_count_the_menus_unread_badges(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _client_for(client, world, "bidder")
    client.get(reverse("home"))
    url = reverse("conversation_poll", args=[world["conversation"].pk])
    with CaptureQueriesContext(connection) as poll:
        assert client.get(url, {"after": world["message"].pk}).status_code == 200
    assert not [sql for sql in queries_beyond_the_cache(poll) if "notifications_notification" in sql]
    assert not [sql for sql in queries_beyond_the_cache(poll) if "COUNT(" in sql.upper()]
    with CaptureQueriesContext(connection) as page:
        client.get(reverse("conversation_list"))
    assert [q["sql"] for q in page.captured_queries if "notifications_notification" in q["sql"]]  # the bell


@pytest.mark.django_db
def test_staff_read_a_conversation_without_a_form_to_write_in_it(client, world):
    client.force_login(world["users"]["staff"])
    page = client.get(reverse("conversation_detail", args=[world["conversation"].pk])).content.decode()
    assert world["message"].body in page
    assert reverse("message_create", args=[world["conversation"].pk]) not in page
    client.force_login(world["users"]["employer"])
    page = client.get(reverse("conversation_detail", args=[world["conversation"].pk])).content.decode()
    assert reverse("message_create", args=[world["conversation"].pk]) in page


@pytest.mark.django_db
def test_an_idle_chats_poll_costs_no_query_and_a_new_message_still_arrives(client, world):
    client = _client_for(client, world, "bidder")
    url = reverse("conversation_poll", args=[world["conversation"].pk])
    first = world["message"].pk
    assert client.get(url, {"after": 10**9}).status_code == 200  # a made-up "after" stores nothing of its own
    assert client.get(url, {"after": first}).status_code == 200  # the view reads the thread and fills the cache
    with CaptureQueriesContext(connection) as idle_poll:
        idle = client.get(url, {"after": first})
    assert queries_beyond_the_cache(idle_poll) == []
    assert idle.status_code == 200 and idle.content == b""
    assert "no-store" in idle["Cache-Control"]

    message_send(conversation=world["conversation"], sender=world["users"]["employer"], body="Are you there?")
    html = client.get(url, {"after": first}).content.decode()
    assert "Are you there?" in html and "Here is the brief" not in html


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "status"), [("other", 403), ("anonymous", 302), ("staff", 200)])
def test_only_a_party_gets_an_idle_poll_answered_from_the_cache(client, world, role, status):
    bidder = _client_for(type(client)(), world, "bidder")
    url = reverse("conversation_poll", args=[world["conversation"].pk])
    bidder.get(url, {"after": world["message"].pk})  # the cache knows the thread now
    response = _client_for(client, world, role).get(url, {"after": world["message"].pk})
    assert response.status_code == status  # the view answered, with its checks
    if role == "staff":
        assert response.content.strip() == b""


@pytest.mark.django_db
def test_the_menu_counts_the_employers_unread_messages_too(client, world):
    employer = _client_for(client, world, "employer")
    assert 'data-testid="unread-total"' not in employer.get(reverse("conversation_list")).content.decode()
    for body in ("Hello", "Any news?"):
        message_send(conversation=world["conversation"], sender=world["users"]["bidder"], body=body)
    assert 'data-testid="unread-total">2<' in employer.get(reverse("conversation_list")).content.decode()
    employer.get(reverse("conversation_detail", args=[world["conversation"].pk]))  # read
    assert 'data-testid="unread-total"' not in employer.get(reverse("conversation_list")).content.decode()
