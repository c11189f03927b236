"""Production refuses a half configuration: what it needs and has no safe default for is checked at start.

The checks run with every management command (so `check --deploy` fails), and gunicorn (marketplace/wsgi.py),
Celery workers and beat (marketplace/celery.py) refuse to start when one fails. Each message names the variable
and what to set it to. Development is never checked here: its defaults are safe on one machine.
"""

from urllib.parse import urlparse

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

TAG = "production"

# Backends that never deliver a message to anyone.
_NOT_DELIVERING = ("console", "locmem", "dummy", "filebased")


def _error(number: int, msg: str, hint: str) -> checks.Error:
    return checks.Error(msg, hint=hint, id=f"hamkar.E{number:03d}")


def _is_web_url(value: str) -> bool:
    parts = urlparse(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


@checks.register(TAG)
def production_configuration(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if not settings.PRODUCTION:
        return []
    errors = []
    site = urlparse(settings.SITE_URL)
    if site.scheme != "https" or not site.hostname:
        errors.append(
            _error(
                1,
                f"SITE_URL is {settings.SITE_URL!r}: links in e-mails would not reach the site.",
                "Set SITE_URL to the site's public https address, e.g. SITE_URL=https://hamkar.example",
            )
        )
    if not settings.REDIS_URL:
        errors.append(
            _error(
                2,
                "REDIS_URL is not set: the folder broker and the database cache serve one machine only.",
                "Set REDIS_URL to the Redis that every web process, worker and beat share, "
                "e.g. REDIS_URL=redis://redis.internal:6379/0",
            )
        )
    if not settings.EMAIL_URL or settings.EMAIL_DELIVERY_BACKEND.rsplit(".", 2)[-2] in _NOT_DELIVERING:
        errors.append(
            _error(
                3,
                f"EMAIL_URL is {settings.EMAIL_URL!r}: no e-mail would reach anyone.",
                "Set EMAIL_URL to a real mail server, e.g. EMAIL_URL=smtp+tls://user:password@smtp.example:587",
            )
        )
    if settings.FILE_STORAGE not in ("s3", "local"):
        errors.append(
            _error(
                4,
                f"FILE_STORAGE is {settings.FILE_STORAGE!r}: uploaded files have no home.",
                "Set S3_BUCKET (with S3_ENDPOINT_URL, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY) to keep uploads "
                "on object storage, which every web machine shares; or FILE_STORAGE=local on a single machine.",
            )
        )
    elif settings.FILE_STORAGE == "s3":
        if not settings.S3_BUCKET:
            errors.append(
                _error(
                    5,
                    "FILE_STORAGE is 's3' but S3_BUCKET is not set.",
                    "Set S3_BUCKET to the bucket's name, e.g. S3_BUCKET=hamkar-uploads",
                )
            )
        for number, name, example in (
            (6, "S3_ENDPOINT_URL", "the object store's address, e.g. https://s3.example.com, or leave it unset for "
                                   "Amazon S3"),
            (7, "S3_PUBLIC_URL", "the CDN's address for public files, e.g. https://cdn.hamkar.example, or leave it "
                                 "unset"),
        ):  # fmt: skip
            value = getattr(settings, name)
            if value and not _is_web_url(value):
                errors.append(_error(number, f"{name} is {value!r}, which is not a URL.", f"Set {name} to {example}"))
    errors += _payment_gateway_errors()
    return errors


# What each real gateway needs to take a payment.
_GATEWAY_SETTINGS = {
    "zarinpal": ("ZARINPAL_MERCHANT_ID", "the 36-character merchant id from Zarinpal's panel"),
    "stripe": ("STRIPE_SECRET_KEY", "the secret API key (sk_live_…) from Stripe's dashboard"),
}


def _payment_gateway_errors() -> list[checks.CheckMessage]:
    """The site's own currency must be payable through a real gateway with its credentials (the sandbox gives
    money away); Stripe also needs its webhook secret, or payers who close the tab are credited only later."""
    errors = []
    default = settings.DEFAULT_CURRENCY
    chosen = {**{default: settings.PAYMENT_GATEWAY}, **settings.PAYMENT_GATEWAYS}
    if chosen[default] not in _GATEWAY_SETTINGS:
        errors.append(
            _error(
                8,
                f"Payments in {default} go to the {chosen[default]!r} gateway: nobody could pay real money.",
                f"Set PAYMENT_GATEWAYS to a real gateway for {default}, e.g. PAYMENT_GATEWAYS={default}=zarinpal "
                "(with ZARINPAL_MERCHANT_ID), and USD=stripe,EUR=stripe for card payments.",
            )
        )
    for currency, name in sorted(chosen.items()):
        if name in _GATEWAY_SETTINGS and not getattr(settings, _GATEWAY_SETTINGS[name][0]):
            variable, what = _GATEWAY_SETTINGS[name]
            errors.append(
                _error(
                    9, f"Payments in {currency} go to {name}, but {variable} is not set.", f"Set {variable} to {what}."
                )
            )
        if name == "stripe" and not settings.STRIPE_WEBHOOK_SECRET:
            errors.append(
                _error(
                    10,
                    f"Payments in {currency} go to stripe, but STRIPE_WEBHOOK_SECRET is not set.",
                    "Set STRIPE_WEBHOOK_SECRET to the signing secret (whsec_…) of the endpoint "
                    "https://<your site>/payments/webhook/stripe/ in Stripe's dashboard.",
                )
            )
    return errors


def refuse_to_start_if_misconfigured() -> None:
    """For processes that run no system checks (gunicorn, Celery): stop with every message at once."""
    if not settings.PRODUCTION:
        return
    errors = [message for message in checks.run_checks(tags=[TAG]) if message.is_serious()]
    if errors:
        lines = [f"{message.id}: {message.msg} {message.hint}" for message in errors]
        raise ImproperlyConfigured("Production is not fully configured:\n" + "\n".join(lines))
