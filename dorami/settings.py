"""Dorami settings, driven by environment variables (see `.env.example`).

With no variables set the site runs in its *embedded default*: a SQLite file, the in-memory
channel layer, the local-memory cache and an in-process scheduler for the periodic jobs.
With DATABASE_URL / REDIS_URL it runs on PostgreSQL, Redis (cache, sessions, channel layer)
and Celery worker + beat.
"""

import re
import sys
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
TESTING = env.bool("DORAMI_TESTING", default="pytest" in sys.modules)

_DEV_SECRET = "dorami-insecure-development-key-do-not-use-in-production"  # noqa: S105
_DEV_PROFILE_KEY = "00" * 32
_DEV_WEBHOOK_SECRET = "dorami-dev-webhook-secret"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default="")
# The media server's shared secret (SRS/nginx-rtmp callbacks: publish, unpublish, heartbeat).
MEDIA_WEBHOOK_SECRET = env.str("MEDIA_WEBHOOK_SECRET", default="")
PROFILE_ENCRYPTION_KEY = env.str("PROFILE_ENCRYPTION_KEY", default="")
# Older keys stay readable until `manage.py rotate_encryption_key` re-encrypts every row:
# "2:<hex>,1:<hex>" — the first entry is the current key version.
PROFILE_ENCRYPTION_KEYS = env.str("PROFILE_ENCRYPTION_KEYS", default="")
# Seals the personal snapshot of a deleted account's orders (a Fernet key); empty = derived
# from SECRET_KEY (accounts/crypto.py). Changing either makes old archives unreadable.
ARCHIVE_ENCRYPTION_KEY = env.str("ARCHIVE_ENCRYPTION_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
# The site's public address (scheme + host, no path) for absolute links in messages that leave
# the site (web push, Alimtalk). Required when DEBUG is off.
SITE_URL = env.str("SITE_URL", default="").strip().rstrip("/")

if not DEBUG:
    missing = [
        name
        for name, value in (
            ("SECRET_KEY", SECRET_KEY),
            ("PROFILE_ENCRYPTION_KEY", PROFILE_ENCRYPTION_KEY or PROFILE_ENCRYPTION_KEYS),
            ("ALLOWED_HOSTS", ALLOWED_HOSTS),
            (
                "MEDIA_WEBHOOK_SECRET",
                MEDIA_WEBHOOK_SECRET != _DEV_WEBHOOK_SECRET and MEDIA_WEBHOOK_SECRET,
            ),
            ("SITE_URL", SITE_URL),
        )
        if not value
    ]
    if missing and not TESTING:
        raise ImproperlyConfigured(
            "DEBUG is off and these settings are missing or insecure: "
            + ", ".join(missing)
            + ". Set them in the environment (see .env.example)."
        )
SECRET_KEY = SECRET_KEY or _DEV_SECRET
SITE_URL = SITE_URL or "http://127.0.0.1:8000"
if not re.fullmatch(r"https?://[^/\s?#]+", SITE_URL):
    raise ImproperlyConfigured(
        "SITE_URL must be a scheme and host without a path, e.g. https://dorami.shop "
        f"({SITE_URL!r})"
    )
MEDIA_WEBHOOK_SECRET = MEDIA_WEBHOOK_SECRET or _DEV_WEBHOOK_SECRET
if not PROFILE_ENCRYPTION_KEYS:
    PROFILE_ENCRYPTION_KEYS = f"1:{PROFILE_ENCRYPTION_KEY or _DEV_PROFILE_KEY}"
if not ALLOWED_HOSTS:
    ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

DATABASE_URL = env.str("DATABASE_URL", default="")
REDIS_URL = env.str("REDIS_URL", default="")
EMBEDDED = not (DATABASE_URL and REDIS_URL)

INSTALLED_APPS = [
    "daphne",
    "adminpanel.apps.AdminConfig",  # django.contrib.admin, its site adminpanel.site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "channels",
    "django_htmx",
    "template_partials",
    "django_prometheus",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.kakao",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",  # the ground floor: config, notices, audit log (imports no other app)
    "accounts",
    "shop",
    "live",
    "orders",
    "points",
    "notifications",
    "api",  # the JSON API v1 over every app's services (docs/api.md)
    "adminpanel",
    "dorami",
]

MIDDLEWARE = [
    "dorami.metrics.RequestMetricsMiddleware",  # responses by status, latency by view
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.SlidingSessionMiddleware",
    "dorami.storetime.StoreTimeZoneMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dorami.sentry.request_middleware",  # for scrubbing personal data from error reports
    "accounts.middleware.SuspendedUserMiddleware",
    "accounts.middleware.SessionRecordMiddleware",  # "로그인 기기": last seen, throttled
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "dorami.csp_headers.CSPMiddleware",  # django-csp, the usual header built once
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "dorami.urls"
WSGI_APPLICATION = "dorami.wsgi.application"
ASGI_APPLICATION = "dorami.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "dorami.context_processors.site",
                "shop.context_processors.cart",
            ],
            "builtins": ["dorami.templatetags.money", "dorami.templatetags.storetime"],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
if DATABASE_URL:
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Behind PgBouncer in transaction mode: `.iterator()` (exports) must not use server-side
    # cursors, which need one session for the whole loop.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
        "DB_DISABLE_SERVER_SIDE_CURSORS", default=False
    )
    if _pool_max := env.int("DB_POOL_MAX_SIZE", default=0):
        # Under ASGI each request's sync code runs in its own thread, and each thread would open
        # its own connection: a rush of requests then exhausts max_connections. A bounded pool
        # per process makes requests queue for a connection instead (CONN_MAX_AGE must be 0).
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 2,
            "max_size": _pool_max,
            "timeout": env.float("DB_POOL_TIMEOUT", default=30.0),
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env.str("SQLITE_PATH", default=str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, sessions, channel layer ---------------------------------------------------------
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "dorami.cache.RedisCache",  # one redis client per pool, reused
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="dorami"),
            # Fail fast when Redis is unreachable: the cache then answers misses (sessions fall
            # back to the database) instead of holding every request (dorami/cache.py).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 3},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 defaults socket_timeout to 5 s (tears consumers down) and caps the
                # pool at 100 connections: both set explicitly.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30, "max_connections": 5000}],
                "prefix": env.str("CHANNEL_PREFIX", default="dorami"),
                "capacity": 1500,
                "expiry": 30,
            },
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Rendered template fragments (`{% cache None name key… using="fragments" %}`): the parts of a
# page that depend only on the values named in their key (the base template's constant head
# and texts, the footer, the live carousel's cards). Per process and never expired: what a
# fragment shows changes only with its key, so there is nothing to invalidate
# (docs/architecture.md, "Template fragments").
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "fragments",
    "TIMEOUT": None,
    "OPTIONS": {"MAX_ENTRIES": 5000},
}

