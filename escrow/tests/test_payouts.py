"""Payouts in batches: withdrawals go to the bank as one group transfer file, and the bank's result file pays or
returns each line through the withdrawal services, once."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import Profile
from accounts.tests.factories import UserFactory
from escrow.checks import ledger_check
from escrow.ledger import payout_of, post_deposit, wallet_of
from escrow.models import Account, PayoutBatch, Withdrawal
from escrow.payouts import payout_batch_create, payout_batch_file, payout_batch_import
from escrow.services import withdrawal_request
from marketplace.errors import DomainError, InvalidTransition, NotAllowed
from notifications.models import Notification


def _balance(account) -> Decimal:
    return Account.objects.get(pk=account.pk).balance


def _freelancer(name: str, holder: str, sheba: str, earned: int = 3_000_000):
    user = UserFactory(username=name)
    Profile.objects.filter(user=user).update(bank_sheba=sheba, bank_account_holder=holder)
    post_deposit(user=user, amount=Decimal(earned), currency="IRT", gateway="sandbox", key=f"earned:{name}")
    return user


def _staff():
    staff = UserFactory(is_staff=True)
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    return staff


@pytest.fixture
def two_requests(db):
    reza = _freelancer("reza", "رضا کریمی", "IR820540102680020817909002")
    mina = _freelancer("mina", "مینا رضایی", "IR062960000000100324200001")
    return (
        withdrawal_request(user=reza, amount=Decimal(1_200_000)),
        withdrawal_request(user=mina, amount=Decimal(800_000)),
    )


def _result(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["payment_id", "amount_rial", "status", "tracking_number", "reason"])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def test_the_transfer_file_has_one_line_per_withdrawal_in_rial(two_requests):
    first, second = two_requests
    batch = payout_batch_create(withdrawals=[first, second], by=_staff())
    assert set(batch.withdrawals.values_list("status", flat=True)) == {Withdrawal.Status.SENT}
    content = payout_batch_file(batch=batch)
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))
    assert rows[0] == ["row", "destination_iban", "amount_rial", "owner_name", "payment_id", "description"]
    assert rows[1] == ["1", "IR820540102680020817909002", "12000000", "رضا کریمی", f"HMK-W{first.pk}",
                       f"Hamkar payout {batch.reference}"]  # fmt: skip
    assert rows[2][2:5] == ["8000000", "مینا رضایی", f"HMK-W{second.pk}"]


def test_a_result_file_pays_one_line_and_returns_the_other_once(two_requests):
    first, second = two_requests
    staff = _staff()
    batch = payout_batch_create(withdrawals=[first, second], by=staff)
    result = _result(
        [[f"HMK-W{first.pk}", "12,000,000", "paid", "140309150001", ""],
         [f"HMK-W{second.pk}", "8000000", "برگشتی", "", "Account closed"]]
    )  # fmt: skip
    report = payout_batch_import(batch=batch, by=staff, content=result)
    assert (report.paid, report.returned, report.problems) == (1, 1, [])
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.bank_reference) == (Withdrawal.Status.PAID, "140309150001")
    assert (second.status, second.staff_note) == (Withdrawal.Status.REJECTED, "Account closed")
    assert _balance(wallet_of(second.user)) == 3_000_000  # back in the wallet
    assert _balance(wallet_of(first.user)) == 1_800_000 and _balance(payout_of(first.user)) == 0
    assert PayoutBatch.objects.get(pk=batch.pk).status == PayoutBatch.Status.SETTLED
    kinds = Notification.objects.filter(recipient__in=[first.user, second.user]).values_list("kind", flat=True)
    assert {Notification.Kind.WITHDRAWAL_PAID, Notification.Kind.WITHDRAWAL_REJECTED} <= set(kinds)

    again = payout_batch_import(batch=batch, by=staff, content=result)  # the same file twice
    assert (again.paid, again.returned, again.unchanged, again.problems) == (0, 0, 2, [])
    assert _balance(wallet_of(second.user)) == 3_000_000
    assert len(PayoutBatch.objects.get(pk=batch.pk).imports) == 2
    assert ledger_check().clean


def test_lines_that_match_nothing_or_another_amount_are_reported_and_change_nothing(two_requests):
    first, second = two_requests
    staff = _staff()
    batch = payout_batch_create(withdrawals=[first], by=staff)
    report = payout_batch_import(
        batch=batch, by=staff,
        content=_result([
            [f"HMK-W{second.pk}", "8000000", "paid", "1", ""],  # not in this batch
            ["HMK-W999999", "1000", "paid", "2", ""],
            [f"HMK-W{first.pk}", "12000001", "paid", "3", ""],  # another amount
            [f"HMK-W{first.pk}", "12000000", "paid", "", ""],  # paid without a tracking number
            [f"HMK-W{first.pk}", "12000000", "maybe", "4", ""],
            [f"HMK-W{first.pk}", "twelve", "paid", "5", ""],
        ]),
    )  # fmt: skip
    assert report.paid == report.returned == 0
    assert len(report.problems) == 6, report.problems
    assert "Line 4" in report.problems[2] and "12,000,000" in report.problems[2]
    assert Withdrawal.objects.get(pk=first.pk).status == Withdrawal.Status.SENT
    assert Withdrawal.objects.get(pk=second.pk).status == Withdrawal.Status.REQUESTED
    assert PayoutBatch.objects.get(pk=batch.pk).status == PayoutBatch.Status.SENT
    # The bank cannot change its mind about a line already settled.
    payout_batch_import(batch=batch, by=staff, content=_result([[f"HMK-W{first.pk}", "12000000", "paid", "7", ""]]))
    late = payout_batch_import(
        batch=batch, by=staff, content=_result([[f"HMK-W{first.pk}", "12000000", "returned", "", "?"]])
    )
    assert late.returned == 0 and "already" in late.problems[0]
    assert Withdrawal.objects.get(pk=first.pk).status == Withdrawal.Status.PAID
    assert ledger_check().clean


def test_a_batch_takes_only_requested_withdrawals_of_one_currency_and_only_from_staff(two_requests):
    first, second = two_requests
    with pytest.raises(NotAllowed):
        payout_batch_create(withdrawals=[first], by=first.user)
    staff = _staff()
    payout_batch_create(withdrawals=[first], by=staff)
    with pytest.raises(InvalidTransition):
        payout_batch_create(withdrawals=[first, second], by=staff)  # the first is sent already
    assert Withdrawal.objects.get(pk=second.pk).status == Withdrawal.Status.REQUESTED
    with pytest.raises(DomainError):
        payout_batch_import(batch=PayoutBatch.objects.get(), by=staff, content=b"not,a,result\n1,2,3\n")


def test_staff_make_a_batch_download_its_file_and_import_the_result_in_the_admin(two_requests):
    first, second = two_requests
    admin = Client()
    admin.force_login(_staff())
    admin.cookies["django_language"] = "en"
    response = admin.post(
        reverse("admin:escrow_withdrawal_changelist"),
        {"action": "make_payout_batch", "_selected_action": [first.pk, second.pk]},
    )
    batch = PayoutBatch.objects.get()
    assert response["Location"] == reverse("admin:escrow_payoutbatch_change", args=[batch.pk])
    page = admin.get(response["Location"]).content.decode()
    assert batch.reference in page and "Download the transfer file" in page and 'data-testid="result-form"' in page
    file = admin.get(reverse("admin:escrow_payoutbatch_file", args=[batch.pk]))
    assert file["Content-Disposition"] == f'attachment; filename="{batch.reference}.csv"'
    assert f"HMK-W{first.pk}" in file.content.decode("utf-8-sig")
    upload = SimpleUploadedFile(
        "result.csv",
        _result([[f"HMK-W{first.pk}", "12000000", "موفق", "140309150001", ""],
                 [f"HMK-W{second.pk}", "8000000", "returned", "", "Wrong Sheba"]]),
    )  # fmt: skip
    done = admin.post(reverse("admin:escrow_payoutbatch_result", args=[batch.pk]), {"result_file": upload}, follow=True)
    assert "1 paid, 1 returned, 0 unchanged." in done.content.decode()
    assert PayoutBatch.objects.get().status == PayoutBatch.Status.SETTLED
    # Each user sees the outcome on their payment settings page.
    for withdrawal, expected in ((first, "140309150001"), (second, "Wrong Sheba")):
        client = Client()
        client.force_login(withdrawal.user)
        client.cookies["django_language"] = "en"
        assert expected in client.get(reverse("payment_settings")).content.decode()
    # Someone who is not staff gets nothing from the file or the import.
    stranger = Client()
    stranger.force_login(first.user)
    assert stranger.get(reverse("admin:escrow_payoutbatch_file", args=[batch.pk])).status_code == 302
