"""Settings for PSCC CAD: the one module that reads the environment (django-environ).

Every variable is listed in `.env.example`. A value that production needs and that is missing raises
`ImproperlyConfigured` naming the variable.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

PSCC_ENV = env.str("PSCC_ENV", default="development")
if PSCC_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured("PSCC_ENV must be development, test or production")
PRODUCTION = PSCC_ENV == "production"


def required(name: str, **kwargs):
    """Read a variable that must be set; the error names it."""
    try:
        return env(name, **kwargs)
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(f"Set the {name} environment variable ({exc}).") from None


DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)
if DEBUG and PRODUCTION:
    raise ImproperlyConfigured("DJANGO_DEBUG is on with PSCC_ENV=production: refusing to start.")

SECRET_KEY = required("DJANGO_SECRET_KEY") if PRODUCTION else env.str(
    "DJANGO_SECRET_KEY", default="dev-only-insecure-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"
)
ALLOWED_HOSTS = required("DJANGO_ALLOWED_HOSTS", cast=list) if PRODUCTION else env.list(
    "DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "pgtrigger",
    "pghistory",
    "pscc.apps.PsccConfig",
    "units.apps.UnitsConfig",
    "incidents.apps.IncidentsConfig",
    "calltaking.apps.CalltakingConfig",
    "text911.apps.Text911Config",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outermost but for security headers: a database lost in any middleware below is a 503, not a 500.
    "pscc.middleware.ServiceUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Every history row written during a request carries who made it and through which URL.
    "pghistory.middleware.HistoryMiddleware",
    # After OTP: an idle session ends, and a sign-in that still owes its second factor reaches only
    # the verification and enrolment pages (pscc/mfa.py).
    "pscc.mfa.SessionInactivityMiddleware",
    "pscc.mfa.MfaEnforcementMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "pscc.urls"
ASGI_APPLICATION = "pscc.asgi.application"
WSGI_APPLICATION = "pscc.wsgi.application"

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
                "pscc.context_processors.center",
            ],
        },
    },
]

# --- PostgreSQL (the record) -------------------------------------------------------------------
required("DATABASE_URL")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["OPTIONS"]["connect_timeout"] = env.int("DATABASE_CONNECT_TIMEOUT", default=5)
if env.bool("DATABASE_POOL", default=False):
    DATABASES["default"]["OPTIONS"]["pool"] = {"min_size": 2, "max_size": env.int("DATABASE_POOL_MAX", default=20)}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis (messages and tasks only; never the record) -------------------------------------------
REDIS_URL = required("REDIS_URL")
# One Redis may serve several centers or test runs: pub/sub channel names are global, so prefix them.
PSCC_CHANNEL_PREFIX = env.str("PSCC_CHANNEL_PREFIX", default=f"pscc:{DATABASES['default'].get('NAME', 'pscc')}")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": PSCC_CHANNEL_PREFIX + ":layer"},
    }
}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300, "socket_timeout": 5, "socket_connect_timeout": 5}
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="pscc")
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {}  # filled by each app's AppConfig.ready() via pscc.celery.register_periodic
PSCC_SWEEP_SECONDS = env.float("PSCC_SWEEP_SECONDS", default=5.0)
# The relay wakes journal-following work (partner webhooks) at most this often, instead of waiting for a sweep.
PSCC_RELAY_WAKE_SECONDS = env.float("PSCC_RELAY_WAKE_SECONDS", default=0.5)
PSCC_WORKER_HEARTBEAT_SECONDS = env.float("PSCC_WORKER_HEARTBEAT_SECONDS", default=15.0)

# --- Auth, roles, lockout ------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "console"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = env.int("PSCC_LOCKOUT_FAILURES", default=5)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_COOLOFF_TIME = None  # locked until a supervisor or admin unlocks
PSCC_LOCKOUT_WINDOW = timedelta(minutes=env.int("PSCC_LOCKOUT_WINDOW_MINUTES", default=15))
# Not on the password step: a correct password followed by wrong second-factor codes must keep
# counting. pscc.accounts resets the counter once the whole sign-in (password and MFA) succeeds.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_VERBOSE = False
# Lock the account, not the address: the whole dispatch floor may sit behind one address, and one
# mistyped password there must not lock every position out.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_IPWARE_PROXY_COUNT = env.int("PSCC_PROXY_COUNT", default=0)

SESSION_COOKIE_AGE = env.int("PSCC_SESSION_SECONDS", default=12 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False

# --- Internationalisation ------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("PSCC_TIME_ZONE", default="America/Denver")
USE_I18N = False
USE_TZ = True

# --- Static files --------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- REST ----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "pscc.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PSCC CAD API",
    "DESCRIPTION": "Computer-aided dispatch for the Casper-Natrona Public Safety Communications Center.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from our own static files (the floor has no internet access).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- The center ----------------------------------------------------------------------------------
PSCC_CENTER_NAME = env.str("PSCC_CENTER_NAME", default="Casper-Natrona Public Safety Communication Center")
PSCC_LOGIN_BANNER = env.str(
    "PSCC_LOGIN_BANNER",
    default=(
        "This is a criminal justice information system of the Casper-Natrona Public Safety Communications "
        "Center. Use is restricted to authorised personnel for official business. All activity is "
        "recorded and audited; unauthorised use may result in criminal prosecution."
    ),
)
PSCC_JOURNAL_REPLAY_LIMIT = env.int("PSCC_JOURNAL_REPLAY_LIMIT", default=5000)
PSCC_HEARTBEAT_SECONDS = env.float("PSCC_HEARTBEAT_SECONDS", default=10.0)
# Frames a console may have waiting to be written before the server drops them and closes its socket
# (4408): a console that stopped reading must neither hold the others back nor grow the server.
PSCC_CONSOLE_OUTBOX_MAX = env.int("PSCC_CONSOLE_OUTBOX_MAX", default=2000)
PSCC_RELAY_LAG_LIMIT_SECONDS = env.float("PSCC_RELAY_LAG_LIMIT_SECONDS", default=10.0)
PSCC_WORKER_STALE_SECONDS = env.float("PSCC_WORKER_STALE_SECONDS", default=90.0)
PSCC_SIMULATOR_URL = env.str("PSCC_SIMULATOR_URL", default="http://127.0.0.1:8100")

# --- Compliance standards ------------------------------------------------------------------------
# NENA-STA-020: 90% of 911 calls answered within 15 s, 95% within 20 s. NFPA 1225: 90% within 10 s
# (set FIRST_SECONDS=10, FIRST_GOAL_PCT=90).
PSCC_ANSWER_STANDARD = env.str("PSCC_ANSWER_STANDARD", default="NENA-STA-020")
PSCC_ANSWER_FIRST_SECONDS = env.int("PSCC_ANSWER_FIRST_SECONDS", default=15)
PSCC_ANSWER_FIRST_GOAL_PCT = env.float("PSCC_ANSWER_FIRST_GOAL_PCT", default=90.0)
PSCC_ANSWER_SECOND_SECONDS = env.int("PSCC_ANSWER_SECOND_SECONDS", default=20)
PSCC_ANSWER_SECOND_GOAL_PCT = env.float("PSCC_ANSWER_SECOND_GOAL_PCT", default=95.0)
# A text nobody claims within this many seconds raises a supervisor alert.
PSCC_TEXT_UNCLAIMED_ALERT_SECONDS = env.int("PSCC_TEXT_UNCLAIMED_ALERT_SECONDS", default=60)
PSCC_SHIFT_STARTS = env.list("PSCC_SHIFT_STARTS", default=["07:00", "15:00", "23:00"])
# Daily roll-ups of the history reports (pscc/rollup.py): how often the periodic task runs, and how
# many complete local days it recomputes each time (late answers, closures and corrections).
PSCC_ROLLUP_SECONDS = env.float("PSCC_ROLLUP_SECONDS", default=3600.0)
PSCC_ROLLUP_RECOMPUTE_DAYS = env.int("PSCC_ROLLUP_RECOMPUTE_DAYS", default=3)

# --- Content-Security-Policy (django-csp): no inline script anywhere in the product -------------
CSP_DEFAULT_SRC = ("'self'",)
CSP_SCRIPT_SRC = ("'self'",)
CSP_STYLE_SRC = ("'self'", "'unsafe-inline'")
CSP_IMG_SRC = ("'self'", "data:")
CSP_MEDIA_SRC = ("'self'", "data:")
CSP_CONNECT_SRC = ("'self'",)  # CSP3: 'self' also allows ws:/wss: to the same host
CSP_FRAME_ANCESTORS = ("'none'",)
CSP_FORM_ACTION = ("'self'",)
CSP_OBJECT_SRC = ("'none'",)
CSP_BASE_URI = ("'none'",)
# The browsable API docs (Swagger UI) ship their own inline bootstrap script.
CSP_EXCLUDE_URL_PREFIXES = ("/api/docs/",)

# --- Production hardening ------------------------------------------------------------------------
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("PSCC_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "daphne": {"level": "WARNING"}},
}

# --- Text to 911 (text911) -------------------------------------------------------------------------
# The Text Control Center (TCC): where outbound texts, rebids, transfers and session ends go, and the
# shared secret that signs what it POSTs to /api/v1/text911/inbound (and what we send to it).
PSCC_TCC_URL = env.str("PSCC_TCC_URL", default=PSCC_SIMULATOR_URL.rstrip("/") + "/tcc")
PSCC_TCC_SECRET = env.str("PSCC_TCC_SECRET", default="" if PRODUCTION else "pscc-dev-tcc-secret")
PSCC_TCC_TIMEOUT = env.float("PSCC_TCC_TIMEOUT", default=5.0)
PSCC_TCC_REPLAY_WINDOW_SECONDS = env.int("PSCC_TCC_REPLAY_WINDOW_SECONDS", default=300)
PSCC_TEXT_MAX_ACTIVE = env.int("PSCC_TEXT_MAX_ACTIVE", default=2)  # SOP text rule 19
PSCC_TEXT_MAX_REBIDS = env.int("PSCC_TEXT_MAX_REBIDS", default=5)  # SOP text rule 23, per PSAP allocation
PSCC_TEXT_OUTBOUND_MAX_ATTEMPTS = env.int("PSCC_TEXT_OUTBOUND_MAX_ATTEMPTS", default=8)
# An outbound text claimed ("sending") longer than this belongs to a dead worker: the sweeper releases it.
PSCC_TEXT_STUCK_SECONDS = env.float("PSCC_TEXT_STUCK_SECONDS", default=120.0)
# Filled into the quick messages' {center} and {non_emergency_number} placeholders.
PSCC_TEXT_CENTER_LABEL = env.str("PSCC_TEXT_CENTER_LABEL", default="Natrona County 9-1-1")
PSCC_NON_EMERGENCY_NUMBER = env.str("PSCC_NON_EMERGENCY_NUMBER", default="307-235-8278")
if PRODUCTION and not PSCC_TCC_SECRET:
    raise ImproperlyConfigured("Set PSCC_TCC_SECRET (the Text Control Center's signing secret).")

# --- bench/ (issue 9) ----------------------------------------------------------------------------
# GET /bench/ping.json, a trivial JSON view the intake benchmark measures as the server's ceiling.
# Off unless a benchmark turns it on; never in production.
PSCC_BENCH_VIEWS = env.bool("PSCC_BENCH_VIEWS", default=False)
if PRODUCTION and PSCC_BENCH_VIEWS:
    raise ImproperlyConfigured("PSCC_BENCH_VIEWS is for benchmarks only: refusing to start in production.")

# --- calltaking: 911 call-taking (issue 4) -------------------------------------------------------
# The bearer token the call-handling equipment (CPE) presents on POST /api/v1/calls/.
PSCC_CPE_TOKEN = required("PSCC_CPE_TOKEN") if PRODUCTION else env.str("PSCC_CPE_TOKEN", default="pscc-dev-cpe-token")
PSCC_CALL_GREETING = env.str("PSCC_CALL_GREETING", default="Natrona County 9-1-1, where is your emergency?")
# (PSCC_NON_EMERGENCY_NUMBER, read above with the text settings, is also the voicemail referral number.)
# Outside systems (the simulators in development and tests).
PSCC_ALI_URL = env.str("PSCC_ALI_URL", default=PSCC_SIMULATOR_URL + "/cpe")
PSCC_ALI_TOKEN = env.str("PSCC_ALI_TOKEN", default=PSCC_CPE_TOKEN)
PSCC_TELEPHONY_URL = env.str("PSCC_TELEPHONY_URL", default=PSCC_SIMULATOR_URL + "/telephony")
PSCC_WSP_URL = env.str("PSCC_WSP_URL", default=PSCC_SIMULATOR_URL + "/wsp")
PSCC_LOCATION_URL = env.str("PSCC_LOCATION_URL", default=PSCC_SIMULATOR_URL + "/location")
PSCC_LOCATION_CLIENT_ID = env.str("PSCC_LOCATION_CLIENT_ID", default="pscc-demo")
PSCC_LOCATION_CLIENT_SECRET = env.str("PSCC_LOCATION_CLIENT_SECRET", default="pscc-demo-secret")
PSCC_ADAPTER_TIMEOUT_SECONDS = env.float("PSCC_ADAPTER_TIMEOUT_SECONDS", default=10.0)
PSCC_ALI_LAYOUTS = env.json("PSCC_ALI_LAYOUTS", default={})
# SOP §VI manual ALI lookup: the ALI database provider (empty: the CPE/ALI URL and token above). A
# telecommunicator waits on the answer, so its timeout is short and separate.
PSCC_ALI_DATABASE_URL = env.str("PSCC_ALI_DATABASE_URL", default="")
PSCC_ALI_DATABASE_TOKEN = env.str("PSCC_ALI_DATABASE_TOKEN", default="")
PSCC_ALI_DATABASE_TIMEOUT_SECONDS = env.float("PSCC_ALI_DATABASE_TIMEOUT_SECONDS", default=5.0)
# Background work: spacing of callback attempts, retries with backoff, stuck-claim recovery.
PSCC_CALLBACK_SPACING_SECONDS = env.float("PSCC_CALLBACK_SPACING_SECONDS", default=60.0)
PSCC_JOB_MAX_TRIES = env.int("PSCC_JOB_MAX_TRIES", default=3)
PSCC_JOB_RETRY_BASE_SECONDS = env.float("PSCC_JOB_RETRY_BASE_SECONDS", default=2.0)
PSCC_JOB_STUCK_SECONDS = env.float("PSCC_JOB_STUCK_SECONDS", default=120.0)
PSCC_WSP_POLL_SECONDS = env.float("PSCC_WSP_POLL_SECONDS", default=10.0)
PSCC_WSP_MAX_WAIT_SECONDS = env.float("PSCC_WSP_MAX_WAIT_SECONDS", default=900.0)
PSCC_LINE_CHECK_SECONDS = env.float("PSCC_LINE_CHECK_SECONDS", default=120.0)
# SOP §V: misroute reports go to the county 911 coordinator, and are purged after a quarter.
PSCC_MISROUTE_COORDINATOR_EMAIL = env.str("PSCC_MISROUTE_COORDINATOR_EMAIL", default="911-coordinator@natronacounty.example")
PSCC_MISROUTE_RETENTION_DAYS = env.int("PSCC_MISROUTE_RETENTION_DAYS", default=92)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="cad@pscc.example")
EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")

# --- CAD core (units, incidents): duplicate detection --------------------------------------------
# A new incident within this radius and time window of another (or with the same callback number
# within the window) is offered as a possible duplicate.
PSCC_DUPLICATE_RADIUS_M = env.float("PSCC_DUPLICATE_RADIUS_M", default=250.0)
PSCC_DUPLICATE_WINDOW_MINUTES = env.int("PSCC_DUPLICATE_WINDOW_MINUTES", default=30)

# --- Accounts, MFA and audit (issue 8; pscc/mfa.py, pscc/accounts.py, pscc/audit.py) -------------
# MFA (TOTP with recovery codes) is required of these roles; telecommunicators too when
# PSCC_MFA_FOR_CONSOLES is on. Enforcement is on in production; development and the test suite leave
# it off unless PSCC_MFA_ENFORCE=true (tests/security turns it on per test).
PSCC_MFA_ENFORCE = env.bool("PSCC_MFA_ENFORCE", default=PRODUCTION)
PSCC_MFA_FOR_CONSOLES = env.bool("PSCC_MFA_FOR_CONSOLES", default=False)
PSCC_MFA_REQUIRED_ROLES = tuple(env.list("PSCC_MFA_REQUIRED_ROLES", default=["supervisor", "admin"]))
PSCC_MFA_ISSUER = env.str("PSCC_MFA_ISSUER", default="PSCC CAD")
PSCC_MFA_RECOVERY_CODES = env.int("PSCC_MFA_RECOVERY_CODES", default=10)
# The axes lockout (5 failures in 15 minutes) is the throttle for codes too; django-otp's own
# exponential delay would refuse a correct code typed quickly after a wrong one and count it again.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
OTP_TOTP_ISSUER = PSCC_MFA_ISSUER
# A session with no request for this long ends (0: never). Positions in the secure room are exempt.
PSCC_INACTIVITY_SECONDS = env.int("PSCC_INACTIVITY_SECONDS", default=30 * 60)
# Accounts not signed in for this many days are disabled by a scheduled task.
PSCC_ACCOUNT_IDLE_DAYS = env.int("PSCC_ACCOUNT_IDLE_DAYS", default=90)
PSCC_ACCOUNT_IDLE_CHECK_SECONDS = env.float("PSCC_ACCOUNT_IDLE_CHECK_SECONDS", default=3600.0)
PSCC_ACCOUNT_IDLE_EXEMPT = env.list("PSCC_ACCOUNT_IDLE_EXEMPT", default=[])
# The caller-data access log is kept at least a year; older rows are purged by a scheduled task.
PSCC_AUDIT_RETENTION_DAYS = env.int("PSCC_AUDIT_RETENTION_DAYS", default=366)
if PSCC_AUDIT_RETENTION_DAYS < 365:
    raise ImproperlyConfigured("PSCC_AUDIT_RETENTION_DAYS must be at least 365 (the access log is kept a year).")
PSCC_AUDIT_PURGE_SECONDS = env.float("PSCC_AUDIT_PURGE_SECONDS", default=86400.0)
# Idempotency keys (CPE call id, TCC message id, partner Idempotency-Key): the first answer is replayed
# for this long, then the sweeper purges it (a later retry is still deduplicated by the natural keys).
PSCC_IDEMPOTENCY_KEEP_HOURS = env.float("PSCC_IDEMPOTENCY_KEEP_HOURS", default=24.0)

# --- Partner API and webhooks (issue 7; units/partner_*.py, units/webhooks.py, incidents/eido.py) --
# Requests per API key; "partner_write" applies to POSTs (unit status, webhook subscriptions).
PSCC_PARTNER_THROTTLE_RATES = {
    "partner_read": env.str("PSCC_PARTNER_READ_RATE", default="600/min"),
    "partner_write": env.str("PSCC_PARTNER_WRITE_RATE", default="120/min"),
}
REST_FRAMEWORK.setdefault("DEFAULT_THROTTLE_RATES", {}).update(PSCC_PARTNER_THROTTLE_RATES)
# The throttle counts live in Redis so every web process counts one key together.
CACHES = globals().get("CACHES") or {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CACHES.setdefault("partner_throttle", {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": REDIS_URL,
    "KEY_PREFIX": PSCC_CHANNEL_PREFIX + ":throttle",
    "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1},
})
PSCC_PARTNER_THROTTLE_CACHE = "partner_throttle"
PSCC_WEBHOOK_TIMEOUT_SECONDS = env.float("PSCC_WEBHOOK_TIMEOUT_SECONDS", default=5.0)
PSCC_WEBHOOK_RETRY_BASE_SECONDS = env.float("PSCC_WEBHOOK_RETRY_BASE_SECONDS", default=2.0)
PSCC_WEBHOOK_RETRY_MAX_SECONDS = env.float("PSCC_WEBHOOK_RETRY_MAX_SECONDS", default=300.0)
PSCC_WEBHOOK_STUCK_SECONDS = env.float("PSCC_WEBHOOK_STUCK_SECONDS", default=120.0)
PSCC_WEBHOOK_BATCH = env.int("PSCC_WEBHOOK_BATCH", default=200)
PSCC_WEBHOOK_RUN_SECONDS = env.float("PSCC_WEBHOOK_RUN_SECONDS", default=40.0)
PSCC_WEBHOOK_REQUIRE_HTTPS = env.bool("PSCC_WEBHOOK_REQUIRE_HTTPS", default=PRODUCTION)
# NENA EIDO identifiers: agencies are named <code>.<domain>; the issuing element is this CAD.
PSCC_EIDO_DOMAIN = env.str("PSCC_EIDO_DOMAIN", default="natrona.pscc.example")
PSCC_EIDO_CENTER_ID = env.str("PSCC_EIDO_CENTER_ID", default="psap." + PSCC_EIDO_DOMAIN)
PSCC_EIDO_ISSUING_ELEMENT = env.str("PSCC_EIDO_ISSUING_ELEMENT", default="cad." + PSCC_EIDO_DOMAIN)
