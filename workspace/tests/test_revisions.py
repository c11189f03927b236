"""Request changes (issue 15, item 3): the employer sends a delivery back with what to change, up to
REVISION_LIMIT times; the review clock stops and starts again with the next delivery."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from marketplace.errors import DomainError, InvalidTransition, NotAllowed
from notifications.models import Notification
from workspace.models import Milestone, MilestoneEvent
from workspace.services import delivery, rules
from workspace.tests.factories import contract_in, zip_file


@pytest.mark.django_db
def test_changes_requested_stop_the_clock_until_the_next_delivery(media_dirs):
    deal = contract_in("review")
    assert deal.milestone.auto_release_at is not None
    delivery.milestone_request_changes(milestone=deal.milestone, by=deal.employer, note="Make the logo bigger.")
    milestone = Milestone.objects.get(pk=deal.milestone.pk)
    assert (milestone.status, milestone.auto_release_at, milestone.revisions_requested) == (
        Milestone.Status.FUNDED, None, 1
    )  # fmt: skip
    event = milestone.events.order_by("-id").first()
    assert (event.kind, event.note) == (MilestoneEvent.Kind.CHANGES_REQUESTED, "Make the logo bigger.")
    told = Notification.objects.get(recipient=deal.freelancer, kind=Notification.Kind.CHANGES_REQUESTED)
    assert "Make the logo bigger." in told.text
    assert delivery.release_due_escrow(now=timezone.now() + timedelta(days=30)) == 0  # nothing runs out meanwhile

    delivery.deliverable_upload(milestone=milestone, by=deal.freelancer, upload=zip_file())
    delivery.milestone_mark_delivered(milestone=milestone, by=deal.freelancer)
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.DELIVERED and milestone.auto_release_at is not None
    assert milestone.deliverables.count() == 2


@pytest.mark.django_db
def test_beyond_the_limit_the_choice_is_approve_or_dispute(media_dirs, settings):
    settings.REVISION_LIMIT = 1
    deal = contract_in("review")
    delivery.milestone_request_changes(milestone=deal.milestone, by=deal.employer, note="Another colour.")
    delivery.deliverable_upload(milestone=deal.milestone, by=deal.freelancer, upload=zip_file())
    delivery.milestone_mark_delivered(milestone=deal.milestone, by=deal.freelancer)
    milestone = Milestone.objects.select_related("contract").get(pk=deal.milestone.pk)
    menu = set(rules.available_operations(milestone=milestone, user=deal.employer))
    assert "revise" not in menu and {"approve", "dispute"} <= menu
    with pytest.raises(InvalidTransition, match="approve the work or create a dispute"):
        delivery.milestone_request_changes(milestone=milestone, by=deal.employer, note="And again.")
    assert Milestone.objects.get(pk=milestone.pk).status == Milestone.Status.DELIVERED


@pytest.mark.django_db
def test_only_the_employer_and_only_with_a_note(media_dirs):
    deal = contract_in("review")
    with pytest.raises(NotAllowed):
        delivery.milestone_request_changes(milestone=deal.milestone, by=deal.freelancer, note="Hmm.")
    with pytest.raises(DomainError):
        delivery.milestone_request_changes(milestone=deal.milestone, by=deal.employer, note="   ")
    assert Milestone.objects.get(pk=deal.milestone.pk).revisions_requested == 0


@pytest.mark.django_db
def test_the_workspace_offers_it_and_shows_the_count(media_dirs):
    deal = contract_in("delivered")
    client = Client()
    client.force_login(deal.employer)
    client.cookies["django_language"] = "en"
    url = reverse("workspace", args=[deal.contract.pk])
    assert 'data-testid="op-revise"' in client.get(url).content.decode()
    response = client.post(
        reverse("workspace_revise", args=[deal.contract.pk]),
        {"milestone": deal.milestone.pk, "note": "Translate the footer."},
        follow=True,
    )
    page = response.content.decode()
    assert "The freelancer is asked for the changes" in page and "Changes requested 1 of 2 times." in page
    stranger = Client()
    stranger.force_login(deal.freelancer)
    refused = stranger.post(reverse("workspace_revise", args=[deal.contract.pk]), {"note": "x"})
    assert refused.status_code == 403
