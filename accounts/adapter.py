from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import ratelimit
from django.db import transaction
from django.utils.translation import get_language

from accounts.login_devices import device_nonce, device_remember
from accounts.services import profile_ensure


def _typed_login(credentials: dict) -> str:
    # What allauth's own key is made of: the address (or username) typed into the login form.
    return credentials.get("email", credentials.get("username", ""))


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        # The language the visitor signed up in is the language of their e-mail and notifications.
        user.language = (get_language() or "").split("-")[0]
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=commit)
            if commit:
                profile_ensure(user=user)
        return user

    # --- failed logins counted per device (accounts/login_devices.py) ------------------------------------------

    def _get_login_attempts_cache_key(self, request, **credentials):
        """The key the "/key" part of ACCOUNT_RATE_LIMITS["login_failed"] counts under: the login and this browser
        when it has signed in with that login before, else the login and "unknown" (all other browsers)."""
        key = super()._get_login_attempts_cache_key(request, **credentials)
        nonce = device_nonce(request, login=_typed_login(credentials))
        return f"{key}:device:{nonce}" if nonce else f"{key}:unknown"

    def _delete_login_attempts_cached_email(self, request, **credentials):
        # A password reset ends the lockout of this browser (the key above) and of every unknown one, as allauth's
        # single key did.
        super()._delete_login_attempts_cached_email(request, **credentials)
        unknown = f"{super()._get_login_attempts_cache_key(request, **credentials)}:unknown"
        ratelimit.clear(request, action="login_failed", key=unknown)

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        if user is not None:
            # login() issues the device cookie for the login typed here (the user may have several addresses).
            request.authenticated_login = _typed_login(credentials)
        return user

    def login(self, request, user):
        super().login(request, user)
        device_remember(request, login=getattr(request, "authenticated_login", "") or user.email)