SESSION_COOKIE_AGE = 60 * 60 * 24 * 30  # 30 days, sliding (accounts.middleware)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG and env.bool("SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "dorami.errors.csrf_failure"  # the site's Korean 403 page

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Django's and allauth's backends with a one-statement `get_user` (accounts/backends.py);
# sessions naming the originals are moved onto these by SlidingSessionMiddleware.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.ModelBackend",
    "accounts.backends.AuthenticationBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
ADMIN_EMAILS = [e.lower() for e in env.list("ADMIN_EMAILS", default=[])]
DEV_LOGIN_ENABLED = DEBUG or env.bool("DEV_LOGIN_ENABLED", default=False)

SITE_ID = 1
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_PROVIDERS = {
    "kakao": {
        # Our subclass reads the Kakao endpoints from KAKAO_AUTH_BASE_URL / KAKAO_API_BASE_URL.
        "provider_class": "accounts.kakao.provider.KakaoProvider",
        "APP": {
            "client_id": env.str("KAKAO_CLIENT_ID", default="dorami-dev-kakao"),
            "secret": env.str("KAKAO_CLIENT_SECRET", default=""),
            "key": "",
        },
    }
}
# Kakao endpoints are settings so tests can point them at a local fake server.
KAKAO_AUTH_BASE_URL = env.str("KAKAO_AUTH_BASE_URL", default="https://kauth.kakao.com")
KAKAO_API_BASE_URL = env.str("KAKAO_API_BASE_URL", default="https://kapi.kakao.com")

# --- i18n / time ----------------------------------------------------------------------------
# One language: no LocaleMiddleware (nothing to negotiate per request); Django translates into
# LANGUAGE_CODE when no other language is active.
LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", "한국어")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["dorami.formats"]  # 오전/오후 and the zone in every admin date
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
STORE_TIME_ZONE = env.str("STORE_TIME_ZONE", default="America/Los_Angeles")

