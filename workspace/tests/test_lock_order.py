"""The lock order across contracts of one project (workspace.services.locks: project first). Before it, a later
phase's acceptance locked the earlier contract's phases and then wrote the project, while a staff refund of that
contract locked its milestone and then wrote the project too: each could hold what the other waited for."""

import threading

import pytest
from django.db import OperationalError

from accounts.tests.factories import UserFactory
from escrow.checks import ledger_check
from escrow.models import Transaction
from marketplace.testing import run_in_threads
from projects.models import Project
from projects.tests.factories import make_project
from proposals.tests.factories import make_proposal
from workspace.models import Contract, Dispute, Milestone
from workspace.services import disputes
from workspace.services.phasing import phasing_offer_accept, phasing_offer_send
from workspace.tests.factories import phased_contract_in, phases


def _both_at_once(first, second) -> list:
    actions = iter([first, second])
    lock = threading.Lock()

    def next_action():
        with lock:
            action = next(actions)
        return action()

    return run_in_threads(2, next_action)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("outcome", ["refund", "release"])
def test_later_phases_accepted_by_another_freelancer_while_staff_settle_the_first_phase(require_postgres, outcome):
    project = make_project(kind=Project.Kind.PHASED, title="Booking app in three phases")
    employer = project.owner
    first = make_proposal(project=project, amount="10000000")
    second = make_proposal(project=project, amount="8000000")
    deal = phased_contract_in(3, 5, 2, proposal=first, wallet="20000000", states=("delivered",))
    contract, (one, two, three) = deal.contract, deal.milestones
    dispute = disputes.dispute_open(milestone=one, by=employer, reason="incomplete", description="Half of it.")
    staff = UserFactory(is_staff=True)
    later = phasing_offer_send(proposal=second, by=employer, phases=phases(5, 2), replaces=[two, three])

    results = _both_at_once(
        lambda: phasing_offer_accept(offer=later, by=second.freelancer, version=later.version),
        lambda: disputes.dispute_resolve(dispute=dispute, by=staff, outcome=outcome),
    )

    assert not any(isinstance(result, OperationalError) for result in results), results
    assert not any(isinstance(result, Exception) for result in results), results
    assert Dispute.objects.get(pk=dispute.pk).status == Dispute.Status.RESOLVED
    statuses = dict(Milestone.objects.filter(contract=contract).values_list("position", "status"))
    assert statuses[2] == statuses[3] == Milestone.Status.CANCELLED
    assert statuses[1] == {"refund": Milestone.Status.REFUNDED, "release": Milestone.Status.COMPLETED}[outcome]
    assert Contract.objects.get(pk=contract.pk).status in (Contract.Status.CANCELLED, Contract.Status.COMPLETED)
    assert Contract.objects.exclude(pk=contract.pk).get().status == Contract.Status.ACTIVE
    assert Project.objects.get(pk=project.pk).status == Project.Status.IN_PROGRESS  # the new contract runs on it
    assert Transaction.objects.filter(kind=outcome).count() == 1
    assert Transaction.objects.filter(kind__in=["release", "refund"]).count() == 1
    assert ledger_check().clean
