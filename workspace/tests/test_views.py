import hashlib
import io
import os
import zipfile
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib import messages
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from escrow.checks import ledger_check
from escrow.ledger import wallet_of
from escrow.models import Account
from marketplace.testing import files_under
from notifications.models import Notification
from projects.tests.factories import make_project
from proposals.tests.factories import make_proposal
from workspace.models import Dispute, Milestone
from workspace.selectors import workspace_contract
from workspace.services import changes, choosing, delivery, disputes, rules, settling
from workspace.tests.factories import STATES, contract_in, zip_file

ROLES = ["anonymous", "employer", "freelancer", "other", "staff"]

# A 1,000,000-toman proposal chosen on "Rug shop", the employer with 2,000,000 in the wallet.
RUG_SHOP = {"title": "Rug shop", "amount": "1000000", "wallet": "2000000"}


def _staff():
    staff = UserFactory()
    staff.is_staff = True
    staff.save()
    return staff


def _people(deal) -> dict:
    """Who tries each URL: the two parties, someone else and a staff member."""
    return {"employer": deal.employer, "freelancer": deal.freelancer, "other": UserFactory(), "staff": _staff()}


def _client(user=None):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        client.force_login(user)
    return client


def _deliverable(d):
    return d.milestone.deliverables.first()


def _dispute_url(d, operation):
    return reverse("dispute_action", args=[d.contract.pk, d.dispute.pk, operation])


# (name, state (of contract_in, or "open": a proposal not chosen yet), method, url, data, expected per role)
MATRIX = [
    ("workspace", "delivered", "get", lambda d: reverse("workspace", args=[d.contract.pk]), None,
     {"anonymous": 302, "employer": 200, "freelancer": 200, "other": 403, "staff": 200}),
    ("pay", "unpaid", "post", lambda d: reverse("workspace_fund", args=[d.contract.pk]), {"step": "upfront"},
     {"anonymous": 302, "employer": 302, "freelancer": 403, "other": 403, "staff": 403}),
    ("accept", "awaiting", "post", lambda d: reverse("workspace_operate", args=[d.contract.pk, "accept"]), {},
     {"anonymous": 302, "employer": 403, "freelancer": 302, "other": 403, "staff": 403}),
    ("decline", "awaiting", "post", lambda d: reverse("workspace_operate", args=[d.contract.pk, "decline"]), {},
     {"anonymous": 302, "employer": 403, "freelancer": 302, "other": 403, "staff": 403}),
    ("cancel", "awaiting_overdue", "post", lambda d: reverse("workspace_operate", args=[d.contract.pk, "cancel"]),
     {}, {"anonymous": 302, "employer": 302, "freelancer": 403, "other": 403, "staff": 403}),
    ("upload", "in_progress", "post", lambda d: reverse("workspace_upload", args=[d.contract.pk]),
     lambda: {"file": zip_file()},
     {"anonymous": 302, "employer": 403, "freelancer": 302, "other": 403, "staff": 403}),
    ("done", "uploaded", "post", lambda d: reverse("workspace_operate", args=[d.contract.pk, "done"]), {},
     {"anonymous": 302, "employer": 403, "freelancer": 302, "other": 403, "staff": 403}),
    ("approve", "review", "post", lambda d: reverse("workspace_operate", args=[d.contract.pk, "approve"]), {},
     {"anonymous": 302, "employer": 302, "freelancer": 403, "other": 403, "staff": 403}),
    ("dispute", "remainder_lapsed", "post", lambda d: reverse("workspace_dispute", args=[d.contract.pk]),
     lambda: {"reason": "other", "description": "The basket is missing."},
     {"anonymous": 302, "employer": 302, "freelancer": 302, "other": 403, "staff": 403}),
    ("download (paid)", "review", "get",
     lambda d: reverse("deliverable_download", args=[d.contract.pk, _deliverable(d).pk]), None,
     {"anonymous": 302, "employer": 200, "freelancer": 200, "other": 403, "staff": 200}),
    ("download (half paid)", "delivered", "get",
     lambda d: reverse("deliverable_download", args=[d.contract.pk, _deliverable(d).pk]), None,
     {"anonymous": 302, "employer": 403, "freelancer": 403, "other": 403, "staff": 403}),
    ("answer a dispute", "disputed", "post", lambda d: _dispute_url(d, "answer"), {"message": "Fixed in v2."},
     {"anonymous": 302, "employer": 403, "freelancer": 302, "other": 403, "staff": 403}),
    ("escalate a dispute", "disputed", "post", lambda d: _dispute_url(d, "escalate"), {},
     {"anonymous": 302, "employer": 302, "freelancer": 302, "other": 403, "staff": 403}),
    ("choose and pay", "open", "post", lambda d: reverse("proposal_select", args=[d.proposal.pk]), {},
     {"anonymous": 302, "employer": 302, "freelancer": 403, "other": 403, "staff": 403}),
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "state", "method", "url", "data", "expected"), MATRIX, ids=[r[0] for r in MATRIX])
def test_who_may_use_each_workspace_url(role, name, state, method, url, data, expected):
    if state == "open":
        project = make_project(title="Open project")
        proposal = make_proposal(project=project)
        deal = SimpleNamespace(proposal=proposal, employer=project.owner, freelancer=proposal.freelancer)
    else:
        deal = contract_in(state, **RUG_SHOP)
    client = _client(None if role == "anonymous" else _people(deal)[role])
    target = url(deal)
    payload = data() if callable(data) else data
    response = client.get(target) if method == "get" else client.post(target, payload)
    assert response.status_code == expected[role], (name, role)
    if role == "anonymous":
        assert response["Location"].startswith(reverse("account_login"))
    elif response.status_code == 302:  # allowed: the action went through, not refused with a message
        refusals = [m.message for m in get_messages(response.wsgi_request) if m.level == messages.ERROR]
        assert refusals == [], (name, role, refusals)


