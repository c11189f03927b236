"""The ASGI entry point: in production it serves the live stream (LIVE_EVENTS_PATH; nginx sends that path here and
everything else to gunicorn, README "Live updates"); it can serve every page too (the browser tests do)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
django_application = get_asgi_application()  # sets Django up: the imports below need it

from django.conf import settings  # noqa: E402

from marketplace import live_stream  # noqa: E402


async def application(scope, receive, send):
    if scope["type"] == "http" and scope["path"] == settings.LIVE_EVENTS_PATH:
        return await live_stream.stream(scope, receive, send)
    return await django_application(scope, receive, send)
