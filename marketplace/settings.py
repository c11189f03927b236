"""Settings, read from the environment (django-environ).

Two modes: development (the default; SQLite under var/, a serverless Celery broker, dev secret key) and
production (DJANGO_ENV=production; every secret and host must come from the environment, and
`manage.py check --deploy --fail-level WARNING` passes). README.md lists every variable.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"
DEBUG = env.bool("DEBUG", default=not PRODUCTION)

if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
else:
    # A development-only key: production refuses to start without SECRET_KEY.
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production-0123456789")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "djmoney",
    "django_htmx",
    "marketplace.apps.MarketplaceConfig",
    "accounts",
    "projects",
    "proposals",
    "escrow",
    "workspace",
    "reviews",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "marketplace.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

if PRODUCTION:
    # Static files straight from gunicorn, compressed and cache-busted; runserver serves them in development.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "marketplace.urls"
WSGI_APPLICATION = "marketplace.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "marketplace.context_processors.site",
                "proposals.context_processors.unread_messages",
                "notifications.context_processors.unread_notifications",
            ],
            "builtins": ["marketplace.templatetags.l10n_fa"],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------------
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process, the worker and beat share one file: wait for locks instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and broker -------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
_database_cache = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "cache_table"}
if REDIS_URL:
    CACHES = {
        # Redis while it answers, the database cache while it does not (marketplace/cache.py).
        "default": {"BACKEND": "marketplace.cache.FailoverCache", "OPTIONS": {"PRIMARY": "redis", "FALLBACK": "db"}},
        "redis": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            # A request never waits long on Redis.
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        },
        "db": _database_cache,
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "socket_connect_timeout": 1,
        "socket_timeout": 2,
        # Publishing from a web request gives up at once when Redis is down (the outbox sweep sends later);
        # kombu's default would wait seconds between connection retries.
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.1,
        "interval_max": 0.2,
    }
else:
    CACHES = {"default": _database_cache}
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = env.path("CELERY_BROKER_DIR", default=str(VAR_DIR / "broker"))
    Path(_broker_dir).mkdir(parents=True, exist_ok=True)  # kombu's filesystem transport needs the folder
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "store_processed": False,
    }

# --- Celery -----------------------------------------------------------------------------------------
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # The outbox sweep: mail whose on-commit enqueue was lost (broker down) still goes out.
    "send-queued-emails": {"task": "notifications.tasks.send_queued_emails", "schedule": 60.0},
    # One e-mail per person about chat messages left unread (proposals.services.unread_digest_send).
    "unread-message-digest": {"task": "proposals.tasks.send_unread_digests", "schedule": 300.0},
    # Release the escrow of milestones whose two-day review clock has run out (escrow.contracts).
    "release-due-escrow": {"task": "escrow.tasks.release_due_escrow", "schedule": 60.0},
    # Warn employers a few hours before that release (escrow.contracts.warn_before_auto_release).
    "warn-before-auto-release": {"task": "escrow.tasks.warn_before_auto_release", "schedule": 300.0},
    # Publish lone reviews whose 14-day window has closed (reviews are double-blind until then).
    "publish-due-reviews": {"task": "reviews.tasks.publish_due_reviews", "schedule": 3600.0},
}

# --- Auth and accounts ------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.validators.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_USERNAME_VALIDATORS = "accounts.validators.username_validators"
ACCOUNT_USERNAME_MIN_LENGTH = 3
ACCOUNT_USERNAME_BLACKLIST = ["admin", "administrator", "staff", "support", "root", "hamkar", "system"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory" if PRODUCTION else "optional")
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_SESSION_REMEMBER = None
# The issue asks that sign-up with a taken e-mail says so; signup reveals it, so hiding it elsewhere adds
# nothing. The signup and login rate limits below bound how fast anyone can probe.
ACCOUNT_PREVENT_ENUMERATION = False
ACCOUNT_RATE_LIMITS = {
    # allauth's defaults, written out so the policy is visible; counted in the default cache.
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reset_password": "20/m/ip,5/m/key",
    "reauthenticate": "10/m/user",
    "reset_password_from_key": "20/m/ip",
    "signup": "20/m/ip",
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "confirm_email": "1/3m/key",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"

SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- E-mail: every message is written to the outbox and delivered by a Celery task ------------------
EMAIL_BACKEND = "notifications.backends.OutboxEmailBackend"
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_DELIVERY_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Hamkar <no-reply@hamkar.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_OUTBOX_MAX_ATTEMPTS = 6

# --- Internationalisation ---------------------------------------------------------------------------
LANGUAGE_CODE = "fa"
LANGUAGES = [("fa", _("Persian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Asia/Tehran"
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
# Files only views that check permissions may hand out (résumés, attachments, deliverables): never under MEDIA_URL.
PRIVATE_MEDIA_ROOT = env.path("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {"BACKEND": "marketplace.storage.PrivateFileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Business settings ------------------------------------------------------------------------------
SITE_NAME = _("Hamkar")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")  # for links in e-mails sent by workers
DEFAULT_CURRENCY = "IRT"  # toman; registered with py-moneyed in marketplace.apps
CURRENCIES = ("IRT", "IRR", "USD", "EUR")
CURRENCY_CHOICES = [("IRT", _("Toman")), ("IRR", _("Rial")), ("USD", _("US dollar")), ("EUR", _("Euro"))]
CURRENCY_MINOR_UNITS = {"IRT": 0, "IRR": 0, "USD": 2, "EUR": 2}
COMMISSION_RATE = Decimal(env.str("COMMISSION_RATE", default="0.10"))
ESCROW_UPFRONT_SHARE = Decimal(env.str("ESCROW_UPFRONT_SHARE", default="0.50"))
# Uploads: checked with Pillow / by content, before anything reaches the disk.
UPLOAD_IMAGE_MAX_BYTES = 5 * 1024 * 1024
UPLOAD_IMAGE_MAX_PIXELS = 25_000_000
UPLOAD_IMAGE_MAX_SIDE = 2400  # larger images are scaled down when re-encoded
UPLOAD_THUMBNAIL_SIDE = 480
UPLOAD_DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
# Payments. The sandbox gateway gives money away to whoever clicks Pay: off in production unless asked for.
PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="sandbox")
SANDBOX_GATEWAY_ENABLED = env.bool("SANDBOX_GATEWAY_ENABLED", default=not PRODUCTION)
SANDBOX_GATEWAY_SECRET = env.str("SANDBOX_GATEWAY_SECRET", default="")  # default: derived from SECRET_KEY
PAYMENT_CALLBACK_MAX_AGE = 15 * 60  # seconds a signed callback stays valid
TOP_UP_LIMITS = {"IRT": (Decimal(10_000), Decimal(500_000_000)), "USD": (Decimal(5), Decimal(50_000))}
WITHDRAWAL_MINIMUM = {"IRT": Decimal(100_000), "IRR": Decimal(1_000_000), "USD": Decimal(10), "EUR": Decimal(10)}
# Production: the web server sends deliverables (nginx `internal` location mapped onto PRIVATE_MEDIA_ROOT).
DELIVERABLE_X_ACCEL_PREFIX = env.str("DELIVERABLE_X_ACCEL_PREFIX", default="")
ACCEPTANCE_DAYS = env.int("ACCEPTANCE_DAYS", default=3)  # the employer may cancel an unanswered contract after
DELIVERABLE_MAX_BYTES = env.int("DELIVERABLE_MAX_BYTES", default=200 * 1024 * 1024)
ZIP_MAX_ENTRIES = 5000
ZIP_MAX_UNCOMPRESSED_BYTES = 2 * 1024 * 1024 * 1024
ZIP_MAX_RATIO = 100  # uncompressed / compressed, over the whole archive
ESCROW_AUTO_RELEASE_DELAY = timedelta(hours=env.float("ESCROW_AUTO_RELEASE_HOURS", default=48))
# The employer is warned this long before the automatic release.
ESCROW_AUTO_RELEASE_WARNING = timedelta(hours=env.float("ESCROW_AUTO_RELEASE_WARNING_HOURS", default=6))

# --- Security ---------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie; keep the default
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