# --- Static / media -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and not TESTING
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Security -------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# Internal callers speak plain HTTP on the private network (SRS webhooks, health checks).
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health/", r"^api/v1/media/"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "connect-src": ["'self'", "ws:", "wss:", "blob:"],
        "worker-src": ["'self'", "blob:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", "https://kauth.kakao.com", KAKAO_AUTH_BASE_URL],
        "base-uri": ["'self'"],
    }
}

# --- Abuse limits (dorami/ratelimit.py) ----------------------------------------------------
# name: ((scope, requests, seconds), ...); scope "user" (logged-in shopper), "ip" (client
# address) or "account" (the login name typed). Per-IP numbers are generous: many shoppers on
# one mobile carrier share an address. nginx's limit_req (nginx/nginx.conf) is the outer layer.
RATE_LIMITS = {
    # Failed password logins (admin and any password form); successes do not count.
    "login_failure": (("ip", 10, 15 * 60), ("account", 10, 15 * 60)),
    "cart_add": (("user", 30, 60), ("ip", 300, 60)),
    "cart_update": (("user", 60, 60), ("ip", 600, 60)),
    "waitlist_join": (("user", 10, 60), ("ip", 100, 60)),
    "checkout": (("user", 10, 60), ("ip", 100, 60)),
    "profile_save": (("user", 10, 60), ("ip", 100, 60)),
    "media_webhook": (("ip", 600, 60),),  # SRS calls on publish/unpublish only
    # Every JSON API request (api/), on top of the limit of what it does (cart_add, checkout...).
    "api": (("user", 600, 60), ("ip", 1200, 60)),
    "api_token_create": (("user", 10, 60 * 60), ("ip", 30, 60 * 60)),
}


def _rate_limits_override(text: str) -> dict:
    """RATE_LIMITS="cart_add=user:30/60,ip:300/60;checkout=user:5/60" → {name: rules}."""
    limits = {}
    for entry in filter(None, (part.strip() for part in text.split(";"))):
        name, _sep, spec = entry.partition("=")
        rules = []
        for rule in filter(None, (part.strip() for part in spec.split(","))):
            scope, _sep, numbers = rule.partition(":")
            count, _sep, seconds = numbers.partition("/")
            if scope not in ("user", "ip", "account") or not count.isdigit():
                raise ImproperlyConfigured(f"RATE_LIMITS: cannot read {rule!r}")
            if not seconds.isdigit() or int(seconds) < 1:
                raise ImproperlyConfigured(f"RATE_LIMITS: cannot read {rule!r}")
            rules.append((scope, int(count), int(seconds)))
        limits[name.strip()] = tuple(rules)
    return limits


RATE_LIMITS.update(_rate_limits_override(env.str("RATE_LIMITS", default="")))
# allauth's own password views (reauthenticate, password change/reset; there is no password
# login page) keep allauth's limiter, with the same failure numbers; its refusals are answered
# by dorami.errors.too_many_requests (handler429).
ACCOUNT_RATE_LIMITS = {"login_failed": "10/900s/ip,10/900s/key"}

# --- JSON API (api/, docs/api.md) -----------------------------------------------------------
# The API's views set their own authentication, permissions, throttling and error format
# (api/views/base.py); these are only what Django REST framework and drf-spectacular read.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Dorami API",
    "DESCRIPTION": "도라미 라이브 커머스 공개 API v1 (docs/api.md)",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.error_responses",
    ],
}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=EMBEDDED)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "celery.beat:PersistentScheduler"
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(BASE_DIR / ".celerybeat-schedule")
)
# Without a broker (embedded default) `manage.py serve` runs the same schedule in-process.
EMBEDDED_SCHEDULER = env.bool("EMBEDDED_SCHEDULER", default=EMBEDDED)
# Cart adds run in one transaction per batch of concurrent adds, behind the view (shop/batcher.py);
# off: one transaction per add.
CART_ADD_BATCHING = env.bool("CART_ADD_BATCHING", default=True)

