from django.http import HttpResponse
from django.urls import include, path


def bare(request):
    return HttpResponse("hello")


urlpatterns = [path("bench/bare/", bare), path("", include("marketplace.urls"))]
