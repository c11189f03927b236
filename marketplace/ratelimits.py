"""Limits per user on what could flood other people: chat messages, proposals, project posts, invitations.

Each action's rates are in settings.USER_RATE_LIMITS, in allauth's syntax ("30/m/user": 30 a minute for each user;
several rates separated by commas). They are counted as allauth counts ACCOUNT_RATE_LIMITS: the times of the last
uses, a sliding window, in the default cache under a short cache lock (Redis, or the database cache while Redis does
not answer: marketplace/cache.py), so every web process sees the same count.

A view wraps the action in `user_rate_limit(request, action=...)`, or passes `rate_limit=` to run_action. Only an
action that succeeds counts: its use is taken before it runs (two requests at once cannot both take the last one)
and given back when it raises, so a refused form or a broken rule uses up nothing.

allauth's public `allauth.core.ratelimit` reads ACCOUNT_RATE_LIMITS only; the functions under it, which allauth's
own apps (account, mfa, socialaccount) call with their own rates, live in `allauth.core.internal` and take ours
through their `config` argument. This module is the one place that uses them; allauth is pinned, and the tests of
the limits (marketplace/, proposals/, projects/) fail if they change.
"""

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise

from allauth.core.internal import ratelimit as allauth_ratelimit
from django.conf import settings
from django.core import checks
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy, ngettext_lazy

from marketplace.checks import TAG as PRODUCTION_CHECKS
from marketplace.errors import DomainError
from marketplace.l10n import localize_digits

APP = "marketplace"  # in the cache keys: allauth:rl:marketplace:<action>:<rate>:user:<pk>

# What one rate of each action allows, as the refusal and the help page say it.
ALLOWANCES = {
    "message": ngettext_lazy(
        "You can send at most %(amount)s message every %(period)s.",
        "You can send at most %(amount)s messages every %(period)s.",
        "amount",
    ),
    "proposal": ngettext_lazy(
        "You can send at most %(amount)s proposal every %(period)s.",
        "You can send at most %(amount)s proposals every %(period)s.",
        "amount",
    ),
    "proposal_edit": ngettext_lazy(
        "You can edit your proposals at most %(amount)s time every %(period)s.",
        "You can edit your proposals at most %(amount)s times every %(period)s.",
        "amount",
    ),
    "project": ngettext_lazy(
        "You can post at most %(amount)s project every %(period)s.",
        "You can post at most %(amount)s projects every %(period)s.",
        "amount",
    ),
    "invitation": ngettext_lazy(
        "You can send at most %(amount)s invitation every %(period)s.",
        "You can send at most %(amount)s invitations every %(period)s.",
        "amount",
    ),
}

# (seconds, "N units", "unit"), smallest first.
_UNITS = (
    (1, ngettext_lazy("%(count)s second", "%(count)s seconds", "count"), gettext_lazy("second")),
    (60, ngettext_lazy("%(count)s minute", "%(count)s minutes", "count"), gettext_lazy("minute")),
    (3600, ngettext_lazy("%(count)s hour", "%(count)s hours", "count"), gettext_lazy("hour")),
    (86400, ngettext_lazy("%(count)s day", "%(count)s days", "count"), gettext_lazy("day")),
)


def _period(seconds: float) -> str:
    """A rate's window: 'minute', 'hour', '10 minutes', '2 days' (the largest unit it is a whole number of)."""
    for size, counted, single in reversed(_UNITS):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return str(single) if count == 1 else counted % {"count": count}
    return _UNITS[0][1] % {"count": math.ceil(seconds)}


def _wait(seconds: float) -> str:
    """A wait rounded up to a whole unit, so whoever comes back after it is let in: '42 seconds', '1 minute'."""
    seconds = max(1, math.ceil(seconds))
    for (size, counted, _single), (bigger, _, _) in pairwise(_UNITS):
        if math.ceil(seconds / size) * size < bigger:  # 60 seconds is "1 minute", 60 minutes "1 hour"
            return counted % {"count": math.ceil(seconds / size)}
    size, counted, _single = _UNITS[-1]
    return counted % {"count": math.ceil(seconds / size)}