@pytest.mark.django_db
def test_the_download_is_an_attachment_never_sniffed_and_not_under_media(media_dirs):
    deal = contract_in("review", **RUG_SHOP)
    response = _client(deal.employer).get(
        reverse("deliverable_download", args=[deal.contract.pk, _deliverable(deal).pk])
    )
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert files_under(media_dirs / "media") == []


@pytest.mark.django_db
def test_one_machine_behind_nginx_hands_the_download_to_the_web_server(settings):
    settings.PRIVATE_FILES_X_ACCEL_PREFIX = "/protected/"
    deal = contract_in("review", **RUG_SHOP)
    response = _client(deal.freelancer).get(
        reverse("deliverable_download", args=[deal.contract.pk, _deliverable(deal).pk])
    )
    assert response["X-Accel-Redirect"] == f"/protected/{_deliverable(deal).file.name}"


@pytest.mark.django_db
def test_bad_uploads_through_the_page_say_what_is_wrong_and_leave_nothing(media_dirs):
    deal = contract_in("in_progress", **RUG_SHOP)
    client = _client(deal.freelancer)
    url = reverse("workspace_upload", args=[deal.contract.pk])
    before = files_under(media_dirs)
    fake = SimpleUploadedFile("work.zip", b"MZ not a zip", content_type="application/zip")
    response = client.post(url, {"file": fake}, follow=True)
    assert "not a zip archive" in response.content.decode()
    response = client.post(url, {"file": zip_file(files={"../evil.sh": "rm -rf /"})}, follow=True)
    assert "unsafe path" in response.content.decode()
    assert not deal.milestone.deliverables.exists()
    assert files_under(media_dirs) == before


@pytest.mark.django_db
def test_a_delivery_too_large_to_be_kept_in_memory_is_stored_byte_for_byte(media_dirs, monkeypatch):
    deal = contract_in("in_progress", **RUG_SHOP)
    video = os.urandom(settings.FILE_UPLOAD_MAX_MEMORY_SIZE + 1024 * 1024)  # incompressible: the zip is as large
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.html", "<h1>Shop</h1>")
        archive.writestr("media/intro.mp4", video)
    sent = buffer.getvalue()
    received = []
    inspect_zip = delivery.inspect_zip

    def spy(upload):
        received.append(type(upload))
        return inspect_zip(upload)

    monkeypatch.setattr(delivery, "inspect_zip", spy)
    response = _client(deal.freelancer).post(
        reverse("workspace_upload", args=[deal.contract.pk]),
        {"file": SimpleUploadedFile("site.zip", sent, content_type="application/zip")},
        follow=True,
    )
    assert received == [TemporaryUploadedFile]  # Django spooled it to disk
    deliverable = deal.milestone.deliverables.get()
    with deliverable.file.open("rb") as stored:
        assert stored.read() == sent
    assert (deliverable.sha256, deliverable.size) == (hashlib.sha256(sent).hexdigest(), len(sent))
    assert deliverable.entries == [["index.html", 13], ["media/intro.mp4", len(video)]]
    assert files_under(media_dirs / "private") == [deliverable.file.name]
    page = response.content.decode()
    assert "index.html" in page and "media/intro.mp4" in page


