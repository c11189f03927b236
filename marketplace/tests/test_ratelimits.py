"""The settings of the per-user limits (marketplace/ratelimits.py); the floods themselves are tested where each limit
is used (proposals/tests/test_rate_limits.py, projects/tests/test_rate_limits.py)."""

import pytest
from allauth.core.internal.ratelimit import parse_rate
from django.utils import translation

from marketplace import settings as site_settings
from marketplace.ratelimits import RateLimitReached, user_rate_limits_check


def _defaults():
    """The site's defaults (marketplace/settings.py), not the suite's "no limit"."""
    return site_settings.USER_RATE_LIMITS


def test_the_default_limits_are_valid_and_name_every_action(settings):
    settings.USER_RATE_LIMITS = _defaults()
    assert set(settings.USER_RATE_LIMITS) == {"message", "proposal", "proposal_edit", "project", "invitation"}
    assert user_rate_limits_check() == []


@pytest.mark.parametrize(
    ("action", "rates"),
    [("message", "30 a minute"), ("message", "30/w/user"), ("message", "30/m/everyone"), ("messages", "30/m/user")],
)
def test_a_limit_that_does_not_parse_stops_the_site_from_starting(settings, action, rates):
    settings.USER_RATE_LIMITS = {**_defaults(), action: rates}
    [error] = user_rate_limits_check()
    assert error.id == "hamkar.ratelimit.E001"
    assert repr(rates) in error.msg


@pytest.mark.parametrize(
    ("rate", "retry_after", "expected"),
    [
        ("30/m/user", 42.3, "You can send at most 30 messages every minute. You can try again in 43 seconds."),
        ("30/m/user", 59.6, "You can send at most 30 messages every minute. You can try again in 1 minute."),
        ("1/10m/user", 61, "You can send at most 1 message every 10 minutes. You can try again in 2 minutes."),
        ("5/h/user", 3599.2, "You can send at most 5 messages every hour. You can try again in 1 hour."),
        ("5/d/user", 3 * 3600 + 1, "You can send at most 5 messages every day. You can try again in 4 hours."),
        ("5/2d/user", 86400 + 5, "You can send at most 5 messages every 2 days. You can try again in 2 days."),
    ],
)
def test_the_refusal_says_the_limit_and_when_to_come_back_rounded_up(rate, retry_after, expected):
    refusal = RateLimitReached(action="message", rate=parse_rate(rate), retry_after=retry_after)
    assert refusal.message == expected


def test_the_refusal_has_persian_digits_on_a_persian_page():
    with translation.override("fa"):
        refusal = RateLimitReached(action="project", rate=parse_rate("10/d/user"), retry_after=5 * 3600)
    assert "۱۰" in refusal.message and "۵" in refusal.message
    assert not any(ch.isascii() and ch.isdigit() for ch in refusal.message)