def allowance(*, action: str, rate: allauth_ratelimit.Rate) -> str:
    """'You can send at most 30 messages every minute.', in the page's language and digits."""
    return localize_digits(ALLOWANCES[action] % {"amount": rate.amount, "period": _period(rate.duration)})


def allowances(*, actions: tuple[str, ...]) -> list[str]:
    """Every limit these actions have now, one sentence each (none for an action without a limit)."""
    return [
        allowance(action=action, rate=rate)
        for action in actions
        for rate in allauth_ratelimit.parse_rates(settings.USER_RATE_LIMITS[action])
    ]


class RateLimitReached(DomainError):
    """request.user has used up one of settings.USER_RATE_LIMITS; the next use is free in `retry_after` seconds."""

    def __init__(self, *, action: str, rate: allauth_ratelimit.Rate, retry_after: float):
        self.action, self.rate, self.retry_after = action, rate, retry_after
        again = localize_digits(gettext("You can try again in %(wait)s.") % {"wait": _wait(retry_after)})
        super().__init__(f"{allowance(action=action, rate=rate)} {again}")


@contextmanager
def user_rate_limit(request: HttpRequest, *, action: str, key: str | None = None) -> Iterator[None]:
    """Count the block as one `action` of request.user against settings.USER_RATE_LIMITS[action] (an action
    missing there is a mistake: KeyError). Raises RateLimitReached, before the block runs, when a rate is used up;
    gives the use back when the block raises. `key` is what a "/key" rate counts per (e.g. f"project:{pk}").
    With several rates, one refused keeps the uses the rates before it took (allauth's way: only ever stricter)."""
    config = {action: settings.USER_RATE_LIMITS[action]}
    usage = allauth_ratelimit.consume(request, app=APP, action=action, config=config, key=key)
    if usage is None:
        raise _refusal(request, action=action, config=config, key=key)
    try:
        yield
    except BaseException:
        usage.rollback()
        raise


def _refusal(request: HttpRequest, *, action: str, config: dict, key: str | None) -> RateLimitReached:
    """Which rate is used up, and when its oldest use in the window leaves it."""
    rates = allauth_ratelimit.get_rates(app=APP, action=action, config=config)
    now = time.time()
    for rate in rates:
        cache_key = allauth_ratelimit.get_cache_key(request, app=APP, action=action, rate=rate, key=key)
        recent = sorted((t for t in cache.get(cache_key, []) if t > now - rate.duration), reverse=True)
        if len(recent) >= rate.amount:
            return RateLimitReached(action=action, rate=rate, retry_after=recent[rate.amount - 1] + rate.duration - now)
    # None is used up: allauth could not take the count's lock within a second (a burst of requests at once).
    return RateLimitReached(action=action, rate=rates[0], retry_after=1)


@checks.register(PRODUCTION_CHECKS)
def user_rate_limits_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """A rate that does not parse would break every use of its action: refuse to start instead (manage.py, and
    gunicorn and Celery in production, which run the checks tagged so)."""
    errors = []
    for action, rates in settings.USER_RATE_LIMITS.items():
        try:
            parsed = allauth_ratelimit.parse_rates(rates)
        except ValueError:
            parsed = None
        if action not in ALLOWANCES or parsed is None or any(r.per not in ("user", "key", "ip") for r in parsed):
            errors.append(
                checks.Error(
                    f"USER_RATE_LIMITS[{action!r}] is {rates!r}, which is not a limit this site knows.",
                    hint=f"Use one of {', '.join(ALLOWANCES)}, each with rates written as allauth's: an amount, a "
                    'period (s, m, h or d, optionally with a number before it) and "user", e.g. "30/m/user" or '
                    '"20/h/user,100/d/user"; an empty value for no limit.',
                    id="hamkar.ratelimit.E001",
                )
            )
    return errors
