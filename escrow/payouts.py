"""Payouts in batches: staff put requested withdrawals into a payout batch, upload its transfer file to the bank's
group transfer (Paya), and import the bank's result file, which pays or returns each line through the same
services as a withdrawal processed by hand (escrow.services.withdrawal_mark_paid / withdrawal_reject).

The transfer file (CSV, UTF-8 with a byte-order mark so a spreadsheet opens the Persian names, one header row):

    row, destination_iban, amount_rial, owner_name, payment_id, description

the layout Iranian banks' bulk Paya upload takes (internet bank → group Paya → file): the destination Sheba
(IR + 24 digits), the amount in rial (a toman amount ×10), the account holder as saved with the request, our
reference for the line as the deposit id (شناسه واریز, `HMK-W<withdrawal>`), and a short description.

The result file the bank's statement gives back, one row per line (CSV, a header row; extra columns ignored):

    payment_id, amount_rial, status, tracking_number, reason

`status` is `paid` (also «موفق») or `returned` (also «برگشتی»/«ناموفق»). A paid line needs the bank's tracking
number; a returned line's reason is shown to the user. Importing a file twice changes nothing; a line naming no
withdrawal of the batch, or another amount, is reported and changes nothing; each line is its own transaction.
"""

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from escrow.models import PayoutBatch, Withdrawal
from escrow.services import withdrawal_mark_paid, withdrawal_reject
from marketplace.currency import to_rial
from marketplace.errors import DomainError, InvalidTransition, NotAllowed
from marketplace.status import set_status

TRANSFER_COLUMNS = ["row", "destination_iban", "amount_rial", "owner_name", "payment_id", "description"]
RESULT_COLUMNS = ["payment_id", "amount_rial", "status", "tracking_number", "reason"]
PAID_WORDS = {"paid", "موفق", "success"}
RETURNED_WORDS = {"returned", "برگشتی", "ناموفق", "failed", "rejected"}


def _staff_only(user: User) -> None:
    if not user.is_staff:
        raise NotAllowed(_("Only staff can process withdrawals."))


@transaction.atomic
def payout_batch_create(*, withdrawals, by: User) -> PayoutBatch:
    """Put requested withdrawals (of one currency) into a new batch, marked sent to the bank."""
    _staff_only(by)
    locked = list(Withdrawal.objects.select_for_update().filter(pk__in=[w.pk for w in withdrawals]).order_by("pk"))
    if not locked:
        raise DomainError(_("Choose the withdrawals to send to the bank."))
    if any(w.status != Withdrawal.Status.REQUESTED for w in locked):
        raise InvalidTransition(_("Only requested withdrawals can go into a payout batch."))
    currencies = {w.currency for w in locked}
    if len(currencies) != 1:
        raise DomainError(_("A payout batch is in one currency; choose withdrawals of one currency."))
    batch = PayoutBatch.objects.create(currency=currencies.pop(), created_by=by)
    for withdrawal in locked:
        set_status(withdrawal, Withdrawal.Status.SENT)
        withdrawal.batch = batch
        withdrawal.save(update_fields=["status", "batch"])
    return batch


