"""Django settings for govportal, read from the environment.

Every setting that differs between a laptop demo and a national deployment
comes from an environment variable. The defaults give a working single-machine
site on SQLite under ``var/`` in the working directory.
"""

import os
from pathlib import Path

import dj_database_url


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError(f"{name}={value!r} is not an integer") from exc


PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("GOVPORTAL_VAR_DIR", Path.cwd() / "var")).resolve()
# The SQLite database and the huey queue live here; both need the folder.
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG")
# A fixed development key is used only when DEBUG is on; the system check
# govportal.E001 stops a production start without SECRET_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY and (DEBUG or os.environ.get("GOVPORTAL_DEV_SECRET")):
    SECRET_KEY = "dev-only-insecure-key"  # noqa: S105
if not SECRET_KEY:
    SECRET_KEY = "unset"  # noqa: S105  (rejected by the system check)

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "govportal.core",
    "govportal.agencies",
    "govportal.feeds",
    "govportal.news",
    "govportal.publishing",
    "govportal.services",
    "govportal.api",
    "govportal.cameras",
    "govportal.publicsite",
    "govportal.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "govportal.urls"
WSGI_APPLICATION = "govportal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "govportal.sqlite3"),
            # WAL lets the worker write while the site builder and the admin
            # read; the busy timeout rides out short write locks.
            "OPTIONS": {
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hant"
LANGUAGES = [("zh-hant", "繁體中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Taipei"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

# The public site: static files built from published content.
# absolute(), not resolve(): SITE_DIR is a symlink to the current build.
SITE_DIR = Path(os.environ.get("SITE_DIR") or VAR_DIR / "site").absolute()
SITE_BASE_URL = os.environ.get("SITE_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# The office site (admin, API, and the few forms visitors use, such as the
# report of a broken camera), which the static pages link to.
OFFICE_BASE_URL = os.environ.get("OFFICE_BASE_URL", "http://127.0.0.1:8002").rstrip("/")
SITE_NEWS_PAGE_SIZE = env_int("GOVPORTAL_NEWS_PAGE_SIZE", 20)
# Update the public site as soon as a service is approved or withdrawn.
PUBLISH_ON_APPROVAL = env_bool("GOVPORTAL_PUBLISH_ON_APPROVAL", True)

# News retention and the fetch window.
NEWS_RETENTION_DAYS = env_int("GOVPORTAL_NEWS_RETENTION_DAYS", 30)
NEWS_FETCH_WINDOW_DAYS = env_int("GOVPORTAL_NEWS_FETCH_WINDOW_DAYS", 7)

# Feed fetching. GOVPORTAL_FETCH_ALLOWED_NETWORKS is the only way to let the
# fetcher reach a non-global address; tests and the demo set it to loopback.
FETCH_ALLOWED_NETWORKS = [
    n.strip()
    for n in os.environ.get("GOVPORTAL_FETCH_ALLOWED_NETWORKS", "").split(",")
    if n.strip()
]
FETCH_EXTRA_CA_BUNDLE = os.environ.get("GOVPORTAL_FETCH_EXTRA_CA_BUNDLE", "") or None
FETCH_USER_AGENT = os.environ.get(
    "GOVPORTAL_FETCH_USER_AGENT",
    "govportal-feed-fetcher/0.1 (+https://www.gov.tw/; news aggregation)",
)
FETCH_CONCURRENCY = env_int("GOVPORTAL_FETCH_CONCURRENCY", 50)
FETCH_PER_HOST_LIMIT = env_int("GOVPORTAL_FETCH_PER_HOST_LIMIT", 4)
FETCH_DEADLINE_SECONDS = env_int("GOVPORTAL_FETCH_DEADLINE_SECONDS", 45)
FETCH_MAX_BODY_BYTES = env_int("GOVPORTAL_FETCH_MAX_BODY_BYTES", 10 * 1024 * 1024)
FEED_DEFAULT_INTERVAL_MINUTES = env_int("GOVPORTAL_FEED_INTERVAL_MINUTES", 60)
FEED_MAX_BACKOFF_MINUTES = env_int("GOVPORTAL_FEED_MAX_BACKOFF_MINUTES", 12 * 60)

# Integration API limits: requests per key and failed authentications per
# client address, each per minute, and the largest request body.
API_RATE_LIMIT_PER_MINUTE = env_int("GOVPORTAL_API_RATE_LIMIT_PER_MINUTE", 120)
API_AUTH_FAILURES_PER_MINUTE = env_int("GOVPORTAL_API_AUTH_FAILURES_PER_MINUTE", 30)
API_MAX_BODY_BYTES = env_int("GOVPORTAL_API_MAX_BODY_BYTES", 512 * 1024)

# Background work: django.tasks on huey. SQLite storage by default, Redis
# when HUEY_REDIS_URL is set (needed for workers on several machines).
HUEY_REDIS_URL = os.environ.get("HUEY_REDIS_URL", "").strip()
HUEY_IMMEDIATE = env_bool("HUEY_IMMEDIATE")
if HUEY_REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "govportal",
        "url": HUEY_REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": 4, "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "govportal",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
TASKS = {
    "default": {"BACKEND": "huey.contrib.djhuey.tasks_backend.HueyBackend"},
}

DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "noreply@portal.invalid")
# Mail goes out through an SMTP relay. GOVPORTAL_SMTP_TLS=starttls or ssl turns
# on encryption; the relay of a government network usually needs one of them.
_smtp_tls = os.environ.get("GOVPORTAL_SMTP_TLS", "").strip().lower()
if _smtp_tls not in ("", "starttls", "ssl"):
    raise ValueError(
        f"GOVPORTAL_SMTP_TLS is {_smtp_tls!r}; use starttls, ssl or leave it empty."
    )
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": os.environ.get("GOVPORTAL_SMTP_HOST", "127.0.0.1"),
            "port": env_int("GOVPORTAL_SMTP_PORT", 25),
            "username": os.environ.get("GOVPORTAL_SMTP_USER", ""),
            "password": os.environ.get("GOVPORTAL_SMTP_PASSWORD", ""),
            "use_tls": _smtp_tls == "starttls",
            "use_ssl": _smtp_tls == "ssl",
            "timeout": 20,
        },
    }
}

