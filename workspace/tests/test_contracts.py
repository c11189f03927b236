import hashlib
import os
import shutil
import threading
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.tests.factories import UserFactory
from escrow.checks import ledger_check
from escrow.ledger import revenue_account, wallet_of
from escrow.models import Account, Transaction
from marketplace.errors import DomainError, InvalidTransition, NotAllowed
from marketplace.testing import files_under, peak_memory, run_in_threads, spooled_upload
from projects.models import Project
from proposals.tests.factories import make_proposal
from workspace.models import Contract, Dispute, Milestone, MilestoneEvent
from workspace.services import choosing, delivery, disputes, funding, rules
from workspace.tests.factories import contract_in, zip_file

# The amounts every test here counts on: a 1,000,000-toman proposal, 2,000,000 in the employer's wallet.
RUG_SHOP = {"title": "Rug shop", "amount": "1000000", "wallet": "2000000"}


def _balance(account):
    return Account.objects.get(pk=account.pk).balance


@pytest.fixture
def deal(db):
    """A project, a 1,000,000-toman proposal selected, the employer with 2,000,000 in the wallet."""
    return contract_in("unpaid", **RUG_SHOP)


def test_selecting_makes_a_contract_with_one_milestone_and_closes_the_project_to_bids(deal):
    milestone = deal.milestone
    assert (milestone.amount, milestone.upfront_share, milestone.upfront_amount) == (1000000, Decimal("0.5"), 500000)
    assert Project.objects.get(pk=deal.project.pk).status == Project.Status.IN_PROGRESS
    with pytest.raises(InvalidTransition):
        make_proposal(project=deal.project)


def test_the_upfront_share_then_the_rest_each_once(deal):
    milestone = funding.milestone_fund_next(milestone=deal.milestone, by=deal.employer)
    assert (milestone.funded, milestone.status) == (500000, Milestone.Status.FUNDED)
    assert _balance(wallet_of(deal.employer)) == 1500000
    choosing.contract_accept(contract=deal.contract, by=deal.freelancer)  # the rest is due from here on
    milestone = funding.milestone_fund_next(milestone=milestone, by=deal.employer)
    assert milestone.funded == 1000000
    with pytest.raises(DomainError):
        funding.milestone_fund_next(milestone=milestone, by=deal.employer)
    assert ledger_check().clean


def test_accepting_needs_the_guarantee_and_the_freelancer(deal):
    with pytest.raises(InvalidTransition):
        choosing.contract_accept(contract=deal.contract, by=deal.freelancer)
    funding.milestone_fund_next(milestone=deal.milestone, by=deal.employer)
    with pytest.raises(NotAllowed):
        choosing.contract_accept(contract=deal.contract, by=deal.employer)
    choosing.contract_accept(contract=deal.contract, by=deal.freelancer)
    assert Contract.objects.get(pk=deal.contract.pk).status == Contract.Status.ACTIVE


def test_declining_refunds_the_guarantee_and_reopens_the_project(db):
    deal = contract_in("awaiting", **RUG_SHOP)
    choosing.contract_decline(contract=deal.contract, by=deal.freelancer)
    assert _balance(wallet_of(deal.employer)) == 2000000
    assert Milestone.objects.get(pk=deal.milestone.pk).status == Milestone.Status.REFUNDED
    assert Project.objects.get(pk=deal.project.pk).status == Project.Status.OPEN
    assert ledger_check().clean


def test_the_employer_may_cancel_only_after_the_answer_period(db):
    deal = contract_in("awaiting", **RUG_SHOP)
    with pytest.raises(InvalidTransition):
        choosing.contract_cancel_unanswered(contract=deal.contract, by=deal.employer)
    later = timezone.now() + timedelta(days=3, minutes=1)
    choosing.contract_cancel_unanswered(contract=deal.contract, by=deal.employer, now=later)
    assert _balance(wallet_of(deal.employer)) == 2000000


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("work.zip", b"not a zip at all", content_type="application/zip"), "not a zip"),
        (zip_file(files={"../../etc/passwd": "x"}), "unsafe path"),
        (zip_file(files={"/abs/path.txt": "x"}), "unsafe path"),
        (zip_file(files={"bomb.txt": "0" * 5_000_000}), "too much data"),
    ],
)
def test_bad_zips_are_refused_and_nothing_is_stored(db, media_dirs, upload, message):
    deal = contract_in("in_progress", **RUG_SHOP)
    milestone = deal.milestone
    with pytest.raises(ValidationError, match=message):
        delivery.deliverable_upload(milestone=milestone, by=deal.freelancer, upload=upload)
    assert not milestone.deliverables.exists()
    assert files_under(media_dirs) == []


