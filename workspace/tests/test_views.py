import hashlib
import io
import os
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib import messages
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from conftest import files_under
from escrow import contracts
from escrow.checks import ledger_check
from escrow.ledger import post_deposit, wallet_of
from escrow.models import Account, Contract, Dispute, Milestone
from escrow.tests.test_contracts import zip_file
from notifications.models import Notification
from projects.tests.factories import make_project
from proposals.tests.factories import make_proposal

ROLES = ["anonymous", "employer", "freelancer", "other", "staff"]


def _deal(state: str):
    """A single-delivery contract brought to `state`: selected; funded (the guarantee paid, no answer yet);
    overdue (funded, and the freelancer's days to answer are over); accepted; uploaded; delivered; or paid in
    full."""
    project = make_project(title="Rug shop")
    proposal = make_proposal(project=project, amount="1000000")
    employer, freelancer = project.owner, proposal.freelancer
    post_deposit(user=employer, amount=Decimal(2_000_000), currency="IRT", gateway="sandbox", key=f"s:{project.pk}")
    contract = contracts.contract_select(proposal=proposal, by=employer)
    milestone = contract.milestones.get()
    if state in ("funded", "overdue", "accepted", "uploaded", "delivered", "paid"):
        contracts.milestone_fund_next(milestone=milestone, by=employer)
    if state == "overdue":
        Contract.objects.filter(pk=contract.pk).update(
            created_at=timezone.now() - timedelta(days=settings.ACCEPTANCE_DAYS + 1)
        )
    if state in ("accepted", "uploaded", "delivered", "paid"):
        contracts.contract_accept(contract=contract, by=freelancer)
    if state in ("uploaded", "delivered", "paid"):
        contracts.deliverable_upload(milestone=milestone, by=freelancer, upload=zip_file())
    if state in ("delivered", "paid"):
        contracts.milestone_mark_delivered(milestone=milestone, by=freelancer)
    if state == "paid":
        contracts.milestone_fund_next(milestone=milestone, by=employer)
    staff = UserFactory()
    staff.is_staff = True
    staff.save()
    users = {"employer": employer, "freelancer": freelancer, "other": UserFactory(), "staff": staff}
    return {
        "contract": contract,
        "proposal": proposal,
        "milestone": Milestone.objects.get(pk=milestone.pk),
        "users": users,
    }


def _client(role, deal):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if role != "anonymous":
        client.force_login(deal["users"][role])
    return client


def _deliverable(d):
    return d["milestone"].deliverables.first()


def _dispute_url(d, operation):
    dispute = d["milestone"].disputes.first() or contracts.dispute_open(
        milestone=d["milestone"], by=d["users"]["employer"], reason="quality", description="Please fix the header."
    )
    return reverse("dispute_action", args=[d["contract"].pk, dispute.pk, operation])


