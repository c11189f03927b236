"""Random walks over the whole contract machine (workspace/tests/machine.py): both sides, staff and the clocks,
with the rules' agreement with the services and the books, budgets and clocks checked after every step.

A bounded run: MACHINE_EXAMPLES walks (default 25) of at most MACHINE_STEPS steps (default 30), the same walks
every run (derandomized: a red build is a change in the code, not a new draw); MACHINE_RANDOM=1 draws new ones.
The long run, with new walks each time, is `bench/contract_machine.py`.
"""

import os

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from workspace.tests.machine import STATS, ContractMachine

EXAMPLES = int(os.environ.get("MACHINE_EXAMPLES", "25"))
STEPS = int(os.environ.get("MACHINE_STEPS", "30"))


@pytest.mark.django_db
def test_every_walk_keeps_the_books_the_clocks_and_the_rules(media_dirs, capsys):
    STATS.clear()
    run_state_machine_as_test(
        ContractMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            derandomize=os.environ.get("MACHINE_RANDOM") != "1",
            deadline=None,
            database=None,  # nothing written to .hypothesis/; a failure prints the steps that reproduce it
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
        ),
    )
    done = sum(count for key, count in STATS.items() if key.startswith("done "))
    with capsys.disabled():
        print(f"\n[contract machine] {STATS['steps']} steps over {STATS['walks']} walks, {done} actions done")
    assert done > STATS["walks"], "the walks did almost nothing: the preconditions or the set-up are wrong"
