"""Migration workspace 0002 moves the contract's models from escrow and proposals to workspace without moving a
row: a database with contracts, disputes, phasing offers, deliverables, reviews and ledger entries written before
it keeps every row, every constraint and the ledger's triggers after it."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from escrow.checks import ledger_check
from escrow.models import Entry, Payment, Transaction
from reviews.models import Review
from workspace.models import Contract, Deliverable, Dispute, Milestone, MilestoneEvent, PhasingOffer

BEFORE = [
    ("escrow", "0007_payment_fund_step"),
    ("proposals", "0002_phases"),
    ("reviews", "0001_initial"),
    ("workspace", "0001_contracts_milestones_disputes"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    executor = MigrationExecutor(connection)
    return list(executor.loader.graph.leaf_nodes())


def _write_old_world(apps) -> dict:
    """Rows as the code before the move wrote them, through the models of that time."""
    User = apps.get_model("accounts", "User")
    Category = apps.get_model("projects", "Category")
    Project = apps.get_model("projects", "Project")
    Proposal = apps.get_model("proposals", "Proposal")
    OldContract = apps.get_model("escrow", "Contract")
    OldMilestone = apps.get_model("escrow", "Milestone")
    OldEvent = apps.get_model("escrow", "MilestoneEvent")
    OldDispute = apps.get_model("escrow", "Dispute")
    OldOffer = apps.get_model("proposals", "PhasingOffer")
    OldPhase = apps.get_model("proposals", "PhasingOfferPhase")
    OldDeliverable = apps.get_model("workspace", "Deliverable")
    OldReview = apps.get_model("reviews", "Review")
    Account = apps.get_model("escrow", "Account")
    LedgerTransaction = apps.get_model("escrow", "Transaction")
    LedgerEntry = apps.get_model("escrow", "Entry")
    OldPayment = apps.get_model("escrow", "Payment")

    employer = User.objects.create(username="old_employer", email="old_employer@example.com")
    freelancer = User.objects.create(username="old_freelancer", email="old_freelancer@example.com")
    category = Category.objects.order_by("position").first() or Category.objects.create(
        slug="old-category", name_en="Old", name_fa="قدیمی", position=1
    )
    project = Project.objects.create(
        owner=employer, title="Made before the move", description="Rows written by the old code.",
        category=category, currency="IRT", budget_min=Decimal(1), budget_max=Decimal(2), status="in_progress",
        duration_days=30,
    )  # fmt: skip
    proposal = Proposal.objects.create(
        project=project, freelancer=freelancer, amount=Decimal(1000), delivery_days=5, cover_letter="Old.",
        status="selected",
    )  # fmt: skip
    contract = OldContract.objects.create(
        project=project, proposal=proposal, employer=employer, freelancer=freelancer, currency="IRT", status="active"
    )
    milestone = OldMilestone.objects.create(
        contract=contract, position=1, title="Old phase", amount=Decimal(1000), upfront_share=Decimal("0.5"),
        funded=Decimal(500), status="disputed",
    )  # fmt: skip
    event = OldEvent.objects.create(milestone=milestone, kind="funded", actor=employer, amount=Decimal(500))
    dispute = OldDispute.objects.create(
        milestone=milestone, opened_by=employer, reason="incomplete", description="Half done.", status="open"
    )
    offer = OldOffer.objects.create(proposal=proposal, version=1, status="accepted")
    phase = OldPhase.objects.create(
        offer=offer, position=1, title="Old phase", due_date=date(2030, 1, 1), amount=Decimal(1000), replaces=milestone
    )
    deliverable = OldDeliverable.objects.create(
        milestone=milestone, version=1, file="deliverables/1/old.zip", original_name="old.zip", size=10,
        sha256="0" * 64, uploaded_by=freelancer,
    )  # fmt: skip
    review = OldReview.objects.create(
        contract=contract, author=employer, subject=freelancer, role="of_freelancer", rating=5, comment="Good."
    )
    wallet = Account.objects.create(kind="wallet", currency="IRT", owner=employer, key=f"wallet:{employer.pk}")
    escrow = Account.objects.create(kind="escrow", currency="IRT", key=f"escrow:milestone:{milestone.pk}")
    clearing = Account.objects.create(kind="clearing", currency="IRT", key="clearing:sandbox")
    payment = OldPayment.objects.create(
        user=employer, amount=Decimal(500), currency="IRT", gateway="sandbox", reference="old-ref", status="paid",
        milestone=milestone, fund_amount=Decimal(500), fund_step="upfront",
    )  # fmt: skip
    with transaction.atomic():
        deposit = LedgerTransaction.objects.create(kind="deposit", idempotency_key="old:deposit", payment=payment)
        LedgerEntry.objects.create(transaction=deposit, account=clearing, amount=Decimal(-500), currency="IRT")
        LedgerEntry.objects.create(transaction=deposit, account=wallet, amount=Decimal(500), currency="IRT")
        fund = LedgerTransaction.objects.create(kind="fund", idempotency_key="old:fund", milestone=milestone)
        LedgerEntry.objects.create(transaction=fund, account=wallet, amount=Decimal(-500), currency="IRT")
        LedgerEntry.objects.create(transaction=fund, account=escrow, amount=Decimal(500), currency="IRT")
    Account.objects.filter(pk=clearing.pk).update(balance=Decimal(-500))
    Account.objects.filter(pk=escrow.pk).update(balance=Decimal(500))
    return {
        "contract": contract.pk, "milestone": milestone.pk, "event": event.pk, "dispute": dispute.pk,
        "offer": offer.pk, "phase": phase.pk, "deliverable": deliverable.pk, "review": review.pk,
        "payment": payment.pk, "fund": fund.pk,
    }  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_the_move_keeps_every_row_constraint_and_trigger(require_postgres):
    old_contract_type = ContentType.objects.get_for_model(Contract)  # made for the current models at set-up
    old_apps = _migrate(BEFORE)
    assert ContentType.objects.get(pk=old_contract_type.pk).app_label == "escrow"  # moved back with the state
    ids = _write_old_world(old_apps)

    _migrate(_latest())

    # Every row, read through the new models and their relations.
    contract = Contract.objects.get(pk=ids["contract"])
    milestone = Milestone.objects.get(pk=ids["milestone"])
    assert milestone.contract == contract and milestone.in_escrow == Decimal(500)
    assert MilestoneEvent.objects.get(pk=ids["event"]).milestone == milestone
    assert Dispute.objects.get(pk=ids["dispute"]).milestone == milestone
    offer = PhasingOffer.objects.get(pk=ids["offer"])
    assert offer.phases.get().replaces == milestone and offer.proposal == contract.proposal
    assert Deliverable.objects.get(pk=ids["deliverable"]).milestone == milestone
    assert Review.objects.get(pk=ids["review"]).contract == contract
    assert Payment.objects.get(pk=ids["payment"]).milestone == milestone
    assert Transaction.objects.get(pk=ids["fund"]).milestone == milestone
    assert ContentType.objects.get(pk=old_contract_type.pk).app_label == "workspace"
    assert ledger_check().clean, ledger_check().breaches

    # The constraints are still the database's.
    with pytest.raises(IntegrityError), transaction.atomic():
        Dispute.objects.create(milestone=milestone, opened_by=contract.employer, reason="late", description="Again.")
    with pytest.raises(IntegrityError), transaction.atomic():
        Milestone.objects.filter(pk=milestone.pk).update(funded=Decimal(5000))  # funded above the amount
    with pytest.raises(IntegrityError), transaction.atomic():
        PhasingOffer.objects.create(proposal=contract.proposal, version=1)  # the version is taken

    # And the ledger's triggers: entries are append-only, a transaction must balance at commit.
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname")
        triggers = {row[0] for row in cursor.fetchall()}
    assert {"ledger_entry_balanced", "ledger_entry_append_only", "ledger_transaction_append_only"} <= triggers
    with pytest.raises(DatabaseError, match=r"append-only"), transaction.atomic():
        Entry.objects.filter(transaction_id=ids["fund"]).update(amount=Decimal(1))
