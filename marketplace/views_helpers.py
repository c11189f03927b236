"""How views run a service: one mapping of domain errors to what the user sees."""

from contextlib import nullcontext

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError

from marketplace.errors import DomainError, NotAllowed
from marketplace.ratelimits import user_rate_limit


def run_action(request, action, success: str, *, rate_limit: str | None = None):
    """Call `action()`; on success say `success` and return its result. NotAllowed becomes a 403; any other
    refusal (a domain error, an upload rejected by validation) becomes a message and None. With `rate_limit`, the
    action counts against that limit of settings.USER_RATE_LIMITS (marketplace/ratelimits.py), a refused one not."""
    try:
        with user_rate_limit(request, action=rate_limit) if rate_limit else nullcontext():
            result = action()
    except NotAllowed as error:
        raise PermissionDenied(error.message) from error
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return None
    except DomainError as error:
        messages.error(request, error.message)
        return None
    messages.success(request, success)
    return result