@pytest.mark.django_db
def test_a_second_done_from_a_stale_tab_changes_nothing():
    deal = contract_in("uploaded", **RUG_SHOP)
    client = _client(deal.freelancer)
    url = reverse("workspace_operate", args=[deal.contract.pk, "done"])
    client.post(url)
    delivered_at = Milestone.objects.get(pk=deal.milestone.pk).delivered_at
    response = client.post(url, follow=True)
    assert "no longer possible" in response.content.decode()
    assert Milestone.objects.get(pk=deal.milestone.pk).delivered_at == delivered_at


@pytest.mark.django_db
def test_the_operations_menu_offers_exactly_what_the_user_may_do():
    deal = contract_in("delivered", **RUG_SHOP)
    employer_html = _client(deal.employer).get(reverse("workspace", args=[deal.contract.pk])).content.decode()
    freelancer_html = _client(deal.freelancer).get(reverse("workspace", args=[deal.contract.pk])).content.decode()
    assert 'data-testid="op-fund"' in employer_html and 'data-testid="op-dispute"' in employer_html
    assert 'data-testid="op-approve"' not in employer_html  # not before the rest is paid
    assert 'data-testid="op-done"' not in freelancer_html and 'data-testid="op-fund"' not in freelancer_html


@pytest.mark.django_db
def test_staff_resolve_an_escalated_dispute_in_the_admin_by_a_split(django_capture_on_commit_callbacks):
    deal = contract_in("review", **RUG_SHOP)
    dispute = disputes.dispute_open(
        milestone=deal.milestone, by=deal.employer, reason="quality", description="Broken pages"
    )
    settling.offer_make(milestone=deal.milestone, by=deal.freelancer, to_freelancer="900000", note="Nearly all done")
    disputes.dispute_escalate(dispute=dispute, by=deal.freelancer)
    staff = _staff()
    staff.is_superuser = True
    staff.save()
    admin = Client()
    admin.force_login(staff)
    admin.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    url = reverse("admin:workspace_dispute_change", args=[dispute.pk])
    page = admin.get(url).content.decode()
    assert "Broken pages" in page and _deliverable(deal).sha256 in page
    assert "900000" in page and "Nearly all done" in page  # the case file holds every offer
    response = admin.post(url, {"outcome": "split", "to_freelancer": "5000000", "note": ""}, follow=True)
    assert "between zero and the amount in escrow" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = admin.post(url, {"outcome": "split", "to_freelancer": "700000", "note": "Two pages missing"})
    said = [str(m) for m in get_messages(done.wsgi_request)]
    assert said == ["The dispute is resolved and both parties are told."]  # one message, not also "…changed…"
    assert Dispute.objects.get(pk=dispute.pk).status == Dispute.Status.RESOLVED
    assert Account.objects.get(pk=wallet_of(deal.freelancer).pk).balance == 630000
    assert ledger_check().clean


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 30])
def test_the_workspace_runs_a_bounded_number_of_queries(django_assert_max_num_queries, count):
    deal = contract_in("in_progress", **RUG_SHOP)
    later = timezone.localdate() + timedelta(days=60)
    for _ in range(count):
        delivery.deliverable_upload(milestone=deal.milestone, by=deal.freelancer, upload=zip_file())
        offer = settling.offer_make(milestone=deal.milestone, by=deal.employer, to_freelancer="1000")
        settling.offer_decline(offer=offer, by=deal.freelancer)
        change = changes.change_propose(
            contract=deal.contract, by=deal.freelancer, kind="edit", milestone=deal.milestone, due_date=later
        )
        changes.change_decline(change=change, by=deal.employer)
    client = _client(deal.employer)
    client.get(reverse("home"))  # the session is saved once logged in; not part of the page's cost
    with django_assert_max_num_queries(14):
        assert client.get(reverse("workspace", args=[deal.contract.pk])).status_code == 200


