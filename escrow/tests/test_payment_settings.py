"""Money at a glance (issue 16, item 6): the payment settings page shows what is available, what is in escrow for
the user's projects and for their work (contract by contract, the same figures their workspaces show), what
awaits payout, and the history, in a bounded number of queries."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Profile
from accounts.tests.factories import UserFactory
from escrow.ledger import post_deposit
from workspace.tests.factories import contract_in, phased_contract_in

# Single-delivery states that hold money in escrow, and ones that hold none (not paid yet, refunded, released).
HOLDING = ("awaiting", "in_progress", "delivered", "review", "disputed", "negotiating", "cancel_offered")
EMPTY = ("unpaid", "declined", "cancelled", "completed")


def _client(user, language="en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def _amount(text: str) -> Decimal:
    """'1,500,000 toman' or '1,500,000' as a number (an English page)."""
    return Decimal(re.sub(r"[^\d.]", "", text))


def _settings_page(user, language="en") -> str:
    response = _client(user, language).get(reverse("payment_settings"))
    assert response.status_code == 200
    return response.content.decode()


def _escrow_rows(html: str, section: str) -> dict[int, dict]:
    """The per-contract rows of one escrow table ("paid-in" or "held-for-me"): {contract pk: link, title, amount}."""
    match = re.search(rf'<section[^>]* id="{section}".*?</section>', html, re.S)
    if match is None:
        return {}
    rows = {}
    for row in re.finditer(r'<tr data-testid="escrow-contract" data-contract="(\d+)">(.*?)</tr>', match[0], re.S):
        link, title = re.search(r'<a href="([^"]+)"><bdi>(.*?)</bdi></a>', row[2]).groups()
        amount = re.search(r'data-testid="escrow-amount"><bdi>(.*?)</bdi>', row[2])[1]
        rows[int(row[1])] = {"link": link, "title": title, "amount": _amount(amount)}
    return rows


def _total(html: str, testid: str) -> str:
    return re.search(rf'data-testid="{testid}"><bdi>(.*?)</bdi>', html)[1]


def _workspace_in_escrow(user, contract) -> Decimal:
    """The In escrow figure of the contract's budget panel, as its workspace shows it to `user`."""
    html = _client(user).get(reverse("workspace", args=[contract.pk])).content.decode()
    return _amount(re.search(r'data-testid="in-escrow">(.*?)</dd>', html)[1])


@pytest.mark.django_db
def test_each_contracts_escrow_is_the_figure_its_workspace_shows_in_every_state(media_dirs):
    employer, freelancer = UserFactory(), UserFactory()
    deals = [
        contract_in(state, employer=employer, freelancer=freelancer, title=f"Work {state}", amount="1200000")
        for state in HOLDING + EMPTY
    ]
    phased = phased_contract_in(5, 10, 5, states=("completed", "funded"), employer=employer, freelancer=freelancer)
    contracts = [deal.contract for deal in deals] + [phased.contract]

    for user, section in ((employer, "paid-in"), (freelancer, "held-for-me")):
        html = _settings_page(user)
        rows = _escrow_rows(html, section)
        figures = {contract.pk: _workspace_in_escrow(user, contract) for contract in contracts}
        # Exactly the contracts whose workspace shows money in escrow are listed, each with that figure.
        assert set(rows) == {pk for pk, figure in figures.items() if figure}
        assert len(rows) == len(HOLDING) + 1
        for pk, row in rows.items():
            assert row["amount"] == figures[pk]
        assert _amount(_total(html, f"{section}-total")) == sum(figures.values())
    assert figures[phased.contract.pk] == Decimal(10_000_000)  # the funded phase; the completed one is paid out


@pytest.mark.django_db
def test_each_row_links_to_its_own_workspace_with_its_project_title(media_dirs):
    employer = UserFactory()
    shop = contract_in("review", employer=employer, title="Online shop for handmade rugs")
    app = contract_in("awaiting", employer=employer, title="Booking app for a dentist")
    rows = _escrow_rows(_settings_page(employer), "paid-in")
    assert rows[shop.contract.pk]["link"] == reverse("workspace", args=[shop.contract.pk])
    assert rows[shop.contract.pk]["title"] == "Online shop for handmade rugs"
    assert rows[app.contract.pk]["link"] == reverse("workspace", args=[app.contract.pk])
    assert rows[app.contract.pk]["title"] == "Booking app for a dentist"
    # The link opens that contract's workspace for the employer.
    page = _client(employer).get(rows[app.contract.pk]["link"])
    assert page.status_code == 200 and "Booking app for a dentist" in page.content.decode()


