"""The one way a status changes (django-oscar's `set_status`): the model's `ALLOWED_TRANSITIONS` table is checked,
a named error raised for a move it does not list, and the caller, the status's owning service, saves and records
the change in that model's own history (a MilestoneEvent, a PaymentEvent, ...)."""

from django.utils.translation import gettext as _

from marketplace.errors import InvalidTransition


def set_status(obj, to: str, *, refusal: str | None = None) -> str:
    """Move `obj.status` to `to` if its model's table allows it; returns the status it had. Nothing is saved."""
    before = obj.status
    if to not in type(obj).ALLOWED_TRANSITIONS[before]:
        raise InvalidTransition(
            refusal or _("This is no longer possible: it is %(status)s.") % {"status": obj.get_status_display()}
        )
    obj.status = to
    return before