@pytest.mark.django_db
def test_other_bidders_are_told_when_the_work_is_accepted(django_capture_on_commit_callbacks):
    from django.core import mail

    project = make_project(title="Rug shop")
    chosen, other = make_proposal(project=project, amount="1000000"), make_proposal(project=project)
    contract = contract_in("awaiting", proposal=chosen, wallet="600000").contract
    with django_capture_on_commit_callbacks(execute=True):
        choosing.contract_accept(contract=contract, by=chosen.freelancer)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([other.freelancer.email, project.owner.email])
    told = Notification.objects.filter(kind=Notification.Kind.PROPOSAL_NOT_SELECTED)
    assert [n.recipient for n in told] == [other.freelancer]


@pytest.mark.django_db
def test_the_sweep_is_a_management_command_and_a_beat_task(capsys):
    from django.core.management import call_command

    from marketplace.celery import app

    deal = contract_in("review", **RUG_SHOP)
    Milestone.objects.filter(pk=deal.milestone.pk).update(
        auto_release_at=deal.milestone.auto_release_at - timedelta(days=3)
    )
    call_command("release_due_escrow")
    assert "1 milestone(s) released." in capsys.readouterr().out
    assert Milestone.objects.get(pk=deal.milestone.pk).status == Milestone.Status.COMPLETED
    entry = app.conf.beat_schedule["release-due-escrow"]
    assert (entry["task"], entry["schedule"]) == ("workspace.tasks.release_due_escrow", 60.0)


@pytest.mark.django_db
def test_a_second_pay_click_before_the_answer_pays_nothing_more(media_dirs):
    """Issue 13's defect: the page hides Pay once the guarantee is in, but a second POST paid the rest too."""
    deal = contract_in("unpaid", **RUG_SHOP)
    employer = _client(deal.employer)
    url = reverse("workspace_fund", args=[deal.contract.pk])
    assert employer.post(url, {"step": "upfront"}).status_code == 302
    for data in ({"step": "upfront"}, {"step": "rest"}, {}):
        response = employer.post(url, data, follow=True)
        assert response.status_code == 200
    milestone = Milestone.objects.get(pk=deal.milestone.pk)
    assert milestone.funded == 500000
    assert wallet_of(deal.employer).balance == 1500000
    page = employer.get(reverse("workspace", args=[deal.contract.pk])).content.decode()
    assert 'data-testid="op-fund"' not in page
    assert ledger_check().clean


# Each operation's element on the page (the menu item, or the contract box's button).
OPERATION_MARKS = {
    operation: f'data-testid="{mark}"'
    for operation, mark in {
        "fund": "op-fund", "accept": "op-accept", "decline": "op-decline", "cancel": "op-cancel", "upload": "upload",
        "done": "op-done", "approve": "op-approve", "revise": "op-revise", "release_part": "op-release-part",
        "dispute": "op-dispute", "cancel_late": "op-cancel-late", "answer": "op-answer", "offer": "op-offer",
        "accept_offer": "op-accept-offer", "decline_offer": "op-decline-offer", "withdraw_offer": "op-withdraw-offer",
        "escalate": "op-escalate", "withdraw_dispute": "op-withdraw-dispute", "propose_edit": "op-propose-edit",
        "propose_add": "op-propose-add", "accept_change": "accept-change", "decline_change": "decline-change",
        "withdraw_change": "withdraw-change", "bonus": "op-bonus",
    }.items()
}  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("state", STATES)
def test_the_page_offers_exactly_the_allowed_operations(state, media_dirs):
    """In every state, for each side, the page holds an element for each allowed operation and none for the others."""
    assert set(OPERATION_MARKS) == set(rules.MENU + rules.CONTRACT_MENU)
    deal = contract_in(state, **RUG_SHOP)
    for user in (deal.employer, deal.freelancer):
        html = _client(user).get(reverse("workspace", args=[deal.contract.pk])).content.decode()
        contract = workspace_contract(pk=deal.contract.pk)
        allowed = set(rules.available_operations(milestone=contract.milestones.all()[0], user=user))
        allowed |= set(rules.contract_operations(contract=contract, user=user))
        for operation, mark in OPERATION_MARKS.items():
            assert (mark in html) == (operation in allowed), (state, contract.party(user), operation)
