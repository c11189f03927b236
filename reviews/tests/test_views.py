import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from reviews.models import Review
from workspace.tests.factories import contract_in


@pytest.fixture
def done(db):
    """A completed single-delivery contract (released by the employer)."""
    return contract_in("completed", title="Rug shop")


def _client(user):
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def test_both_review_in_the_workspace_blind_until_both_then_on_the_profiles(done):
    contract, employer, freelancer = done.contract, done.employer, done.freelancer
    url = reverse("review_create", args=[contract.pk])
    boss, dev = _client(employer), _client(freelancer)
    workspace = reverse("workspace", args=[contract.pk])
    assert 'data-testid="review-form"' in boss.get(workspace).content.decode()

    boss.post(url, {"rating": "5", "quality": "5", "communication": "4", "comment": "Excellent, on time."})
    assert 'data-testid="review-pending"' in boss.get(workspace).content.decode()
    dev_page = dev.get(workspace).content.decode()
    assert "Excellent, on time." not in dev_page  # double-blind
    profile = reverse("profile_public", args=[freelancer.username])
    assert "Excellent, on time." not in Client().get(profile).content.decode()

    dev.post(url, {"rating": "4", "clarity": "4", "payment": "5", "comment": "Clear brief, paid fast."})
    assert "Excellent, on time." in dev.get(workspace).content.decode()
    public = Client()
    public.cookies["django_language"] = "en"
    freelancer_profile = public.get(profile).content.decode()
    assert "Excellent, on time." in freelancer_profile and 'data-testid="rating"' in freelancer_profile
    assert "5.0" in freelancer_profile and "(1 review)" in freelancer_profile
    assert 'data-testid="rating-received"' in freelancer_profile  # next to the completed project
    assert "Clear brief, paid fast." not in freelancer_profile  # that one is about the employer
    employer_profile = public.get(reverse("profile_public", args=[employer.username])).content.decode()
    assert 'data-testid="employer-feedback"' in employer_profile and "Clear brief, paid fast." in employer_profile
    assert "4.0" in employer_profile and "(1 review)" in employer_profile


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rating": "9"}, "Select a valid choice"),
        ({"rating": ""}, "This field is required"),
        ({"comment": "x"}, "required"),
    ],
)
def test_bad_reviews_through_the_page_are_refused(done, data, message):
    client = _client(done.employer)
    response = client.post(reverse("review_create", args=[done.contract.pk]), data, follow=True)
    assert message in response.content.decode()
    assert not Review.objects.exists()


def test_only_the_parties_reach_the_review_url(done):
    url = reverse("review_create", args=[done.contract.pk])
    assert Client().post(url, {"rating": "5"}).status_code == 302
    assert _client(UserFactory()).post(url, {"rating": "5"}).status_code == 403
    assert not Review.objects.exists()
