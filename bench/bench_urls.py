from django.http import HttpResponse
from django.urls import include, path


def bare(request):
    return HttpResponse("hello")


def bare_signed_in(request):
    """What any page costs a signed-in person before it does anything: their session and their user."""
    return HttpResponse("hello" if request.user.is_authenticated else "who?")


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/bare-signed-in/", bare_signed_in),
    path("", include("marketplace.urls")),
]
