"""Django settings for Linli.

Everything an operator may change comes from the environment (see docs/operations.md):
DATABASE_URL, REDIS_URL, LINLI_SECRET_KEY, LINLI_FIELD_KEY, LINLI_DEBUG, LINLI_ALLOWED_HOSTS,
LINLI_SMS_BACKEND, LINLI_VAR_DIR. Without any of them Linli runs embedded on SQLite under var/.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from linli.core.secrets import load_or_create_secret

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LINLI_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ.get("LINLI_SECRET_KEY") or load_or_create_secret(
    VAR_DIR / "secrets" / "secret_key", nbytes=48
)
# Master key for field encryption and blind indexes (base64, 32 bytes). Losing it makes
# every encrypted national ID and phone number unreadable: back it up apart from the data.
LINLI_FIELD_KEY = os.environ.get("LINLI_FIELD_KEY") or load_or_create_secret(
    VAR_DIR / "secrets" / "field_key", nbytes=32
)

DEBUG = os.environ.get("LINLI_DEBUG", "0") == "1"
ALLOWED_HOSTS = os.environ.get("LINLI_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("LINLI_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "huey.contrib.djhuey",
    "linli.core",
    "linli.areas",
    "linli.accounts",
    "linli.audit",
    "linli.register",
    "linli.intake",
    "linli.notify",
    "linli.workbench",
    "linli.portal",
    "linli.command",
    "linli.api",
    "linli.linkage",
    "linli.orders",
    "linli.volunteers",
    "linli.reports",
    "linli.emergency",
    "linli.supplies",
    "linli.screening",
    "linli.passes",
    "linli.health",
]

MIDDLEWARE = [
    "linli.core.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "linli.core.middleware.DefaultLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "linli.audit.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "linli.urls"
WSGI_APPLICATION = "linli.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "linli.workbench.context.nav",
            ],
        },
    },
]

_sqlite_path = VAR_DIR / "linli.sqlite3"
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
    if os.environ.get("LINLI_TEST_DATABASE_NAME"):
        # The test run's database (default: "test_" + the database's name).
        DATABASES["default"]["TEST"] = {"NAME": os.environ["LINLI_TEST_DATABASE_NAME"]}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(_sqlite_path),
            "OPTIONS": {
                # WAL lets the web server and the worker read while one of them writes;
                # IMMEDIATE avoids "database is locked" on upgrade from a read to a write.
                "init_command": (
                    "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
                    "PRAGMA busy_timeout=5000;PRAGMA foreign_keys=ON;"
                ),
                "transaction_mode": "IMMEDIATE",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "workbench:login"
LOGIN_REDIRECT_URL = "workbench:home"
LOGOUT_REDIRECT_URL = "workbench:login"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "linli" / "locale"]
# Addresses of reverse proxies whose X-Forwarded-For is believed (comma-separated).
LINLI_TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("LINLI_TRUSTED_PROXIES", "").split(",") if p.strip()
]
LINLI_FOLLOW_BROWSER_LANGUAGE = os.environ.get("LINLI_FOLLOW_BROWSER_LANGUAGE", "0") == "1"
TIME_ZONE = os.environ.get("LINLI_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS: list[Path] = [BASE_DIR / "linli" / "static"]
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12
# Behind a TLS-terminating proxy: LINLI_HTTPS=1 marks cookies secure and trusts the proxy's
# X-Forwarded-Proto header.
if os.environ.get("LINLI_HTTPS") == "1":
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 30

# Background tasks: huey, on SQLite next to the database by default, on Redis when REDIS_URL
# is set (the city-scale path). Tasks are enqueued only after the transaction commits.
_redis_url = os.environ.get("REDIS_URL")
if _redis_url:
    HUEY = {"huey_class": "huey.RedisHuey", "name": "linli", "url": _redis_url, "immediate": False}
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "linli",
        "filename": str(VAR_DIR / "tasks.sqlite3"),
        "immediate": False,
    }

LINLI_SMS_BACKEND = os.environ.get("LINLI_SMS_BACKEND", "linli.notify.sms.ConsoleSmsBackend")
# Notifications (linli.notify, decision 0032): one backend per channel, limits, quiet hours.
LINLI_VOICE_BACKEND = os.environ.get(
    "LINLI_VOICE_BACKEND", "linli.notify.backends.ConsoleVoiceBackend"
)
LINLI_NOTIFY_FILE_DIR = VAR_DIR / "notify"
# Local time; non-urgent SMS and calls wait for the end. Empty LINLI_NOTIFY_QUIET_HOURS: none.
_quiet = os.environ.get("LINLI_NOTIFY_QUIET_HOURS", "22:00-07:00")
LINLI_NOTIFY_QUIET_HOURS: tuple[str, str] | None = (
    tuple(_quiet.split("-", 1)) if _quiet else None  # type: ignore[assignment]
)
LINLI_NOTIFY_RATE_PER_RECIPIENT_HOUR = {"sms": 5, "voice": 2}
LINLI_NOTIFY_RATE_PER_CHANNEL_HOUR = {
    "sms": int(os.environ.get("LINLI_NOTIFY_SMS_PER_HOUR", "3000")),
    "voice": int(os.environ.get("LINLI_NOTIFY_VOICE_PER_HOUR", "300")),
}
LINLI_NOTIFY_MAX_ATTEMPTS = 5
LINLI_NOTIFY_RETRY_SECONDS = 60  # doubled after each failed attempt
# The SMSC for linli.notify.smpp.SmppSmsBackend (see docs/operations.md).
LINLI_SMPP = {
    "host": os.environ.get("LINLI_SMPP_HOST", ""),
    "port": int(os.environ.get("LINLI_SMPP_PORT", "2775")),
    "system_id": os.environ.get("LINLI_SMPP_SYSTEM_ID", ""),
    "password": os.environ.get("LINLI_SMPP_PASSWORD", ""),
    "system_type": os.environ.get("LINLI_SMPP_SYSTEM_TYPE", ""),
    "source_addr": os.environ.get("LINLI_SMPP_SOURCE_ADDR", ""),
    "source_addr_ton": int(os.environ.get("LINLI_SMPP_SOURCE_TON", "5")),
    "source_addr_npi": int(os.environ.get("LINLI_SMPP_SOURCE_NPI", "0")),
    "dest_addr_ton": 1,
    "dest_addr_npi": 1,
    "timeout": 10,
    "receipt_wait": float(os.environ.get("LINLI_SMPP_RECEIPT_WAIT", "2")),
    "enquire_link": 30,
}
# Minutes between background recounts of the per-node tallies (wide pages).
LINLI_TALLY_MINUTES = int(os.environ.get("LINLI_TALLY_MINUTES", "10"))
LINLI_OTP_TTL_SECONDS = 300
LINLI_LOGIN_MAX_FAILURES = 10  # failed staff sign-ins per account name ...
LINLI_LOGIN_MAX_FAILURES_PER_IP = 50  # ... or per address ...
LINLI_LOGIN_LOCK_MINUTES = 15  # ... within this many minutes lock sign-in
LINLI_OTP_MAX_ATTEMPTS = 5  # wrong codes per code sent
LINLI_OTP_MAX_FAILURES_PER_HOUR = 10  # wrong codes per phone, across codes
LINLI_OTP_MAX_REQUESTS_PER_IP_HOUR = 30  # codes asked for from one address

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"linli": {"handlers": ["console"], "level": "INFO"}},
}
