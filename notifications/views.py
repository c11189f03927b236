from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def notification_list(request):
    """The notification centre; its notifications arrive with the reviews and notifications issue."""
    return render(request, "notifications/notification_list.html")