def test_a_zip_with_a_symlink_is_refused(db):
    deal = contract_in("in_progress", **RUG_SHOP)
    link = zipfile.ZipInfo("link")
    link.external_attr = 0o120777 << 16
    with pytest.raises(ValidationError, match="symbolic link"):
        delivery.deliverable_upload(
            milestone=deal.milestone, by=deal.freelancer, upload=zip_file(infos=[(link, "/etc")])
        )


def test_too_many_entries_or_too_large_a_file(db, settings):
    deal = contract_in("in_progress", **RUG_SHOP)
    milestone = deal.milestone
    settings.ZIP_MAX_ENTRIES = 3
    with pytest.raises(ValidationError, match="too many files"):
        delivery.deliverable_upload(
            milestone=milestone, by=deal.freelancer, upload=zip_file(files={f"f{n}": "x" for n in range(5)})
        )
    settings.DELIVERABLE_MAX_BYTES = 10
    with pytest.raises(ValidationError, match="larger than"):
        delivery.deliverable_upload(milestone=milestone, by=deal.freelancer, upload=zip_file())


def test_delivery_records_the_hash_and_the_file_list_privately(db, media_dirs):
    deal = contract_in("in_progress", **RUG_SHOP)
    upload = zip_file()
    expected = hashlib.sha256(upload.read()).hexdigest()
    deliverable = delivery.deliverable_upload(milestone=deal.milestone, by=deal.freelancer, upload=upload)
    assert deliverable.sha256 == expected
    assert sorted(name for name, _size in deliverable.entries) == ["css/site.css", "index.html"]
    assert files_under(media_dirs / "private") == [deliverable.file.name]
    assert files_under(media_dirs / "media") == []


def _file_sha256(path) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _spooled_zip(megabytes: int):
    """A zip of incompressible data (stored, not deflated) spooled to disk 1 MiB at a time, as Django spools a
    large upload."""

    def fill(file):
        with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr("README.txt", "Rug shop, final delivery")
            with archive.open("media/intro.mp4", "w") as entry:
                for _ in range(megabytes):
                    entry.write(os.urandom(1024 * 1024))

    return spooled_upload("delivery.zip", "application/zip", fill)


@pytest.fixture
def large_zip(media_dirs):
    """150 MB on disk; the temporary file and the stored copy are removed after the test."""
    upload = _spooled_zip(150)
    yield upload
    upload.close()
    shutil.rmtree(media_dirs / "private", ignore_errors=True)


def test_a_large_delivery_is_checked_hashed_and_stored_without_being_read_into_memory(db, large_zip, settings):
    settings.DELIVERABLE_MAX_BYTES = 200 * 1024 * 1024
    deal = contract_in("in_progress", **RUG_SHOP)
    deliverable, peak = peak_memory(
        lambda: delivery.deliverable_upload(milestone=deal.milestone, by=deal.freelancer, upload=large_zip)
    )
    assert peak < 20 * 1024 * 1024, f"{peak / 2**20:.1f} MiB allocated for a {large_zip.size / 2**20:.0f} MB upload"
    sent = _file_sha256(large_zip.temporary_file_path())
    assert (deliverable.sha256, deliverable.size) == (sent, large_zip.size)
    assert (_file_sha256(deliverable.file.path), os.path.getsize(deliverable.file.path)) == (sent, large_zip.size)
    assert deliverable.entries == [["README.txt", 24], ["media/intro.mp4", 150 * 1024 * 1024]]


def test_a_failure_after_the_file_is_stored_leaves_neither_file_nor_row(db, media_dirs, monkeypatch):
    deal = contract_in("in_progress", **RUG_SHOP)
    milestone = deal.milestone

    def fail(*args, **kwargs):
        assert len(files_under(media_dirs / "private")) == 1  # the file is written by now
        raise RuntimeError("recording the event failed")

    monkeypatch.setattr(delivery, "record_event", fail)
    # 3 MB, over FILE_UPLOAD_MAX_MEMORY_SIZE: a temporary file on disk, as a view gets a real delivery.
    with _spooled_zip(3) as upload, pytest.raises(RuntimeError):
        delivery.deliverable_upload(milestone=milestone, by=deal.freelancer, upload=upload)
    assert not milestone.deliverables.exists()
    assert files_under(media_dirs / "private") == []


