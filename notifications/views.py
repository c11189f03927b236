from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from notifications.forms import EmailPreferencesForm
from notifications.kinds import grouped_kinds
from notifications.models import EmailPreference, Notification
from notifications.services import email_preferences_save, notification_mark_read

PAGE_SIZE = 20


@login_required
def notification_list(request):
    """The notification centre: newest first, unread ones marked, 20 a page."""
    notifications = Notification.objects.filter(recipient=request.user)
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/notification_list.html", {"page": page})


@login_required
@require_POST
def notification_open(request, pk: int):
    """Mark one notification read and go where it points."""
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    notification_mark_read(user=request.user, notification_id=notification.pk)
    target = notification.url
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notification_list")


@login_required
@require_POST
def notification_read_all(request):
    changed = notification_mark_read(user=request.user)
    if changed:
        messages.success(request, _("All notifications are marked as read."))
    return redirect("notification_list")


@login_required
def notification_settings(request):
    """Which kinds reach the user by e-mail; every kind always reaches the notification centre."""
    preference = EmailPreference.objects.filter(user=request.user).first()
    muted = set(preference.muted) if preference else set()
    initial = {"email_kinds": [kind for kind in Notification.Kind.values if kind not in muted]}
    form = EmailPreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        wanted = set(form.cleaned_data["email_kinds"])
        email_preferences_save(user=request.user, muted=[k for k in Notification.Kind.values if k not in wanted])
        messages.success(request, _("Your e-mail settings are saved."))
        return redirect("notification_settings")
    chosen = set(form["email_kinds"].value() or [])
    groups = [(label, [(kind, name, kind in chosen) for kind, name in kinds]) for label, kinds in grouped_kinds()]
    return render(request, "notifications/notification_settings.html", {"form": form, "groups": groups})