# (name, state, method, url, data, expected per role)
MATRIX = [
    ("workspace", "delivered", "get", lambda d: reverse("workspace", args=[d["contract"].pk]), None,
     {"anonymous": 302, "employer": 200, "freelancer": 200, "other": 403, "staff": 200}),
    ("pay", "selected", "post", lambda d: reverse("workspace_fund", args=[d["contract"].pk]), {"step": "upfront"},
     {"anonymous": 302, "employer": 302, "freelancer": 403, "other": 403, "staff": 403}),
    ("accept", "funded", "post", lambda d: reverse("workspace_operate", args=[d["contract"].pk, "accept"]), {},
     {"anonymous": 302, "employer": 403, "freelancer": 302, "other": 403, "staff": 403}),
    ("decline", "funded", "post", lambda d: reverse("workspace_operate", args=[d["contract"].pk, "decline"]), {},
     {"anonymous": 302, "employer": 403, "freelancer": 302, "other": 403, "staff": 403}),
    ("cancel", "overdue", "post", lambda d: reverse("workspace_operate", args=[d["contract"].pk, "cancel"]), {},
     {"anonymous": 302, "employer": 302, "freelancer": 403, "other": 403, "staff": 403}),
    ("upload", "accepted", "post", lambda d: reverse("workspace_upload", args=[d["contract"].pk]),
     lambda: {"file": zip_file()},
     {"anonymous": 302, "employer": 403, "freelancer": 302, "other": 403, "staff": 403}),
    ("done", "uploaded", "post", lambda d: reverse("workspace_operate", args=[d["contract"].pk, "done"]), {},
     {"anonymous": 302, "employer": 403, "freelancer": 302, "other": 403, "staff": 403}),
    ("approve", "paid", "post", lambda d: reverse("workspace_operate", args=[d["contract"].pk, "approve"]), {},
     {"anonymous": 302, "employer": 302, "freelancer": 403, "other": 403, "staff": 403}),
    ("dispute", "delivered", "post", lambda d: reverse("workspace_dispute", args=[d["contract"].pk]),
     lambda: {"reason": "incomplete", "description": "The basket is missing."},
     {"anonymous": 302, "employer": 302, "freelancer": 403, "other": 403, "staff": 403}),
    ("download (paid)", "paid", "get",
     lambda d: reverse("deliverable_download", args=[d["contract"].pk, _deliverable(d).pk]), None,
     {"anonymous": 302, "employer": 200, "freelancer": 200, "other": 403, "staff": 200}),
    ("download (half paid)", "delivered", "get",
     lambda d: reverse("deliverable_download", args=[d["contract"].pk, _deliverable(d).pk]), None,
     {"anonymous": 302, "employer": 403, "freelancer": 403, "other": 403, "staff": 403}),
    ("answer a dispute", "paid", "post", lambda d: _dispute_url(d, "answer"), {"message": "Fixed in v2."},
     {"anonymous": 302, "employer": 403, "freelancer": 302, "other": 403, "staff": 403}),
    ("escalate a dispute", "paid", "post", lambda d: _dispute_url(d, "escalate"), {},
     {"anonymous": 302, "employer": 302, "freelancer": 302, "other": 403, "staff": 403}),
    ("choose and pay", "open", "post", lambda d: reverse("proposal_select", args=[d["proposal"].pk]), {},
     {"anonymous": 302, "employer": 302, "freelancer": 403, "other": 403, "staff": 403}),
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "state", "method", "url", "data", "expected"), MATRIX, ids=[r[0] for r in MATRIX])
def test_who_may_use_each_workspace_url(role, name, state, method, url, data, expected):
    if state == "open":
        project = make_project(title="Open project")
        proposal = make_proposal(project=project)
        staff = UserFactory()
        staff.is_staff = True
        staff.save()
        deal = {"proposal": proposal, "users": {"employer": project.owner, "freelancer": proposal.freelancer,
                                                "other": UserFactory(), "staff": staff}}  # fmt: skip
    else:
        deal = _deal(state)
    client = _client(role, deal)
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
    deal = _deal("paid")
    response = _client("employer", deal).get(
        reverse("deliverable_download", args=[deal["contract"].pk, _deliverable(deal).pk])
    )
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert files_under(media_dirs / "media") == []


@pytest.mark.django_db
def test_one_machine_behind_nginx_hands_the_download_to_the_web_server(settings):
    settings.PRIVATE_FILES_X_ACCEL_PREFIX = "/protected/"
    deal = _deal("paid")
    response = _client("freelancer", deal).get(
        reverse("deliverable_download", args=[deal["contract"].pk, _deliverable(deal).pk])
    )
    assert response["X-Accel-Redirect"] == f"/protected/{_deliverable(deal).file.name}"


