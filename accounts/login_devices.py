"""Device cookies (OWASP, "Slow down online guessing attacks with device cookies"): a lockout an attacker cannot
turn against the owner.

allauth counts failed logins per address and per key (ACCOUNT_RATE_LIMITS["login_failed"]). Our adapter makes
the key the login *and* the browser: a browser that has signed in to that login before carries a signed cookie
with a random nonce and is counted on its own; every other browser shares one count. Five wrong passwords from
strangers lock out strangers; the owner's browser still gets in, until it fails five times itself.
"""

import secrets

from django.conf import settings
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "accounts.login_devices"


def _login_digest(login: str) -> str:
    # The cookie is signed, not encrypted: it names the login by a keyed hash, never by the address itself.
    return salted_hmac(SALT, login.strip().lower()).hexdigest()


def device_nonce(request: HttpRequest, *, login: str) -> str | None:
    """The nonce of this browser's device cookie when the cookie is genuine, unexpired and was issued for `login`;
    None for an unknown device."""
    value = request.get_signed_cookie(
        settings.LOGIN_DEVICE_COOKIE_NAME, default=None, salt=SALT, max_age=settings.LOGIN_DEVICE_COOKIE_AGE
    )
    digest, _, nonce = (value or "").partition(":")
    if not nonce or not constant_time_compare(digest, _login_digest(login)):
        return None
    return nonce


def device_remember(request: HttpRequest, *, login: str) -> None:
    """This browser has just signed in with `login`: its response carries a new device cookie (set by
    LoginDeviceMiddleware, as only the response can)."""
    request.login_device_for = login


class LoginDeviceMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        login = getattr(request, "login_device_for", None)
        if login:
            response.set_signed_cookie(
                settings.LOGIN_DEVICE_COOKIE_NAME,
                f"{_login_digest(login)}:{secrets.token_urlsafe(16)}",
                salt=SALT,
                max_age=settings.LOGIN_DEVICE_COOKIE_AGE,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