# --- Third-party services (base URLs are settings; tests point them at local fakes) ---------
ALIMTALK_BASE_URL = env.str("ALIMTALK_BASE_URL", default="https://alimtalk.example.invalid")
ALIMTALK_API_KEY = env.str("ALIMTALK_API_KEY", default="")
ALIMTALK_SENDER_KEY = env.str("ALIMTALK_SENDER_KEY", default="")
VAPID_PUBLIC_KEY = env.str("VAPID_PUBLIC_KEY", default="")
VAPID_PRIVATE_KEY = env.str("VAPID_PRIVATE_KEY", default="")
VAPID_SUBJECT = env.str("VAPID_SUBJECT", default="mailto:admin@dorami.local")
# The carrier named in the "shipped" message next to the tracking number.
SHIPPING_CARRIER = env.str("SHIPPING_CARRIER", default="USPS")
# The per-show order confirmation waits this long after the show ends (carts held at the end
# can still be checked out and be part of it).
ORDER_CONFIRMATION_DELAY_MINUTES = env.int("ORDER_CONFIRMATION_DELAY_MINUTES", default=10)

# --- Live / media server --------------------------------------------------------------------
# MEDIA_WEBHOOK_SECRET: read with the other secrets at the top (refused when DEBUG is off).
MEDIA_WEBHOOK_ALLOWED_NETWORKS = env.list(
    "MEDIA_WEBHOOK_ALLOWED_NETWORKS",
    default=["127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128"],
)
RTMP_PUBLIC_URL = env.str("RTMP_PUBLIC_URL", default="rtmp://localhost:1935/live")
MEDIA_SERVER_API_URL = env.str("MEDIA_SERVER_API_URL", default="")
# With DEBUG (`make run`) the app serves HLS written to media/hls (`manage.py demo_live`).
HLS_ROOT = env.str("HLS_ROOT", default=str(MEDIA_ROOT / "hls") if DEBUG else "")
UNPUBLISH_GRACE_SECONDS = env.int("UNPUBLISH_GRACE_SECONDS", default=45)
# A LIVE stream the media server has not reported (heartbeat / SRS API) for this long → OFFLINE.
MEDIA_RECONCILE_AFTER_SECONDS = env.int("MEDIA_RECONCILE_AFTER_SECONDS", default=120)
# Restream worker (`manage.py run_restream`): ffmpeg pulls each LIVE stream from here.
RESTREAM_INPUT_BASE_URL = env.str("RESTREAM_INPUT_BASE_URL", default="rtmp://127.0.0.1:1935/live")
RESTREAM_FFMPEG_BIN = env.str("RESTREAM_FFMPEG_BIN", default="ffmpeg")
# Restart delays are 2/4/8 s × this factor (tests shrink it).
RESTREAM_BACKOFF_SCALE = env.float("RESTREAM_BACKOFF_SCALE", default=1.0)
RESTREAM_ACTIVE_AFTER_SECONDS = env.float("RESTREAM_ACTIVE_AFTER_SECONDS", default=3.0)

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "format": "time=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One "Task ... succeeded" line per periodic run (every 5 s) drowns the embedded
        # server's log; failures still log at ERROR. Celery workers log through their own setup.
        "celery.app.trace": {"level": "WARNING" if EMBEDDED_SCHEDULER else LOG_LEVEL},
    },
}

PROMETHEUS_EXPORT_MIGRATIONS = False

# --- Backups (dorami/backups.py; `manage.py backup`, beat job database-backup-daily) ---------
# A directory or s3://bucket/prefix. Embedded default: ./backups; otherwise empty, and the daily
# job fails loudly (Sentry, the BackupMissing alert) until it is set.
BACKUP_DESTINATION = env.str(
    "BACKUP_DESTINATION", default=str(BASE_DIR / "backups") if EMBEDDED else ""
)
BACKUP_KEEP_DAYS = env.int("BACKUP_KEEP_DAYS", default=14)
BACKUP_S3_ENDPOINT_URL = env.str("BACKUP_S3_ENDPOINT_URL", default="")
BACKUP_S3_REGION = env.str("BACKUP_S3_REGION", default="")
BACKUP_S3_ACCESS_KEY_ID = env.str("BACKUP_S3_ACCESS_KEY_ID", default="")
BACKUP_S3_SECRET_ACCESS_KEY = env.str("BACKUP_S3_SECRET_ACCESS_KEY", default="")

# --- Error tracking (dorami/sentry.py): on only with a DSN ------------------------------------
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="production")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if SENTRY_DSN and not TESTING:
    from dorami import sentry

    sentry.init(
        dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE
    )