@pytest.mark.django_db
def test_bad_uploads_through_the_page_say_what_is_wrong_and_leave_nothing(media_dirs):
    deal = _deal("accepted")
    client = _client("freelancer", deal)
    url = reverse("workspace_upload", args=[deal["contract"].pk])
    before = files_under(media_dirs)
    fake = SimpleUploadedFile("work.zip", b"MZ not a zip", content_type="application/zip")
    response = client.post(url, {"file": fake}, follow=True)
    assert "not a zip archive" in response.content.decode()
    response = client.post(url, {"file": zip_file(files={"../evil.sh": "rm -rf /"})}, follow=True)
    assert "unsafe path" in response.content.decode()
    assert not deal["milestone"].deliverables.exists()
    assert files_under(media_dirs) == before


@pytest.mark.django_db
def test_a_delivery_too_large_to_be_kept_in_memory_is_stored_byte_for_byte(media_dirs, monkeypatch):
    deal = _deal("accepted")
    video = os.urandom(settings.FILE_UPLOAD_MAX_MEMORY_SIZE + 1024 * 1024)  # incompressible: the zip is as large
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.html", "<h1>Shop</h1>")
        archive.writestr("media/intro.mp4", video)
    sent = buffer.getvalue()
    received = []
    inspect_zip = contracts.inspect_zip

    def spy(upload):
        received.append(type(upload))
        return inspect_zip(upload)

    monkeypatch.setattr(contracts, "inspect_zip", spy)
    response = _client("freelancer", deal).post(
        reverse("workspace_upload", args=[deal["contract"].pk]),
        {"file": SimpleUploadedFile("site.zip", sent, content_type="application/zip")},
        follow=True,
    )
    assert received == [TemporaryUploadedFile]  # Django spooled it to disk
    deliverable = deal["milestone"].deliverables.get()
    with deliverable.file.open("rb") as stored:
        assert stored.read() == sent
    assert (deliverable.sha256, deliverable.size) == (hashlib.sha256(sent).hexdigest(), len(sent))
    assert deliverable.entries == [["index.html", 13], ["media/intro.mp4", len(video)]]
    assert files_under(media_dirs / "private") == [deliverable.file.name]
    page = response.content.decode()
    assert "index.html" in page and "media/intro.mp4" in page


@pytest.mark.django_db
def test_a_second_done_from_a_stale_tab_changes_nothing():
    deal = _deal("accepted")
    client = _client("freelancer", deal)
    contracts.deliverable_upload(milestone=deal["milestone"], by=deal["users"]["freelancer"], upload=zip_file())
    url = reverse("workspace_operate", args=[deal["contract"].pk, "done"])
    client.post(url)
    delivered_at = Milestone.objects.get(pk=deal["milestone"].pk).delivered_at
    response = client.post(url, follow=True)
    assert "no longer possible" in response.content.decode()
    assert Milestone.objects.get(pk=deal["milestone"].pk).delivered_at == delivered_at


@pytest.mark.django_db
def test_the_operations_menu_offers_exactly_what_the_user_may_do():
    deal = _deal("delivered")
    employer_html = _client("employer", deal).get(reverse("workspace", args=[deal["contract"].pk])).content.decode()
    freelancer_html = _client("freelancer", deal).get(reverse("workspace", args=[deal["contract"].pk])).content.decode()
    assert 'data-testid="op-fund"' in employer_html and 'data-testid="op-dispute"' in employer_html
    assert 'data-testid="op-approve"' not in employer_html  # not before the rest is paid
    assert 'data-testid="op-done"' not in freelancer_html and 'data-testid="op-fund"' not in freelancer_html


