"""Headers every response carries: the Content-Security-Policy, the Permissions-Policy, and, for a signed-in person,
no caching (balances and ledger movements must not stay in a browser's cache).

Django's SecurityMiddleware sends the rest (nosniff, Referrer-Policy, Cross-Origin-Opener-Policy, HSTS).
"""

import functools
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.cache import patch_cache_control


@functools.cache
def content_security_policy() -> str:
    """settings.CONTENT_SECURITY_POLICY as a header value, with the origins added to it: the object store's public
    files (as the storage itself makes their URLs: the endpoint, a bucket's own host, or a CDN), CSP_EXTRA_IMG_SRC,
    and where forms may go (CSP_EXTRA_FORM_ACTION, payment gateways; a form's redirect counts too). Made once, and
    again when a setting changes (tests)."""
    policy = {directive: list(sources) for directive, sources in settings.CONTENT_SECURITY_POLICY.items()}
    if settings.FILE_STORAGE == "s3":
        public = urlsplit(storages["default"].url("csp-probe"))
        policy["img-src"].append(f"{public.scheme}://{public.netloc}")
    policy["img-src"] += getattr(settings, "CSP_EXTRA_IMG_SRC", [])
    policy["form-action"] += getattr(settings, "CSP_EXTRA_FORM_ACTION", []) + _gateway_origins()
    return "; ".join(f"{directive} {' '.join(dict.fromkeys(sources))}" for directive, sources in policy.items())


def _gateway_origins() -> list[str]:
    """The payment gateways' pages a Pay form is redirected to (form-action follows redirects)."""
    used = {settings.PAYMENT_GATEWAY, *settings.PAYMENT_GATEWAYS.values()}
    pages = {"zarinpal": settings.ZARINPAL_STARTPAY_URL, "stripe": settings.STRIPE_CHECKOUT_ORIGIN}
    origins = []
    for name in sorted(used & pages.keys()):
        parts = urlsplit(pages[name])
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return origins


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    content_security_policy.cache_clear()


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
