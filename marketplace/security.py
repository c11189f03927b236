"""Headers every response carries: the Content-Security-Policy, the Permissions-Policy, and, for a signed-in person,
no caching (balances and ledger movements must not stay in a browser's cache).

Django's SecurityMiddleware sends the rest (nosniff, Referrer-Policy, Cross-Origin-Opener-Policy, HSTS).
"""

import functools
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import storages
from django.utils.cache import patch_cache_control


def content_security_policy() -> str:
    """settings.CONTENT_SECURITY_POLICY as a header value, with the origins other settings add: the object storage's
    public URL (CSP_EXTRA_IMG_SRC, images and thumbnails) and where forms may go (CSP_EXTRA_FORM_ACTION, payment
    gateways; a form's redirect counts too)."""
    policy = {directive: list(sources) for directive, sources in settings.CONTENT_SECURITY_POLICY.items()}
    policy["img-src"] += getattr(settings, "CSP_EXTRA_IMG_SRC", []) + _public_files_origin()
    policy["form-action"] += getattr(settings, "CSP_EXTRA_FORM_ACTION", [])
    return "; ".join(f"{directive} {' '.join(dict.fromkeys(sources))}" for directive, sources in policy.items())


def _public_files_origin() -> list[str]:
    """On object storage, the origin the public files' URLs really have (the endpoint, a bucket's own host, or a
    CDN), asked of the storage itself rather than guessed from the settings."""
    if settings.FILE_STORAGE != "s3":
        return []
    return [_origin_of(storages["default"].url("csp-probe"))]


@functools.cache
def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def permissions_policy() -> str:
    """settings.PERMISSIONS_POLICY as a header value: `camera=()` turns a feature off, `payment=(self)` keeps it
    for our own pages."""
    return ", ".join(f"{feature}=({' '.join(allowed)})" for feature, allowed in settings.PERMISSIONS_POLICY.items())


class SecurityHeadersMiddleware:
    """Sits just below SecurityMiddleware, so what the middlewares under it answer themselves (a refused host, a
    trailing-slash redirect) gets the headers too. By the time a response comes back up, AuthenticationMiddleware
    has set request.user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Django's own error pages in DEBUG (the traceback, the technical 404) are styled inline: with the policy
        # they would be unreadable. With DEBUG off (production) our own 404.html and 500.html answer instead.
        if not (settings.DEBUG and response.status_code in (404, 500)):
            response.setdefault("Content-Security-Policy", content_security_policy())
        response.setdefault("Permissions-Policy", permissions_policy())
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response
