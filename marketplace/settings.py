"""Settings, read from the environment (django-environ).

Two modes: development (the default; SQLite under var/, a serverless Celery broker, dev secret key) and
production (DJANGO_ENV=production; every secret and host must come from the environment, and
`manage.py check --deploy --fail-level WARNING` passes). README.md lists every variable.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from celery.schedules import crontab
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
    "invitations",
    "alerts",
]

MIDDLEWARE = [
    # Answers GET /health/ before host checks and HTTPS redirects: load balancers call it by address.
    "marketplace.health.HealthCheckMiddleware",
    "marketplace.observability.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # CSP, Permissions-Policy, and no-store for signed-in pages, on every response the middlewares below give
    # (marketplace/security.py).
    "marketplace.security.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # An open chat's poll when nothing was said: answered from the session and the cache (proposals/poll.py).
    "proposals.poll.IdleChatPollMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Sets the device cookie the adapter asks for at login (accounts/login_devices.py).
    "accounts.login_devices.LoginDeviceMiddleware",
    "marketplace.observability.RequestUserMiddleware",
    "marketplace.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

if PRODUCTION:
    # Static files straight from gunicorn, compressed and cache-busted; runserver serves them in development.
    _after_security = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1
    MIDDLEWARE.insert(_after_security, "whitenoise.middleware.WhiteNoiseMiddleware")

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
                "marketplace.context_processors.header_badges",
                # Last: a page cached for every visitor renders a placeholder for the CSRF token (pagecache).
                "marketplace.pagecache.csrf_placeholder",
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
elif env.bool("DATABASE_POOL", default=False):
    # psycopg's pool (Django's "pool" option): each process keeps DATABASE_POOL_MIN..MAX open connections.
    # Django requires CONN_MAX_AGE = 0 with a pool. bench/db_connections_bench.py compares the two.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN", default=1),
        "max_size": env.int("DATABASE_POOL_MAX", default=4),
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
    }
else:
    # One persistent connection per process (a gunicorn sync worker serves one request at a time), checked
    # before reuse; the default, chosen from bench/db_connections_bench.py (README, "Running in production").
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if env.bool("DATABASE_PGBOUNCER", default=False):
    # pgbouncer in transaction pooling mode cannot keep a server-side cursor open across transactions.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that does not answer fails a request (and the health check) in seconds, not minutes.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    )
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=not env.bool("DATABASE_PGBOUNCER", default=False)):
        # Parameters bound by the server, and a statement the connection has run twice is prepared, so PostgreSQL
        # plans it once per connection instead of on every request: planning a page's joins cost more than running
        # them (the workspace's contract, 7 tables: 5.4 ms a time unprepared, 0.4 ms prepared). Django leaves prepared
        # statements off for poolers; pgbouncer 1.21+ keeps them in transaction mode (max_prepared_statements).
        DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = env.int("DATABASE_PREPARE_THRESHOLD", default=2)
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
        # A task whose worker died unacknowledged (acks_late) is delivered again after this many seconds.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        "socket_connect_timeout": 1,
        "socket_timeout": 2,
        # Publishing from a web request gives up at once when Redis is down (the outbox sweep sends later);
        # kombu's default would wait seconds between connection retries.
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.1,
        "interval_max": 0.2,
    }
    # Exactly one beat sends the periodic tasks, however many are started: RedBeat keeps the schedule in Redis
    # behind a lock; a second beat waits and takes over within CELERY_REDBEAT_LOCK_TIMEOUT if the first dies.
    CELERY_BEAT_SCHEDULER = "redbeat.RedBeatScheduler"
    CELERY_REDBEAT_REDIS_URL = REDIS_URL
    CELERY_REDBEAT_KEY_PREFIX = env.str("CELERY_REDBEAT_KEY_PREFIX", default="redbeat:")
    CELERY_REDBEAT_LOCK_TIMEOUT = env.int("CELERY_REDBEAT_LOCK_TIMEOUT", default=60)
    CELERY_BEAT_MAX_LOOP_INTERVAL = 5
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
# In each process's memory: template fragments that are the same for everyone in a language and change only with a
# deployment (the footer), so a page does not ask Redis or the database for them.
CACHES["process"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "process-fragments"}

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
# The daily job-alert e-mail goes out at this hour, UTC (4: 07:30 in Tehran); the alerts page shows it.
JOB_ALERTS_DIGEST_HOUR_UTC = env.int("JOB_ALERTS_DIGEST_HOUR_UTC", default=4)
CELERY_BEAT_SCHEDULE = {
    # The outbox sweep: mail whose on-commit enqueue was lost (broker down) still goes out.
    "send-queued-emails": {"task": "notifications.tasks.send_queued_emails", "schedule": 60.0},
    # One e-mail per person about chat messages left unread (proposals.services.unread_digest_send).
    "unread-message-digest": {"task": "proposals.tasks.send_unread_digests", "schedule": 300.0},
    # Release the escrow of milestones whose two-day review clock has run out (workspace.services.delivery).
    "release-due-escrow": {"task": "workspace.tasks.release_due_escrow", "schedule": 60.0},
    # Warn employers a few hours before that release (workspace.services.delivery.warn_before_auto_release).
    "warn-before-auto-release": {"task": "workspace.tasks.warn_before_auto_release", "schedule": 300.0},
    # Every other deadline of a contract: the remainder clock, dispute stages (workspace.services.clocks).
    "enforce-deadlines": {"task": "workspace.tasks.enforce_deadlines", "schedule": 60.0},
    # Ask the gateways about payments nobody came back for (escrow.reconciliation).
    "reconcile-payments": {"task": "escrow.tasks.reconcile_payments", "schedule": 120.0},
    # Publish lone reviews whose 14-day window has closed (reviews are double-blind until then).
    "publish-due-reviews": {"task": "reviews.tasks.publish_due_reviews", "schedule": 3600.0},
    # Job alerts: the matching of a project whose on-commit task was lost (broker down); the daily alert e-mail.
    "job-alerts-sweep": {"task": "alerts.tasks.sweep_project_alerts", "schedule": 300.0},
    "job-alerts-digest": {
        "task": "alerts.tasks.send_alert_digests",
        "schedule": crontab(minute=0, hour=JOB_ALERTS_DIGEST_HOUR_UTC),
    },
}

# --- Auth and accounts ------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Django's and allauth's, each loading the signed-in user with their profile in one query (accounts/backends.py).
AUTHENTICATION_BACKENDS = [
    "accounts.backends.ModelBackend",
    "accounts.backends.AuthenticationBackend",
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
# The link in the e-mail opens a page whose button confirms: a mail scanner's GET confirms nothing.
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
# Confirming signs the person in when it happens in the browser session that signed up (allauth's rule): the link
# alone is no login token, so a leaked or scanned link signs nobody in. On another device the person confirms,
# then logs in once.
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
# A new account starts on its profile (display name, skills, résumé), unless signup was reached with ?next=.
ACCOUNT_SIGNUP_REDIRECT_URL = "profile_edit"
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
    # The key is the login and the browser (accounts.adapter, accounts/login_devices.py): a browser that has signed
    # in with that login before has a count of its own, all others share one. Strangers' failures lock out only
    # strangers.
    "login_failed": "10/m/ip,5/5m/key",
    "confirm_email": "1/3m/key",
}
# Limits per user on what reaches other people, so nobody can flood them (marketplace/ratelimits.py): allauth's
# syntax ("30/m/user" = 30 a minute for each user; several rates separated by commas; "" = no limit), counted like
# ACCOUNT_RATE_LIMITS in the default cache, so every web process shares the count. Only successful actions count.
# Each is far above what a person does by hand and far below what a script does; the help page shows them.
USER_RATE_LIMITS = {
    # Chat messages: one every two seconds for a whole minute is faster than anyone types.
    "message": env.str("USER_RATE_LIMIT_MESSAGE", default="30/m/user"),
    # New proposals: each notifies an employer; a freelancer reading projects and writing to each sends a few an
    # hour; 20 stops a script sending one text to every open project.
    "proposal": env.str("USER_RATE_LIMIT_PROPOSAL", default="20/h/user"),
    # Edits of proposals: each one notifies the employer again and keeps a revision.
    "proposal_edit": env.str("USER_RATE_LIMIT_PROPOSAL_EDIT", default="30/h/user"),
    # New projects, drafts included (publishing a draft later is not counted again); a published one is shown to,
    # and will alert, every matching freelancer. A busy employer posts a few a week.
    "project": env.str("USER_RATE_LIMIT_PROJECT", default="10/d/user"),
    # Invitations to bid, across all of the employer's projects (each project has its own daily cap besides:
    # INVITATIONS_PER_PROJECT_PER_DAY).
    "invitation": env.str("USER_RATE_LIMIT_INVITATION", default="30/d/user"),
}
# E-mail subjects start with "[SITE_NAME] " (accounts.adapter.AccountAdapter.format_email_subject), not with
# the request's host.
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"

# Sessions are read from the cache (Redis) and written through to the database, so a signed-in request does not
# query the database for its session, and a Redis restart signs nobody out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Live updates (marketplace/live.py, marketplace/live_stream.py) ------------------------------------
# Signed-in pages keep one server-sent-events stream open to the ASGI server (Procfile.production "events", nginx
# sends LIVE_EVENTS_PATH there): new messages, "seen" receipts, typing and the header's badges arrive as they happen,
# fanned out through Redis. Off, or without Redis, the chat polls every CHAT_POLL_SECONDS as before.
LIVE_EVENTS = env.bool("LIVE_EVENTS", default=True)
LIVE_EVENTS_PATH = "/events/"
LIVE_CHANNEL_PREFIX = env.str("LIVE_CHANNEL_PREFIX", default="hamkar-live")
# An idle stream sends a comment this often, so proxies keep it open and a browser that left is noticed.
LIVE_HEARTBEAT_SECONDS = env.float("LIVE_HEARTBEAT_SECONDS", default=25)
# A stream ends after this long and the browser opens a new one: the session is checked again (a signed-out or
# deactivated account stops receiving), and no connection outlives a deployment by more than this.
LIVE_STREAM_MAX_SECONDS = env.float("LIVE_STREAM_MAX_SECONDS", default=3600)
# How long the browser waits before reconnecting a stream that ended.
LIVE_RETRY_MILLISECONDS = env.int("LIVE_RETRY_MILLISECONDS", default=3000)
# The chat's polling when there is no stream (no Redis, an old browser, a proxy that cuts long connections).
CHAT_POLL_SECONDS = env.int("CHAT_POLL_SECONDS", default=3)
# "... is typing" shows for this long after the last keystroke the other side reported (at most one report every
# third of it per person and conversation).
CHAT_TYPING_SECONDS = env.int("CHAT_TYPING_SECONDS", default=6)

# --- E-mail: every message is written to the outbox and delivered by a Celery task ------------------
EMAIL_BACKEND = "notifications.backends.OutboxEmailBackend"
# Production has no default: a real backend must be named (marketplace/checks.py).
EMAIL_URL = env.str("EMAIL_URL", default="" if PRODUCTION else "consolemail://")
_email = environ.Env.email_url_config(EMAIL_URL or "consolemail://")
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
# Uploads larger than 2.5 MB are spooled here, not held in memory: a real disk, not a tmpfs (RAM).
FILE_UPLOAD_TEMP_DIR = env.str("FILE_UPLOAD_TEMP_DIR", default="") or None
# How long a presigned link to a private file (or nginx's X-Accel-Redirect answer) stays usable, in seconds.
PRIVATE_FILE_URL_SECONDS = env.int("PRIVATE_FILE_URL_SECONDS", default=300)
# One machine behind nginx: nginx sends private files from an `internal` location mapped onto PRIVATE_MEDIA_ROOT.
PRIVATE_FILES_X_ACCEL_PREFIX = env.str("PRIVATE_FILES_X_ACCEL_PREFIX", default="")
# Object storage (any S3-protocol service): uploaded files go there when S3_BUCKET (or AWS_STORAGE_BUCKET_NAME)
# is set. Credentials: S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY, or boto3's own AWS_* variables or instance role.
S3_BUCKET = env.str("S3_BUCKET", default=env.str("AWS_STORAGE_BUCKET_NAME", default=""))
S3_ENDPOINT_URL = env.str("S3_ENDPOINT_URL", default=env.str("AWS_S3_ENDPOINT_URL", default=""))
S3_PUBLIC_URL = env.str("S3_PUBLIC_URL", default="")  # a CDN or custom domain in front of the public prefix
# "s3" or "local" (one machine whose disk holds MEDIA_ROOT and PRIVATE_MEDIA_ROOT). Production has no default.
FILE_STORAGE = env.str("FILE_STORAGE", default="s3" if S3_BUCKET else ("" if PRODUCTION else "local")).lower()
if FILE_STORAGE == "s3":
    from marketplace.s3 import s3_storages

    _uploads = s3_storages(
        bucket=S3_BUCKET,
        endpoint_url=S3_ENDPOINT_URL,
        region=env.str("S3_REGION", default=env.str("AWS_S3_REGION_NAME", default="")),
        access_key=env.str("S3_ACCESS_KEY_ID", default=""),
        secret_key=env.str("S3_SECRET_ACCESS_KEY", default=""),
        addressing_style=env.str("S3_ADDRESSING_STYLE", default=""),
        public_url=S3_PUBLIC_URL,
    )
else:
    _uploads = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "private": {"BACKEND": "marketplace.storage.PrivateFileSystemStorage"},
    }
STORAGES = {
    **_uploads,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Business settings ------------------------------------------------------------------------------
# Pages that are the same for every visitor (home, Active projects, a project page) are served from the cache for
# at most this many seconds; a change to what they show replaces them at once (marketplace/pagecache.py).
PUBLIC_PAGE_CACHE_SECONDS = env.int("PUBLIC_PAGE_CACHE_SECONDS", default=60)
# Active projects counts matches up to this number and shows "more than ..." beyond it; its pages stop there.
PROJECT_LIST_COUNT_CAP = env.int("PROJECT_LIST_COUNT_CAP", default=1000)
# Job alerts (alerts.services): how many searches one person may save as alerts (the alerts page shows it), and how
# many freelancers one transaction notifies when a new project matches many.
JOB_ALERTS_MAX_SAVED_SEARCHES = env.int("JOB_ALERTS_MAX_SAVED_SEARCHES", default=10)
JOB_ALERTS_BATCH_SIZE = env.int("JOB_ALERTS_BATCH_SIZE", default=500)
# The freelancer directory counts matching freelancers up to this number the same way.
FREELANCER_DIRECTORY_COUNT_CAP = env.int("FREELANCER_DIRECTORY_COUNT_CAP", default=1000)
# How many freelancers one project may invite in any 24 hours (invitations.services.invitation_send), so a project
# cannot be pushed to every freelancer in the directory; the invite page shows it.
INVITATIONS_PER_PROJECT_PER_DAY = env.int("INVITATIONS_PER_PROJECT_PER_DAY", default=20)
SITE_NAME = _("Hamkar")
# For links in e-mails sent by workers. Production has no default (marketplace/checks.py).
SITE_URL = env.str("SITE_URL", default="" if PRODUCTION else "http://127.0.0.1:8000")
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
# Which gateway takes payments in each currency (escrow.gateways), e.g.
# PAYMENT_GATEWAYS="IRT=zarinpal,USD=stripe,EUR=stripe"; PAYMENT_GATEWAY takes every other currency. The sandbox
# is the default outside production.
PAYMENT_GATEWAYS = env.dict("PAYMENT_GATEWAYS", default={})
PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="sandbox")
PAYMENT_GATEWAY_TIMEOUT = env.float("PAYMENT_GATEWAY_TIMEOUT", default=10.0)  # seconds for one call to a gateway
# Zarinpal (REST API v4). The merchant id is the 36-character code from Zarinpal's panel.
ZARINPAL_MERCHANT_ID = env.str("ZARINPAL_MERCHANT_ID", default="")
ZARINPAL_API_BASE = env.str("ZARINPAL_API_BASE", default="https://payment.zarinpal.com/pg/v4/payment/")
ZARINPAL_STARTPAY_URL = env.str("ZARINPAL_STARTPAY_URL", default="https://payment.zarinpal.com/pg/StartPay/")
# Stripe Checkout: the secret API key and the webhook endpoint's signing secret (whsec_…).
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_CHECKOUT_ORIGIN = env.str("STRIPE_CHECKOUT_ORIGIN", default="https://checkout.stripe.com")  # the payer's page
# Reconciliation (escrow.tasks.reconcile_payments, every few minutes): a payment nobody came back for is asked
# about after PAYMENT_RECONCILE_AFTER, and given up (expired) once the gateway still says unpaid after
# PAYMENT_EXPIRE_AFTER; credited payments are confirmed with the gateway once, within PAYMENT_CONFIRM_WITHIN.
PAYMENT_RECONCILE_AFTER = timedelta(minutes=env.int("PAYMENT_RECONCILE_AFTER_MINUTES", default=5))
PAYMENT_EXPIRE_AFTER = timedelta(minutes=env.int("PAYMENT_EXPIRE_AFTER_MINUTES", default=60))
# How many working days a withdrawal takes to reach the bank account once sent (said on the help page; staff
# send a payout batch every working day, escrow.payouts).
PAYOUT_WORKING_DAYS = env.int("PAYOUT_WORKING_DAYS", default=1)
# How many times an employer may send a milestone's delivery back with changes to make; beyond it the choice is
# approve or dispute (workspace.services.delivery.milestone_request_changes).
REVISION_LIMIT = env.int("REVISION_LIMIT", default=2)
PAYMENT_CONFIRM_WITHIN = timedelta(days=env.int("PAYMENT_CONFIRM_WITHIN_DAYS", default=2))
SANDBOX_GATEWAY_ENABLED = env.bool("SANDBOX_GATEWAY_ENABLED", default=not PRODUCTION)
SANDBOX_GATEWAY_SECRET = env.str("SANDBOX_GATEWAY_SECRET", default="")  # default: derived from SECRET_KEY
PAYMENT_CALLBACK_MAX_AGE = 15 * 60  # seconds a signed callback stays valid
TOP_UP_LIMITS = {
    "IRT": (Decimal(10_000), Decimal(500_000_000)),
    "USD": (Decimal(5), Decimal(50_000)),
    "EUR": (Decimal(5), Decimal(50_000)),
}
WITHDRAWAL_MINIMUM = {"IRT": Decimal(100_000), "IRR": Decimal(1_000_000), "USD": Decimal(10), "EUR": Decimal(10)}
ACCEPTANCE_DAYS = env.int("ACCEPTANCE_DAYS", default=3)  # the employer may cancel an unanswered contract after
DELIVERABLE_MAX_BYTES = env.int("DELIVERABLE_MAX_BYTES", default=200 * 1024 * 1024)
ZIP_MAX_ENTRIES = 5000
ZIP_MAX_UNCOMPRESSED_BYTES = 2 * 1024 * 1024 * 1024
ZIP_MAX_RATIO = 100  # uncompressed / compressed, over the whole archive
ESCROW_AUTO_RELEASE_DELAY = timedelta(hours=env.float("ESCROW_AUTO_RELEASE_HOURS", default=48))
# The employer is warned this long before the automatic release.
ESCROW_AUTO_RELEASE_WARNING = timedelta(hours=env.float("ESCROW_AUTO_RELEASE_WARNING_HOURS", default=6))
# The remainder clock: after a delivery that is not yet paid in full, the employer has this many days to pay the
# rest or open a dispute (warned ESCROW_REMAINDER_WARNING before); then the freelancer may dispute non-payment.
ESCROW_REMAINDER_DAYS = env.int("ESCROW_REMAINDER_DAYS", default=3)
ESCROW_REMAINDER_WARNING = timedelta(hours=env.float("ESCROW_REMAINDER_WARNING_HOURS", default=24))
# Disputes (workspace.services.disputes): the other side has DISPUTE_ANSWER_DAYS to answer (else the claim of
# the side who opened it stands), then DISPUTE_NEGOTIATION_DAYS to settle by offers (else it goes to staff);
# each side is warned DISPUTE_DEADLINE_WARNING before a deadline.
DISPUTE_ANSWER_DAYS = env.int("DISPUTE_ANSWER_DAYS", default=4)
DISPUTE_NEGOTIATION_DAYS = env.int("DISPUTE_NEGOTIATION_DAYS", default=5)
DISPUTE_DEADLINE_WARNING = timedelta(hours=env.float("DISPUTE_DEADLINE_WARNING_HOURS", default=24))
# A milestone not delivered by its due date shows as late; this many days later the employer may cancel it with
# a refund, unless the freelancer disputes the cancellation within DISPUTE_ANSWER_DAYS.
MILESTONE_LATE_GRACE_DAYS = env.int("MILESTONE_LATE_GRACE_DAYS", default=3)

# --- Security ---------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie; keep the default
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"  # Django's default, written out
# The two policies below go out on every response (marketplace/security.py). No 'unsafe-inline', no 'unsafe-eval':
# scripts and styles come from our static files only (behaviour lives in static/js/site.js; htmx's eval is off in
# base.html). The object store's public origin is added by marketplace/security.py, as the storage makes its URLs;
# other origins may be added as lists: CSP_EXTRA_IMG_SRC and CSP_EXTRA_FORM_ACTION (payment gateways a form posts
# or redirects to).
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'self'"],
    "object-src": ["'none'"],
}
# Browser features the site never uses are off for it and for anything it embeds; payment stays for our own pages.
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "browsing-topics": [],  # interest-based ads (FLoC's interest-cohort, renamed)
    "camera": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "payment": ["self"],
    "usb": [],
}
# Device cookies: a browser that has signed in keeps its own count of failed logins (accounts/login_devices.py).
LOGIN_DEVICE_COOKIE_NAME = "login_device"
LOGIN_DEVICE_COOKIE_AGE = 60 * 60 * 24 * 365
# nginx in front sets X-Forwarded-For to the client's address, replacing what the client sent
# (deploy/nginx/hamkar.conf): allauth takes the address that many entries from the end, so its per-address limits
# count the client, not the proxy. 0 reads REMOTE_ADDR: development, or nothing in front of gunicorn.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1 if PRODUCTION else 0)
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True

# --- Logs and error reports -------------------------------------------------------------------------
# Production writes one JSON object a line, with the request id (nginx's X-Request-ID, or one of ours) and the
# user id; a Celery task carries the id of the request that queued it (marketplace/observability.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "plain").lower()
if LOG_FORMAT not in ("json", "plain"):
    raise environ.ImproperlyConfigured(f"LOG_FORMAT is {LOG_FORMAT!r}: set it to json or plain.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "marketplace.observability.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "marketplace.observability.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
# Celery installs its own log format in workers unless told not to.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from marketplace.observability import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default=DJANGO_ENV),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
