"""How views run a service: one mapping of domain errors to what the user sees."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError

from marketplace.errors import DomainError, NotAllowed


def run_action(request, action, success: str):
    """Call `action()`; on success say `success` and return its result. NotAllowed becomes a 403; any other
    refusal (a domain error, an upload rejected by validation) becomes a message and None."""
    try:
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
