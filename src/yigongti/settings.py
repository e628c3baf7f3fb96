"""One settings module, driven by environment variables.

DATABASE_URL        postgresql://user@host:5432/name (default: SQLite file in YIGONGTI_DATA_DIR)
YIGONGTI_DATA_DIR   where the SQLite file and the generated secret key live (default ./var)
YIGONGTI_DEBUG      "1" to turn on DEBUG (off by default)
YIGONGTI_SECRET_KEY overrides the generated key
YIGONGTI_ALLOWED_HOSTS  comma-separated (default localhost,127.0.0.1)
YIGONGTI_TLS        "1" behind a TLS terminator: secure cookies, HSTS, proxy SSL header
YIGONGTI_NODE_MODULES   where `npm ci` put the front-end libraries (default ./node_modules)
YIGONGTI_AUDIT_KEY      the audit chain's HMAC key (else YIGONGTI_AUDIT_KEY_FILE, default a generated 0600
                        file audit_key in the data dir); YIGONGTI_AUDIT_RETIRED_KEYS keeps older ones for
                        verification; YIGONGTI_AUDIT_WITNESS the append-only anchor file (docs/audit.md)
YIGONGTI_LOGIN_*        lock-out limits and cool-off; YIGONGTI_SESSION_MAX_SECONDS the absolute session limit;
                        YIGONGTI_OTP_ISSUER the name in authenticator apps (docs/authentication.md)
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("YIGONGTI_DATA_DIR", Path.cwd() / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _env_flag(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    if key := os.environ.get("YIGONGTI_SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_flag("YIGONGTI_DEBUG")
# the 120 crew page offers the ECG simulator instead of a device file (the demo; never in production)
YIGONGTI_ECG_SIMULATOR = _env_flag("YIGONGTI_ECG_SIMULATOR", "1" if DEBUG else "0")
ALLOWED_HOSTS = os.environ.get("YIGONGTI_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",  # serves Swagger UI from its own static files: /api/v1/docs works offline
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "yigongti.core",
    "yigongti.orgs",
    "yigongti.residents",
    "yigongti.encounters",
    "yigongti.indicators",
    "yigongti.referrals",
    "yigongti.insurance",
    "yigongti.telemedicine",
    "yigongti.emergency",
    "yigongti.pathways",
    "yigongti.familydoctor",
    "yigongti.chronic",
    "yigongti.publichealth",
    "yigongti.workforce",
    "yigongti.assets",
    "yigongti.performance",
    "yigongti.pharmacy",
    "yigongti.prescribing",
    "yigongti.ihospital",
    "yigongti.distribution",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "yigongti.core.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "yigongti.core.middleware.SessionTouchMiddleware",
    "yigongti.core.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "yigongti.core.nostore.NoStoreMiddleware",  # person-level pages and the API: Cache-Control: no-store
    "yigongti.core.validation.InputBoundsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "yigongti.core.session_limits.AbsoluteSessionLimitMiddleware",  # ends sessions older than the absolute limit
    "django_otp.middleware.OTPMiddleware",
    "yigongti.orgs.auth_otp.RequireTwoFactorMiddleware",  # privileged accounts pass TOTP after the password
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "yigongti.core.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "yigongti.urls"
WSGI_APPLICATION = "yigongti.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yigongti.core.context.navigation",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'yigongti.sqlite3'}"),
        conn_max_age=int(os.environ.get("YIGONGTI_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets readers run beside the single writer; the timeout waits instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif os.environ.get("YIGONGTI_PROCESS") == "web":
    # A web request's query may not run longer than this (the worker and the command line are not bounded):
    # a client that gave up must not leave a query burning a core. Set by yigongti.wsgi and `yigongti serve`.
    _timeout_ms = int(os.environ.get("YIGONGTI_STATEMENT_TIMEOUT_MS", "15000"))
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = f"-c statement_timeout={_timeout_ms}"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "orgs.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# 等保 2.0: at least 10 characters, 3 of 4 character classes, no common/pinyin/project-name words, no keyboard
# walks, not like the account name (orgs/auth_passwords.py). Messages come in Chinese.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "yigongti.orgs.auth_passwords.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "yigongti.orgs.auth_passwords.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "yigongti.orgs.auth_passwords.ChineseContextValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lock-out (orgs/auth_throttle.py): failures within the cool-off window are counted per account and client
# address, per account from all addresses, and per address for all accounts, each with its own limit. Locks are
# temporary; a browser that logged in to the account before is spared the account- and address-wide locks.
AXES_HANDLER = "yigongti.orgs.auth_throttle.AccountAndClientHandler"
AXES_FAILURE_LIMIT = int(os.environ.get("YIGONGTI_LOGIN_FAILURE_LIMIT", "5"))
YIGONGTI_LOGIN_ACCOUNT_LIMIT = int(os.environ.get("YIGONGTI_LOGIN_ACCOUNT_LIMIT", "10"))
YIGONGTI_LOGIN_CLIENT_LIMIT = int(os.environ.get("YIGONGTI_LOGIN_CLIENT_LIMIT", "30"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("YIGONGTI_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "yigongti.core.actor.client_ip"  # trusted proxies only, as in the audit log
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a lock cannot be stretched by hammering it
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Two-factor (orgs/auth_otp.py): the issuer shown in authenticator apps.
OTP_TOTP_ISSUER = os.environ.get("YIGONGTI_OTP_ISSUER", "yigongti")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # /admin/ may delete a lost device, never show its secret

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after 30 idle minutes and when the browser closes.
SESSION_COOKIE_AGE = int(os.environ.get("YIGONGTI_SESSION_SECONDS", "1800"))
# ... and, however active, 12 hours after login (core/session_limits.py).
YIGONGTI_SESSION_MAX_SECONDS = int(os.environ.get("YIGONGTI_SESSION_MAX_SECONDS", str(12 * 3600)))
# Not a database write per request: core.middleware.SessionTouchMiddleware renews an active session's idle
# expiry at most once a minute, and sessions are read through the cache (cached_db).
SESSION_SAVE_EVERY_REQUEST = False
SESSION_TOUCH_SECONDS = 60
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if _env_flag("YIGONGTI_TLS"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("YIGONGTI_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
NODE_MODULES = Path(os.environ.get("YIGONGTI_NODE_MODULES", Path.cwd() / "node_modules")).resolve()
_VENDOR = [
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/signature_pad", NODE_MODULES / "signature_pad" / "dist"),
]
STATICFILES_DIRS: list[Path | tuple[str, Path]] = [PACKAGE_DIR / "static", *(d for d in _VENDOR if d[1].exists())]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("YIGONGTI_LOG_LEVEL", "WARNING")},
}

# One cache shared by every worker process (rate limits, lock-outs and figure caches must agree across
# gunicorn workers): Redis when YIGONGTI_REDIS_URL names one, else files in the data directory.
CACHES: dict[str, dict[str, Any]]
if os.environ.get("YIGONGTI_REDIS_URL"):
    CACHES = {"default": {"BACKEND": "yigongti.core.redis_cache.RedisCache",  # one client per pool
                          "LOCATION": os.environ["YIGONGTI_REDIS_URL"], "KEY_PREFIX": "ygt"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(DATA_DIR / "cache"), "OPTIONS": {"MAX_ENTRIES": 20000}}}

# Bodies read into memory (JSON, forms) are refused above 2 MB with 413; uploaded files are streamed to disk.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("YIGONGTI_MAX_BODY_BYTES", str(2 * 1024 * 1024)))
# Imports (core.uploads): an uploaded table over YIGONGTI_IMPORT_MAX_MB is skipped as it arrives and refused
# with the limit stated; an .xlsx part unpacking to more than YIGONGTI_IMPORT_MAX_UNZIPPED_MB is not opened.
YIGONGTI_IMPORT_MAX_MB = float(os.environ.get("YIGONGTI_IMPORT_MAX_MB", "10"))
YIGONGTI_IMPORT_MAX_UNZIPPED_MB = float(os.environ.get("YIGONGTI_IMPORT_MAX_UNZIPPED_MB", "50"))
FILE_UPLOAD_HANDLERS = ["yigongti.core.uploads.LimitedUploadHandler",
                        "django.core.files.uploadhandler.MemoryFileUploadHandler",
                        "django.core.files.uploadhandler.TemporaryFileUploadHandler"]

# Residents are paged; the API caps page size so nobody can pull the county in one request.
YIGONGTI_PAGE_SIZE = 25
YIGONGTI_MAX_PAGE_SIZE = 200

# The imaging center's PACS: a separate Orthanc (scripts/orthanc start; `scripts/orthanc env` prints these).
# Unset URL: the platform runs without it and the imaging pages say that the PACS is not configured.
# YIGONGTI_ORTHANC_VIEWER_URL is the address users' browsers reach Orthanc at (its web viewer), default the URL.
YIGONGTI_ORTHANC_URL = os.environ.get("YIGONGTI_ORTHANC_URL", "").rstrip("/")
YIGONGTI_ORTHANC_USER = os.environ.get("YIGONGTI_ORTHANC_USER", "")
YIGONGTI_ORTHANC_PASSWORD = os.environ.get("YIGONGTI_ORTHANC_PASSWORD", "")
YIGONGTI_ORTHANC_VIEWER_URL = os.environ.get("YIGONGTI_ORTHANC_VIEWER_URL", YIGONGTI_ORTHANC_URL).rstrip("/")

# Outside channels for notifications (an SMS or WeChat Work adapter is one more class here).
YIGONGTI_NOTIFIERS = [p for p in os.environ.get(
    "YIGONGTI_NOTIFIERS", "yigongti.core.notify.ConsoleNotifier,yigongti.core.notify.FileNotifier").split(",") if p]

# The internet hospital's outside parts (docs/ihospital.md): the text-message sender of the residents' login codes
# (a dotted path; the default writes them to a 0600 outbox file in the data directory) and the payment gateway
# (the default is the simulated one), and the online follow-up fee in yuan.
YIGONGTI_SMS_SENDER = os.environ.get("YIGONGTI_SMS_SENDER", "")
YIGONGTI_SMS_OUTBOX = os.environ.get("YIGONGTI_SMS_OUTBOX", "")
YIGONGTI_PAYMENT_GATEWAY = os.environ.get("YIGONGTI_PAYMENT_GATEWAY", "")
YIGONGTI_IHOSPITAL_FEE = os.environ.get("YIGONGTI_IHOSPITAL_FEE", "10.00")

# Proxies whose X-Forwarded-For is believed (comma-separated addresses or networks); nobody else's is.
YIGONGTI_TRUSTED_PROXIES = [p.strip() for p in os.environ.get("YIGONGTI_TRUSTED_PROXIES", "").split(",") if p.strip()]

# The audit chain (docs/audit.md): HMAC keys kept outside the database, and a witness file of chain heads
# outside it too, so that neither a rewrite with recomputed hashes nor a cut-off tail passes verification.
YIGONGTI_AUDIT_KEY = os.environ.get("YIGONGTI_AUDIT_KEY", "")
YIGONGTI_AUDIT_RETIRED_KEYS = [k.strip() for k in os.environ.get("YIGONGTI_AUDIT_RETIRED_KEYS", "").split(",")
                               if k.strip()]
YIGONGTI_AUDIT_KEY_FILE = Path(os.environ.get("YIGONGTI_AUDIT_KEY_FILE", DATA_DIR / "audit_key"))
YIGONGTI_AUDIT_WITNESS = Path(os.environ.get("YIGONGTI_AUDIT_WITNESS", DATA_DIR / "audit_witness.jsonl"))
YIGONGTI_AUDIT_ANCHOR_EVERY = int(os.environ.get("YIGONGTI_AUDIT_ANCHOR_EVERY", "100"))  # events
YIGONGTI_AUDIT_ANCHOR_MINUTES = int(os.environ.get("YIGONGTI_AUDIT_ANCHOR_MINUTES", "10"))  # worker
YIGONGTI_AUDIT_WITNESS_CHATTR = _env_flag("YIGONGTI_AUDIT_WITNESS_CHATTR", "1")  # chattr +a when root