@pytest.mark.django_db
def test_staff_resolve_an_escalated_dispute_in_the_admin_by_a_split(django_capture_on_commit_callbacks):
    deal = _deal("paid")
    dispute = contracts.dispute_open(
        milestone=deal["milestone"], by=deal["users"]["employer"], reason="quality", description="Broken pages"
    )
    contracts.dispute_escalate(dispute=dispute, by=deal["users"]["freelancer"])
    staff = deal["users"]["staff"]
    staff.is_superuser = True
    staff.save()
    admin = Client()
    admin.force_login(staff)
    admin.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    url = reverse("admin:escrow_dispute_change", args=[dispute.pk])
    page = admin.get(url).content.decode()
    assert "Broken pages" in page and _deliverable(deal).sha256 in page
    response = admin.post(url, {"outcome": "split", "to_freelancer": "5000000", "note": ""}, follow=True)
    assert "between zero and the amount in escrow" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(url, {"outcome": "split", "to_freelancer": "700000", "note": "Two pages missing"})
    assert Dispute.objects.get(pk=dispute.pk).status == Dispute.Status.RESOLVED
    assert Account.objects.get(pk=wallet_of(deal["users"]["freelancer"]).pk).balance == 630000
    assert ledger_check().clean


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 30])
def test_the_workspace_runs_a_bounded_number_of_queries(django_assert_max_num_queries, count):
    deal = _deal("accepted")
    for _ in range(count):
        contracts.deliverable_upload(milestone=deal["milestone"], by=deal["users"]["freelancer"], upload=zip_file())
    client = _client("employer", deal)
    client.get(reverse("home"))  # the session is saved once logged in; not part of the page's cost
    with django_assert_max_num_queries(12):
        assert client.get(reverse("workspace", args=[deal["contract"].pk])).status_code == 200


@pytest.mark.django_db
def test_other_bidders_are_told_when_the_work_is_accepted(django_capture_on_commit_callbacks):
    from django.core import mail

    project = make_project(title="Rug shop")
    chosen, other = make_proposal(project=project, amount="1000000"), make_proposal(project=project)
    post_deposit(user=project.owner, amount=Decimal(600_000), currency="IRT", gateway="sandbox", key="s")
    contract = contracts.contract_select(proposal=chosen, by=project.owner)
    contracts.milestone_fund_next(milestone=contract.milestones.get(), by=project.owner)
    with django_capture_on_commit_callbacks(execute=True):
        contracts.contract_accept(contract=contract, by=chosen.freelancer)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([other.freelancer.email, project.owner.email])
    told = Notification.objects.filter(kind=Notification.Kind.PROPOSAL_NOT_SELECTED)
    assert [n.recipient for n in told] == [other.freelancer]


@pytest.mark.django_db
def test_the_sweep_is_a_management_command_and_a_beat_task(capsys):
    from django.core.management import call_command

    from marketplace.celery import app

    deal = _deal("paid")
    Milestone.objects.filter(pk=deal["milestone"].pk).update(
        auto_release_at=deal["milestone"].auto_release_at - timedelta(days=3)
    )
    call_command("release_due_escrow")
    assert "1 milestone(s) released." in capsys.readouterr().out
    assert Milestone.objects.get(pk=deal["milestone"].pk).status == Milestone.Status.COMPLETED
    entry = app.conf.beat_schedule["release-due-escrow"]
    assert (entry["task"], entry["schedule"]) == ("escrow.tasks.release_due_escrow", 60.0)


@pytest.mark.django_db
def test_a_second_pay_click_before_the_answer_pays_nothing_more(media_dirs):
    """Issue 13's defect: the page hides Pay once the guarantee is in, but a second POST paid the rest too."""
    deal = _deal("selected")
    employer = _client("employer", deal)
    url = reverse("workspace_fund", args=[deal["contract"].pk])
    assert employer.post(url, {"step": "upfront"}).status_code == 302
    for data in ({"step": "upfront"}, {"step": "rest"}, {}):
        response = employer.post(url, data, follow=True)
        assert response.status_code == 200
    milestone = Milestone.objects.get(pk=deal["milestone"].pk)
    assert milestone.funded == 500000
    assert wallet_of(deal["users"]["employer"]).balance == 1500000
    page = employer.get(reverse("workspace", args=[deal["contract"].pk])).content.decode()
    assert 'data-testid="op-fund"' not in page
    assert ledger_check().clean