# Cameras. A camera goes down after CAMERA_DOWN_AFTER failed checks in a row
# (or that many of the last twice as many) and comes back after
# CAMERA_UP_AFTER good ones. Mail about changes waits CAMERA_NOTICE_DELAY_SECONDS
# so that the cameras of one failing host are reported together.
CAMERA_CHECK_INTERVAL_SECONDS = env_int("GOVPORTAL_CAMERA_CHECK_INTERVAL", 300)
CAMERA_DOWN_AFTER = env_int("GOVPORTAL_CAMERA_DOWN_AFTER", 3)
CAMERA_UP_AFTER = env_int("GOVPORTAL_CAMERA_UP_AFTER", 2)
# A 16x16 average hash ignores small changes such as an overlaid clock, so a
# live camera on a still scene looks frozen for a while. Keep this long.
CAMERA_FROZEN_AFTER_SECONDS = env_int("GOVPORTAL_CAMERA_FROZEN_AFTER", 30 * 60)
CAMERA_NOTICE_DELAY_SECONDS = env_int("GOVPORTAL_CAMERA_NOTICE_DELAY", 300)
# Checks of one batch open at most this many connections to one host at a
# time. One agency host often serves all of its cameras (the Freeway Bureau's
# about 1,900), so the feed fetcher's limit of 4 would make a round too slow.
CAMERA_PER_HOST_LIMIT = env_int("GOVPORTAL_CAMERA_PER_HOST_LIMIT", 16)
# This many cameras of one host down within one check interval are one incident.
CAMERA_HOST_OUTAGE_MIN = env_int("GOVPORTAL_CAMERA_HOST_OUTAGE_MIN", 3)
# Single checks are kept this long for the admin; their sums per camera and
# day, which the status page reads, are kept longer.
CAMERA_CHECK_RETENTION_DAYS = env_int("GOVPORTAL_CAMERA_CHECK_RETENTION_DAYS", 14)
CAMERA_DAILY_STATS_RETENTION_DAYS = env_int(
    "GOVPORTAL_CAMERA_DAILY_STATS_RETENTION_DAYS", 400
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "aiohttp": {"level": "WARNING"},
        # The huey consumer installs its own handler.
        "huey": {"level": "INFO", "propagate": False},
    },
}
