from datetime import UTC, datetime, time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alerts.forms import AlertSettingsForm, FrequencyForm
from alerts.models import Frequency, SavedSearch
from alerts.selectors import alert_settings_of, saved_search_listing_url, saved_searches_of
from alerts.services import alert_settings_save, saved_search_create, saved_search_delete, saved_search_set_frequency
from marketplace.views_helpers import run_action
from projects.forms import ProjectSearchForm

SEARCH_FIELDS = ("q", "category", "skills", "budget_min", "budget_max", "kind")


def _digest_time() -> datetime:
    """Today's time of the daily e-mail (JOB_ALERTS_DIGEST_HOUR_UTC), in the site's time zone."""
    moment = datetime.combine(timezone.now().date(), time(settings.JOB_ALERTS_DIGEST_HOUR_UTC), tzinfo=UTC)
    return timezone.localtime(moment)


@login_required
def alert_list(request):
    """The user's job alerts: their saved searches (frequency, delete) and the alert on their profile's skills."""
    searches = list(saved_searches_of(user=request.user))
    for search in searches:
        search.listing_url = saved_search_listing_url(search)
    preference = alert_settings_of(user=request.user)
    return render(
        request,
        "alerts/alert_list.html",
        {
            "searches": searches,
            "limit": settings.JOB_ALERTS_MAX_SAVED_SEARCHES,
            "frequencies": Frequency.choices,
            "preference": preference,
            "profile_skills": list(request.user.profile.skills.order_by("name_en")),
            "digest_time": _digest_time(),
        },
    )


@login_required
@require_POST
def saved_search_create_view(request):
    """Save the question asked on Active projects (its fields, posted from the listing) as an alert."""
    form = ProjectSearchForm(request.POST)
    back = reverse("project_list")
    query = urlencode([(name, value) for name in SEARCH_FIELDS for value in request.POST.getlist(name) if value])
    if query:
        back += "?" + query
    if not form.is_valid():
        errors = [error for field_errors in form.errors.values() for error in field_errors]
        messages.error(request, _("This search cannot be saved: %(errors)s") % {"errors": " ".join(errors)})
        return redirect(back)
    search = run_action(
        request,
        lambda: saved_search_create(user=request.user, filters=form.filters()),
        _("The search is saved: new projects that match it will be announced to you."),
    )
    return redirect("alert_list" if search else back)


@login_required
@require_POST
def saved_search_update_view(request, pk: int):
    search = get_object_or_404(SavedSearch, pk=pk, user=request.user)
    form = FrequencyForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["frequency"]))
        return redirect("alert_list")
    frequency = form.cleaned_data["frequency"]
    run_action(
        request,
        lambda: saved_search_set_frequency(search=search, by=request.user, frequency=frequency),
        _("Saved."),
    )
    return redirect("alert_list")


@login_required
@require_POST
def saved_search_delete_view(request, pk: int):
    search = get_object_or_404(SavedSearch, pk=pk, user=request.user)
    run_action(request, lambda: saved_search_delete(search=search, by=request.user), _("The alert is deleted."))
    return redirect("alert_list")


@login_required
@require_POST
def alert_settings_view(request):
    form = AlertSettingsForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
        return redirect("alert_list")
    run_action(
        request,
        lambda: alert_settings_save(
            user=request.user,
            profile_skills=form.cleaned_data["profile_skills"],
            profile_frequency=form.cleaned_data["profile_frequency"],
        ),
        _("Saved."),
    )
    return redirect("alert_list")