def payout_batch_file(*, batch: PayoutBatch) -> str:
    """The bank's group transfer file for the batch (see the module's docstring for the layout)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(TRANSFER_COLUMNS)
    for row, withdrawal in enumerate(batch.withdrawals.order_by("pk"), start=1):
        writer.writerow(
            [
                row,
                withdrawal.sheba,
                to_rial(withdrawal.amount, withdrawal.currency),
                withdrawal.account_holder,
                withdrawal.reference,
                f"Hamkar payout {batch.reference}",
            ]
        )
    return out.getvalue()


@dataclass
class ImportReport:
    paid: int = 0
    returned: int = 0
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"paid": self.paid, "returned": self.returned, "unchanged": self.unchanged, "problems": self.problems}


def payout_batch_import(*, batch: PayoutBatch, by: User, content: bytes | str) -> ImportReport:
    """Apply the bank's result file to the batch, line by line (see the module's docstring)."""
    _staff_only(by)
    text = content.decode("utf-8-sig", errors="replace") if isinstance(content, bytes) else content.lstrip("\ufeff")
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    if not {"payment_id", "amount_rial", "status"} <= set(header):
        raise DomainError(
            _("This is not a result file: its first row must name the columns %(columns)s.")
            % {"columns": ", ".join(RESULT_COLUMNS)}
        )
    reader.fieldnames = header
    withdrawals = {w.reference: w for w in batch.withdrawals.all()}
    for number, line in enumerate(reader, start=2):
        problem = _import_line(batch, by, withdrawals, line, report)
        if problem:
            report.problems.append(_("Line %(number)s: %(problem)s") % {"number": number, "problem": problem})
    with transaction.atomic():
        locked = PayoutBatch.objects.select_for_update().get(pk=batch.pk)
        locked.imports = [*locked.imports, {"at": timezone.now().isoformat(), "by": by.pk, **report.as_dict()}]
        fields = ["imports"]
        if locked.status == PayoutBatch.Status.SENT and not locked.withdrawals.filter(status__in=Withdrawal.OPEN):
            set_status(locked, PayoutBatch.Status.SETTLED)
            locked.settled_at = timezone.now()
            fields += ["status", "settled_at"]
        locked.save(update_fields=fields)
    return report


def _import_line(batch, by, withdrawals, line, report) -> str:
    """Apply one result line; returns what is wrong with it, or "" when it was applied or already was."""
    reference = (line.get("payment_id") or "").strip()
    withdrawal = withdrawals.get(reference)
    if withdrawal is None:
        return _("%(reference)s is no withdrawal of this batch; nothing changed.") % {"reference": reference or "—"}
    try:
        amount = int(Decimal((line.get("amount_rial") or "").strip().replace(",", "")))
    except (InvalidOperation, ValueError):
        return _("the amount of %(reference)s is not a number; nothing changed.") % {"reference": reference}
    if amount != to_rial(withdrawal.amount, withdrawal.currency):
        return _("%(reference)s was sent for %(sent)s rial, the bank says %(amount)s; nothing changed.") % {
            "reference": reference,
            "sent": f"{to_rial(withdrawal.amount, withdrawal.currency):,}",
            "amount": f"{amount:,}",
        }
    status = (line.get("status") or "").strip().lower()
    tracking = (line.get("tracking_number") or "").strip()[:100]
    current = Withdrawal.objects.get(pk=withdrawal.pk).status
    if status in PAID_WORDS:
        if current == Withdrawal.Status.PAID:
            report.unchanged += 1
            return ""
        if not tracking:
            return _("%(reference)s is paid but has no tracking number; nothing changed.") % {"reference": reference}
        target = Withdrawal.Status.PAID
    elif status in RETURNED_WORDS:
        if current == Withdrawal.Status.REJECTED:
            report.unchanged += 1
            return ""
        target = Withdrawal.Status.REJECTED
    else:
        return _("%(reference)s has an unknown status “%(status)s”; nothing changed.") % {
            "reference": reference,
            "status": status,
        }
    if current not in Withdrawal.OPEN:
        return _("%(reference)s was already %(status)s; the bank now says otherwise, nothing changed.") % {
            "reference": reference,
            "status": Withdrawal.Status(current).label,
        }
    try:
        if target == Withdrawal.Status.PAID:
            withdrawal_mark_paid(withdrawal=withdrawal, by=by, bank_reference=tracking)
            report.paid += 1
        else:
            reason = (line.get("reason") or "").strip() or _("The bank returned the transfer.")
            withdrawal_reject(withdrawal=withdrawal, by=by, note=reason, bank_reference=tracking)
            report.returned += 1
    except DomainError as error:
        return f"{reference}: {error.message}"
    return ""
