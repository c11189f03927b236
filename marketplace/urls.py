from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from marketplace import views

# Staff sign in through the same (rate-limited) allauth login as everybody else.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = _("Hamkar administration")
admin.site.site_title = _("Hamkar administration")
admin.site.index_title = _("Site administration")

urlpatterns = [
    path("", views.home, name="home"),
    path("i18n/setlang/", views.set_language, name="set_language"),
    # The live stream is served by the ASGI server (marketplace/asgi.py); this only answers when it is not there.
    path(settings.LIVE_EVENTS_PATH.strip("/") + "/", views.live_events_unavailable, name="live_events"),
    path("accounts/", include("allauth.urls")),
    # Disputes and contracts moved from escrow to workspace (migration workspace 0002): links in notifications and
    # e-mails sent before still reach the case.
    re_path(
        r"^admin/escrow/(?P<model>contract|dispute)/(?P<rest>.*)$",
        RedirectView.as_view(url="/admin/workspace/%(model)s/%(rest)s", permanent=True, query_string=True),
    ),
    path("admin/", admin.site.urls),
    path("", include("projects.urls")),
    path("", include("accounts.urls")),
    path("", include("proposals.urls")),
    path("", include("escrow.urls")),
    path("", include("reviews.urls")),
    path("", include("workspace.urls")),
    path("", include("invitations.urls")),
    path("", include("alerts.urls")),
    path("notifications/", include("notifications.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
