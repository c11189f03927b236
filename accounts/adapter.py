from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.core import ratelimit
from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import get_language

from accounts.login_devices import device_nonce, device_remember
from accounts.models import User
from accounts.services import profile_ensure
from marketplace.mail import mail_build


def _typed_login(credentials: dict) -> str:
    # What allauth's own key is made of: the address (or username) typed into the login form.
    return credentials.get("email", credentials.get("username", ""))


def _on_site(url: str) -> str:
    """The same page on the site's public address (settings.SITE_URL), not on whichever host the request that
    sent the e-mail came in on (an internal address behind the proxy, a developer's port)."""
    if not settings.SITE_URL:
        return url
    parts = urlsplit(url)
    return settings.SITE_URL.rstrip("/") + urlunsplit(("", "", parts.path, parts.query, parts.fragment))


def _recipient(email: str, context: dict) -> User | None:
    """Who an e-mail of allauth's goes to: the user it names, else the owner of the address (None for a stranger:
    the "unknown account" e-mail)."""
    if isinstance(context.get("user"), User):
        return context["user"]
    address = EmailAddress.objects.filter(email__iexact=email).select_related("user").first()
    return address.user if address else User.objects.filter(email__iexact=email).first()


class AccountAdapter(DefaultAccountAdapter):
    # --- e-mails: the site's name and address, in the recipient's language (marketplace/mail.py) --------------

    def send_mail(self, template_prefix, email, context):
        """Every e-mail of allauth's is written in its recipient's language (User.language), whatever page asked
        for it, names the site by settings.SITE_NAME and links to settings.SITE_URL: allauth's own context names
        the site by the request's host ("127.0.0.1:8600") and builds links on it."""
        recipient = _recipient(email, context)
        language = (recipient.language if recipient else "") or get_language() or settings.LANGUAGE_CODE
        context = {
            key: _on_site(value) if key.endswith("_url") and isinstance(value, str) else value
            for key, value in context.items()
        }
        site = SimpleNamespace(name=settings.SITE_NAME, domain=urlsplit(settings.SITE_URL).netloc)
        context.update({"current_site": site, "SITE_NAME": settings.SITE_NAME, "SITE_URL": settings.SITE_URL})
        if recipient is not None:
            context.setdefault("user", recipient)
        with translation.override(language):
            super().send_mail(template_prefix, email, context)

    def format_email_subject(self, subject):
        return f"[{settings.SITE_NAME}] {subject}"

    def render_mail(self, template_prefix, email, context, headers=None):
        # Our account e-mails are plain-text templates (templates/account/email/); mail_build adds the direction
        # marks and the HTML part (lang, dir) for the language send_mail made active.
        message = super().render_mail(template_prefix, email, context, headers=headers)
        return mail_build(
            subject=message.subject,
            text=message.body,
            to=message.to,
            from_email=message.from_email,
            headers=message.extra_headers,
        )

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
