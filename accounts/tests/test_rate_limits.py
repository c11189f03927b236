import pytest
from django.urls import reverse

from accounts.tests.factories import PASSWORD, UserFactory


@pytest.mark.django_db
def test_repeated_failed_logins_are_refused_for_a_while(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/m/ip"}
    UserFactory(email="target@example.com")

    for _ in range(3):
        response = client.post(reverse("account_login"), {"login": "target@example.com", "password": "wrong"})
        assert response.status_code == 200

    # Even the right password is refused now, with a message at the form.
    response = client.post(reverse("account_login"), {"login": "target@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_rate_limits_keep_working_on_the_database_cache_when_redis_is_down(client, settings):
    """The failover cache: with Redis unreachable the limit is still counted (in the database cache)."""
    from django.core.cache import caches

    if "redis" not in settings.CACHES:
        pytest.skip("Redis is not configured; the database cache is the only cache")
    settings.CACHES = {
        **settings.CACHES,
        "redis": {**settings.CACHES["redis"], "LOCATION": "redis://127.0.0.1:1/0"},
    }
    caches["redis"].close()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "2/m/ip"}
    UserFactory(email="target@example.com")

    for _ in range(2):
        assert (
            client.post(reverse("account_login"), {"login": "target@example.com", "password": "x"}).status_code == 200
        )
    response = client.post(reverse("account_login"), {"login": "target@example.com", "password": PASSWORD})
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