def test_done_needs_a_file_and_a_stale_second_done_is_refused(db):
    deal = contract_in("in_progress", **RUG_SHOP)
    milestone, freelancer = deal.milestone, deal.freelancer
    with pytest.raises(InvalidTransition):
        delivery.milestone_mark_delivered(milestone=milestone, by=freelancer)
    delivery.deliverable_upload(milestone=milestone, by=freelancer, upload=zip_file())
    delivery.milestone_mark_delivered(milestone=milestone, by=freelancer)
    with pytest.raises(InvalidTransition):
        delivery.milestone_mark_delivered(milestone=milestone, by=freelancer)


def test_the_clock_starts_only_when_delivered_and_fully_funded(db):
    deal = contract_in("delivered", **RUG_SHOP)  # delivered, the rest not paid yet
    milestone = deal.milestone
    assert milestone.auto_release_at is None
    milestone = funding.milestone_fund_next(milestone=milestone, by=deal.employer)
    assert milestone.auto_release_at is not None
    assert abs((milestone.auto_release_at - timezone.now()) - timedelta(days=2)) < timedelta(minutes=1)


def test_approve_releases_less_commission_and_completes_everything(db):
    deal = contract_in("review", **RUG_SHOP)  # delivered and paid in full
    milestone = deal.milestone
    with pytest.raises(NotAllowed):
        delivery.milestone_approve(milestone=milestone, by=deal.freelancer)
    delivery.milestone_approve(milestone=milestone, by=deal.employer)
    assert _balance(wallet_of(deal.freelancer)) == 900000
    assert _balance(revenue_account()) == 100000
    assert Contract.objects.get(pk=deal.contract.pk).status == Contract.Status.COMPLETED
    assert Project.objects.get(pk=deal.project.pk).status == Project.Status.COMPLETED
    with pytest.raises(InvalidTransition):  # an approve after the release (e.g. after the auto-release)
        delivery.milestone_approve(milestone=milestone, by=deal.employer)
    assert Transaction.objects.filter(kind="release").count() == 1
    assert ledger_check().clean


def test_auto_release_not_before_the_deadline_and_exactly_once_after(db):
    deal = contract_in("review", **RUG_SHOP)
    milestone = deal.milestone
    assert delivery.release_due_escrow(now=milestone.auto_release_at - timedelta(seconds=1)) == 0
    assert delivery.release_due_escrow(now=milestone.auto_release_at + timedelta(seconds=1)) == 1
    assert delivery.release_due_escrow(now=milestone.auto_release_at + timedelta(days=1)) == 0
    assert _balance(wallet_of(deal.freelancer)) == 900000
    assert MilestoneEvent.objects.filter(kind="auto_released").count() == 1
    assert ledger_check().clean


def test_an_open_dispute_stops_the_clock_and_staff_split_it(db, media_dirs):
    deal = contract_in("review", **RUG_SHOP)
    milestone, employer, freelancer = deal.milestone, deal.employer, deal.freelancer
    dispute = disputes.dispute_open(
        milestone=milestone, by=employer, reason="incomplete", description="The basket page is missing."
    )
    assert delivery.release_due_escrow(now=timezone.now() + timedelta(days=5)) == 0
    delivery.deliverable_upload(milestone=milestone, by=freelancer, upload=zip_file())
    disputes.dispute_answer(dispute=dispute, by=freelancer, message="Added the basket page (v2).")
    disputes.dispute_escalate(dispute=dispute, by=employer)
    staff = UserFactory()
    staff.is_staff = True
    with pytest.raises(NotAllowed):
        disputes.dispute_resolve(dispute=dispute, by=employer, outcome="release")
    with pytest.raises(DomainError):
        disputes.dispute_resolve(dispute=dispute, by=staff, outcome="split", to_freelancer=Decimal(2_000_000))
    disputes.dispute_resolve(dispute=dispute, by=staff, outcome="split", to_freelancer=Decimal(600_000))
    assert _balance(wallet_of(freelancer)) == 540000
    assert _balance(wallet_of(employer)) == 1000000 + 400000
    assert Dispute.objects.get(pk=dispute.pk).status == Dispute.Status.RESOLVED
    assert ledger_check().clean