@pytest.mark.django_db
def test_another_users_contracts_never_show(media_dirs):
    mine = contract_in("in_progress", title="My own project")
    theirs = contract_in("review", title="Somebody else's project")  # other employer, other freelancer
    # The same employer hires me on another project: it is held for my work, not paid in by me.
    hired = contract_in("in_progress", employer=theirs.employer, freelancer=mine.employer, title="Where I work")

    html = _settings_page(mine.employer)
    assert "Somebody else&#x27;s project" not in html and "Somebody else's project" not in html
    assert set(_escrow_rows(html, "paid-in")) == {mine.contract.pk}
    assert set(_escrow_rows(html, "held-for-me")) == {hired.contract.pk}
    assert _amount(_total(html, "paid-in-total")) == _workspace_in_escrow(mine.employer, mine.contract)
    assert f"<bdi>{theirs.freelancer.display_name}</bdi>" not in html

    stranger_html = _settings_page(UserFactory())
    assert not _escrow_rows(stranger_html, "paid-in") and not _escrow_rows(stranger_html, "held-for-me")
    assert "My own project" not in stranger_html and "Where I work" not in stranger_html


@pytest.mark.django_db
def test_a_freelancer_with_no_projects_of_their_own_sees_an_empty_state_and_what_is_held_for_them(media_dirs):
    deal = contract_in("review", title="Logo for a bakery")
    html = _settings_page(deal.freelancer)
    assert 'data-testid="paid-in-empty"' in html and 'id="paid-in"' not in html
    assert _total(html, "paid-in-total") == "0 toman"
    assert _total(html, "held-for-me-total") == "1,000,000 toman"
    assert _escrow_rows(html, "held-for-me")[deal.contract.pk]["title"] == "Logo for a bakery"
    assert deal.employer.display_name in html

    nobody = _settings_page(UserFactory())
    assert 'data-testid="paid-in-empty"' in nobody and 'data-testid="held-for-me-empty"' in nobody
    assert _total(nobody, "held-for-me-total") == "0 toman"


@pytest.mark.django_db
def test_awaiting_payout_and_available_are_the_ledgers_and_persian_pages_show_persian_digits(media_dirs):
    deal = contract_in("completed", title="Logo for a bakery")  # released to the freelancer, less commission
    freelancer = deal.freelancer
    Profile.objects.filter(user=freelancer).update(bank_sheba="IR820540102680020817909002", bank_account_holder="F")
    post_deposit(user=freelancer, amount=Decimal(300000), currency="IRT", gateway="sandbox", key="glance:top-up")
    _client(freelancer).post(reverse("withdraw"), {"amount": "200000"})
    html = _settings_page(freelancer)
    # 1,000,000 less 10% commission, plus the top-up, less the withdrawal awaiting payout.
    assert _total(html, "available-balance") == "1,000,000 toman"
    assert _total(html, "payout-balance") == "200,000 toman"
    assert _total(html, "held-for-me-total") == "0 toman"
    # The history: the release, the top-up, and the withdrawal's two legs (out of the wallet, into payout).
    assert html.count('data-testid="movement"') == 4

    fa = _settings_page(freelancer, "fa")
    assert _total(fa, "available-balance") == "۱٬۰۰۰٬۰۰۰ تومان"
    assert _total(fa, "payout-balance") == "۲۰۰٬۰۰۰ تومان"


@pytest.mark.django_db
def test_the_page_runs_the_same_queries_for_two_contracts_in_escrow_as_for_eight(
    media_dirs, django_assert_max_num_queries
):
    employer = UserFactory()
    counts = []
    made = 0
    for held in (2, 8):  # contracts in escrow each way: for the employer's projects, and for their own work
        for _ in range(held - made):
            contract_in("in_progress", employer=employer)
            contract_in("review", freelancer=employer)
        made = held
        client = _client(employer)
        client.get(reverse("payment_settings"))  # the first visit opens the payout account (get_or_create)
        with django_assert_max_num_queries(14), CaptureQueriesContext(connection) as queries:
            html = client.get(reverse("payment_settings")).content.decode()
        assert len(_escrow_rows(html, "paid-in")) == held and len(_escrow_rows(html, "held-for-me")) == held
        counts.append([query["sql"] for query in queries.captured_queries])
    assert len(counts[0]) == len(counts[1]), "\n".join(counts[1])
