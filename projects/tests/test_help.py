from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from projects.views import HELP_PAGES


@pytest.mark.django_db
@pytest.mark.parametrize("slug", list(HELP_PAGES))
@pytest.mark.parametrize("language", ["en", "fa"])
def test_every_help_page_reads_in_both_languages(client, slug, language):
    client.cookies["django_language"] = language
    response = client.get(reverse("help_page", args=[slug]))
    assert response.status_code == 200
    assert 'data-testid="help-article"' in response.content.decode()


@pytest.mark.django_db
def test_the_figures_come_from_the_settings(client, settings):
    client.cookies["django_language"] = "en"
    settings.COMMISSION_RATE = Decimal("0.12")
    settings.ESCROW_UPFRONT_SHARE = Decimal("0.40")
    settings.ESCROW_AUTO_RELEASE_WARNING = timedelta(hours=8)
    settings.ESCROW_AUTO_RELEASE_DELAY = timedelta(hours=72)
    settings.WITHDRAWAL_MINIMUM = {**settings.WITHDRAWAL_MINIMUM, "IRT": Decimal(250_000)}
    html = client.get(reverse("help_page", args=["work-guarantee"])).content.decode()
    assert "12% commission" in html and "40% of its amount" in html and "3 days after" in html
    assert "notified 8 hours before" in html
    settings.PAYMENT_RECONCILE_AFTER = timedelta(minutes=7)
    settings.PAYMENT_EXPIRE_AFTER = timedelta(minutes=90)
    html = client.get(reverse("help_page", args=["work-guarantee"])).content.decode()
    assert "within 7 minutes" in html and "dropped after 90 minutes" in html
    settings.REVISION_LIMIT = 3
    html = client.get(reverse("help_page", args=["work-guarantee"])).content.decode()
    assert "up to 3 times for each milestone" in html
    settings.PAYOUT_WORKING_DAYS = 2
    html = client.get(reverse("help_page", args=["settling-my-account"])).content.decode()
    assert "within 2 working days" in html and "Sent to the bank" in html
    client.cookies["django_language"] = "fa"
    html = client.get(reverse("help_page", args=["settling-my-account"])).content.decode()
    assert "۲۵۰٬۰۰۰ تومان" in html and "۱۲٪" in html


@pytest.mark.django_db
def test_the_deadlines_of_disagreements_come_from_the_settings(client, settings):
    client.cookies["django_language"] = "en"
    settings.ESCROW_REMAINDER_DAYS, settings.ESCROW_REMAINDER_WARNING = 5, timedelta(hours=12)
    settings.DISPUTE_ANSWER_DAYS, settings.DISPUTE_NEGOTIATION_DAYS = 6, 9
    settings.DISPUTE_DEADLINE_WARNING, settings.MILESTONE_LATE_GRACE_DAYS = timedelta(hours=30), 2
    html = client.get(reverse("help_page", args=["work-guarantee"])).content.decode()
    assert "has 5 days after the delivery to pay the rest" in html and "reminded 12 hours before" in html
    assert "other side has 6 days to answer" in html and "2 days later the employer may cancel" in html
    html = client.get(reverse("help_page", args=["settling-disputes"])).content.decode()
    assert "has 6 days to answer" in html and "for 9 days, either side can offer" in html
    assert "within 5 days of the delivery" in html and "30 hours before each deadline" in html
    assert "cancelled 2 days after its due date" in html
    client.cookies["django_language"] = "fa"
    html = client.get(reverse("help_page", args=["settling-disputes"])).content.decode()
    assert "۶ روز" in html and "۹ روز" in html


@pytest.mark.django_db
def test_unknown_help_page_is_404_and_the_footer_links_the_pages(client):
    assert client.get("/help/nope/").status_code == 404
    html = client.get("/").content.decode()
    for slug in HELP_PAGES:
        assert reverse("help_page", args=[slug]) in html