def test_staff_refund_after_a_dispute(db):
    deal = contract_in("disputed", **RUG_SHOP)  # delivered, paid in full, then disputed by the employer
    staff = UserFactory()
    staff.is_staff = True
    disputes.dispute_resolve(dispute=deal.dispute, by=staff, outcome="refund", note="Not delivered as agreed")
    assert _balance(wallet_of(deal.employer)) == 2000000
    assert Milestone.objects.get(pk=deal.milestone.pk).status == Milestone.Status.REFUNDED
    assert ledger_check().clean


def test_the_employer_may_approve_after_the_freelancers_fix(db):
    deal = contract_in("answered", **RUG_SHOP)  # disputed, and the freelancer answered with a fix
    delivery.milestone_approve(milestone=deal.milestone, by=deal.employer)
    assert Dispute.objects.get(pk=deal.dispute.pk).status == Dispute.Status.RESOLVED
    assert _balance(wallet_of(deal.freelancer)) == 900000


# --- races (PostgreSQL, real threads) -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_release_once(require_postgres):
    deal = contract_in("review", **RUG_SHOP)
    later = deal.milestone.auto_release_at + timedelta(seconds=1)
    results = run_in_threads(2, lambda: delivery.release_due_escrow(now=later))
    assert sorted(results) == [0, 1]
    assert Transaction.objects.filter(kind="release").count() == 1
    assert _balance(wallet_of(deal.freelancer)) == 900000
    assert ledger_check().clean


@pytest.mark.django_db(transaction=True)
def test_an_approve_racing_a_sweep_releases_once(require_postgres):
    deal = contract_in("review", **RUG_SHOP)
    milestone = deal.milestone
    later = milestone.auto_release_at + timedelta(seconds=1)
    actions = iter([
        lambda: delivery.release_due_escrow(now=later),
        lambda: delivery.milestone_approve(milestone=milestone, by=deal.employer),
    ])  # fmt: skip
    lock = threading.Lock()

    def next_action():
        with lock:
            action = next(actions)
        return action()

    results = run_in_threads(2, next_action)
    assert Transaction.objects.filter(kind="release").count() == 1
    assert Milestone.objects.get(pk=milestone.pk).status == Milestone.Status.COMPLETED
    assert _balance(wallet_of(deal.freelancer)) == 900000
    # Either the sweep released (1) and the approve found it done, or the approve released and the sweep
    # found nothing to do (0).
    kinds = sorted(type(r).__name__ if not isinstance(r, int) else str(r) for r in results)
    assert kinds in (["1", "InvalidTransition"], ["0", "Milestone"]), results
    assert ledger_check().clean


# --- funding names the step it pays (issue 13: a repeat paid the next step) ----------------------------------


def test_a_repeat_of_the_upfront_step_moves_nothing_and_the_rest_is_not_due_before_the_answer(deal):
    employer, milestone = deal.employer, deal.milestone
    funding.milestone_fund(milestone=milestone, by=employer, step="upfront")
    with pytest.raises(InvalidTransition, match="already paid"):
        funding.milestone_fund(milestone=milestone, by=employer, step="upfront")
    with pytest.raises(InvalidTransition, match="not due yet"):
        funding.milestone_fund(milestone=milestone, by=employer, step="rest")
    assert Milestone.objects.get(pk=milestone.pk).funded == 500000
    assert _balance(wallet_of(employer)) == 1500000
    assert Transaction.objects.filter(kind="fund").count() == 1


def test_the_rest_is_due_once_the_freelancer_accepted_and_a_repeat_moves_nothing(deal):
    employer, milestone = deal.employer, deal.milestone
    funding.milestone_fund(milestone=milestone, by=employer, step="upfront")
    choosing.contract_accept(contract=deal.contract, by=deal.freelancer)
    assert rules.funding_due(Milestone.objects.get(pk=milestone.pk)) == ("rest", Decimal(500000))
    funding.milestone_fund(milestone=milestone, by=employer, step="rest")
    with pytest.raises(InvalidTransition, match="already paid"):
        funding.milestone_fund(milestone=milestone, by=employer, step="rest")
    with pytest.raises(DomainError):
        funding.milestone_fund(milestone=milestone, by=employer, step="everything")
    assert Milestone.objects.get(pk=milestone.pk).funded == 1000000
    assert _balance(wallet_of(employer)) == 1000000
    assert ledger_check().clean


