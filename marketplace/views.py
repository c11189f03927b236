from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from accounts.services import user_set_language
from marketplace.pagecache import visitor_cache


@visitor_cache
def home(request):
    return render(
        request,
        "home.html",
        {
            "upfront_percent": settings.ESCROW_UPFRONT_SHARE * 100,
            "commission_percent": settings.COMMISSION_RATE * 100,
            "auto_release_days": settings.ESCROW_AUTO_RELEASE_DELAY.total_seconds() / 86400,
        },
    )


@require_POST
def set_language(request):
    """Django's set_language (cookie, safe redirect), and the choice saved on the account when signed in."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        user_set_language(user=request.user, language=language)
    return response


def live_events_unavailable(request):
    """LIVE_EVENTS_PATH reached Django itself (runserver, or gunicorn without the ASGI server in front of it): a
    stream cannot be served here, and 204 tells the browser not to retry; its pages poll instead."""
    return HttpResponse(status=204)