@pytest.mark.django_db(transaction=True)
def test_thirty_payments_of_the_same_step_at_once_move_it_once(require_postgres, deal):
    employer, milestone = deal.employer, deal.milestone
    results = run_in_threads(30, lambda: funding.milestone_fund(milestone=milestone, by=employer, step="upfront"))
    assert sum(isinstance(result, Milestone) for result in results) == 1
    assert all(isinstance(r, Milestone | InvalidTransition) for r in results), results
    assert Milestone.objects.get(pk=milestone.pk).funded == 500000
    assert _balance(wallet_of(employer)) == 1500000
    assert ledger_check().clean


# --- one lock order (issue 13: an approve racing a staff resolution ended in "deadlock detected") ------------


def _race(first, second) -> list:
    """Two actions in two real threads, started at the same moment; what each returned or raised."""
    actions = iter([first, second])
    lock = threading.Lock()

    def next_action():
        with lock:
            action = next(actions)
        return action()

    return run_in_threads(2, next_action)


def _staff():
    staff = UserFactory()
    staff.is_staff = True
    staff.save()
    return staff


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("outcome", ["release", "refund", "split"])
def test_an_approve_racing_a_staff_resolution_ends_with_one_outcome_and_no_deadlock(require_postgres, outcome):
    from django.db import OperationalError

    deal = contract_in("disputed", **RUG_SHOP)
    milestone, dispute, staff = deal.milestone, deal.dispute, _staff()
    results = _race(
        lambda: delivery.milestone_approve(milestone=milestone, by=deal.employer),
        lambda: disputes.dispute_resolve(dispute=dispute, by=staff, outcome=outcome, to_freelancer=Decimal(400_000)),
    )
    assert not any(isinstance(result, OperationalError) for result in results), results
    assert sum(isinstance(result, Milestone | Dispute) for result in results) == 1, results
    assert all(isinstance(r, Milestone | Dispute | InvalidTransition) for r in results), results
    assert Dispute.objects.get(pk=dispute.pk).status == Dispute.Status.RESOLVED
    assert Milestone.objects.get(pk=milestone.pk).status in Milestone.CLOSED
    assert Transaction.objects.filter(kind__in=["release", "refund", "split"]).count() == 1
    assert ledger_check().clean


@pytest.mark.django_db(transaction=True)
def test_a_resolution_racing_the_sweep_ends_with_one_outcome(require_postgres):
    deal = contract_in("disputed", **RUG_SHOP)
    dispute, staff = deal.dispute, _staff()
    later = timezone.now() + timedelta(days=5)
    results = _race(
        lambda: delivery.release_due_escrow(now=later),
        lambda: disputes.dispute_resolve(dispute=dispute, by=staff, outcome="refund"),
    )
    assert not any(isinstance(result, Exception) for result in results), results
    assert Transaction.objects.filter(kind__in=["release", "refund"]).count() == 1
    assert ledger_check().clean


@pytest.mark.django_db(transaction=True)
def test_paying_the_guarantee_racing_a_cancel_ends_with_one_story(require_postgres, deal, settings):
    """The answer period is over and nothing is paid: the employer pays the guarantee in one tab and cancels in
    another. Either the payment comes first and the cancel refunds it, or the cancel comes first and the payment
    is refused; never a deadlock, never money left in a cancelled contract's escrow."""
    Contract.objects.filter(pk=deal.contract.pk).update(
        created_at=timezone.now() - timedelta(days=settings.ACCEPTANCE_DAYS + 1)
    )
    milestone, employer = deal.milestone, deal.employer
    results = _race(
        lambda: funding.milestone_fund(milestone=milestone, by=employer, step="upfront"),
        lambda: choosing.contract_cancel_unanswered(contract=deal.contract, by=employer),
    )
    assert all(isinstance(r, Milestone | Contract | InvalidTransition) for r in results), results
    assert Contract.objects.get(pk=deal.contract.pk).status == Contract.Status.CANCELLED
    assert Milestone.objects.get(pk=milestone.pk).in_escrow == 0
    assert _balance(wallet_of(employer)) == 2_000_000
    assert ledger_check().clean
