"""ewsdash settings, read from the environment only (see README, "Configuration")."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from ewsdash.env import (
    broker_url,
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_path,
    env_prefixes,
    env_role_map,
    env_str,
)
from ewsdash.roles import ROLE_ORDER

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env_path("EWSDASH_VAR_DIR", BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _embedded_secret_key() -> str:
    """A random key kept under var/ so the embedded setup needs no configuration.

    Production sets DJANGO_SECRET_KEY; this file only ever lives on one machine.
    """
    path = VAR_DIR / "secret-key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(64))
    return path.read_text().strip()


def _embedded_audit_key() -> str:
    """Like the secret key: a random key under var/ for the embedded setup. Production sets
    EWSDASH_AUDIT_KEY from a secret store; the database never holds it."""
    path = VAR_DIR / "audit-key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


SECRET_KEY = (
    env_str("DJANGO_SECRET_KEY", "")
    if "DJANGO_SECRET_KEY" in os.environ
    else _embedded_secret_key()
)
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# Behind TLS (production): secure cookies, HSTS and redirects.
SECURE_HTTPS = env_bool("DJANGO_SECURE_HTTPS", False)
SECURE_SSL_REDIRECT = SECURE_HTTPS
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000 if SECURE_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HTTPS
SECURE_HSTS_PRELOAD = SECURE_HTTPS
if env_bool("DJANGO_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "ewsdash",
    "releases",
    "monitoring",
    "api",
    "notifications",
    "accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "ewsdash.middleware.HostileQueryMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

# A strict Content-Security-Policy: every script, style, image and font comes from this
# site; no inline script or handler (templates carry none: forms ask with data-confirm,
# static/js/confirm.js), no eval, no plugins, no framing, forms post only here.
# Plotly's figures style themselves through the CSSOM, which the policy allows; the few
# rules it would add in an inline <style> (modebar hover effects) are refused, and
# plotly.js says so in the console and carries on.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Sign-in throttling (django-axes): after this many failed attempts for one user name from
# one address, that pair is locked out (HTTP 429) for the cool-off time; a success resets.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("EWSDASH_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("EWSDASH_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Single sign-on callbacks try no password; see accounts.oidc.axes_exempt.
AXES_WHITELIST_CALLABLE = "accounts.oidc.axes_exempt"

# Single sign-on with OpenID Connect (README, "Single sign-on"), through mozilla-django-oidc:
# on when an issuer is set. The provider's endpoints come from its discovery document,
# fetched when someone first signs in (accounts/oidc.py); nothing else is ever contacted.
EWSDASH_OIDC_ISSUER = env_str("EWSDASH_OIDC_ISSUER", "").rstrip("/")
EWSDASH_OIDC_NAME = env_str("EWSDASH_OIDC_NAME", "your organisation's account")
EWSDASH_OIDC_USERNAME_CLAIM = env_str("EWSDASH_OIDC_USERNAME_CLAIM", "preferred_username")
EWSDASH_OIDC_GROUPS_CLAIM = env_str("EWSDASH_OIDC_GROUPS_CLAIM", "groups")
EWSDASH_OIDC_ROLE_MAP = env_role_map("EWSDASH_OIDC_ROLE_MAP", roles=ROLE_ORDER)
OIDC_RP_CLIENT_ID = env_str("EWSDASH_OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = env_str("EWSDASH_OIDC_CLIENT_SECRET", "")
OIDC_RP_SCOPES = env_str("EWSDASH_OIDC_SCOPES", "openid email profile")
OIDC_RP_SIGN_ALGO = env_str("EWSDASH_OIDC_SIGN_ALGO", "RS256")
OIDC_TIMEOUT = env_int("EWSDASH_OIDC_TIMEOUT", 10, minimum=1)
OIDC_USE_PKCE = True
OIDC_TOKEN_USE_BASIC_AUTH = True
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_callback"
if EWSDASH_OIDC_ISSUER:
    _issuer = urlsplit(EWSDASH_OIDC_ISSUER)
    if not _issuer.hostname or not (
        _issuer.scheme == "https"
        or (_issuer.scheme == "http" and _issuer.hostname in ("127.0.0.1", "localhost"))
    ):
        raise ImproperlyConfigured("EWSDASH_OIDC_ISSUER must be an https:// URL")
    if not (OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET and EWSDASH_OIDC_ROLE_MAP):
        raise ImproperlyConfigured(
            "EWSDASH_OIDC_ISSUER needs EWSDASH_OIDC_CLIENT_ID, EWSDASH_OIDC_CLIENT_SECRET "
            "and EWSDASH_OIDC_ROLE_MAP"
        )
    AUTHENTICATION_BACKENDS.append("accounts.oidc.OidcBackend")

ROOT_URLCONF = "ewsdash.urls"
WSGI_APPLICATION = "ewsdash.wsgi.application"

# The API docs' Swagger UI, from django-ninja's own files (not a CDN). Ninja is not an
# installed app: that would import it, and pydantic, in every command at start-up.
_NINJA_SPEC = importlib.util.find_spec("ninja")
if _NINJA_SPEC is None or not _NINJA_SPEC.origin:
    raise ImproperlyConfigured("django-ninja is not installed (pip install -r requirements.txt)")
_NINJA_DIR = Path(_NINJA_SPEC.origin).parent

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates", _NINJA_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ewsdash.context_processors.dashboard",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        "DATABASE_URL", env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'ewsdash.sqlite3'}")
    )
}
# The test database is a file, so a real worker process can share it.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "overview"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
# plotly.js is vendored as its cartesian bundle under static/vendor/ (no CDN), at the
# version plotly.py builds figures for (tests/test_plotly_bundle.py).
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("ninja", _NINJA_DIR / "static" / "ninja"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Serve straight from the finders when nobody ran collectstatic (the embedded setup).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Where ewsdash keeps its cache clones of governed repositories and its artifacts.
EWSDASH_CLONES_DIR = env_path("EWSDASH_CLONES_DIR", VAR_DIR / "clones")
EWSDASH_ARTIFACTS_DIR = env_path("EWSDASH_ARTIFACTS_DIR", VAR_DIR / "artifacts")
EWSDASH_SYNC_INTERVAL = env_int("EWSDASH_SYNC_INTERVAL", 300, minimum=1)
EWSDASH_GIT_TIMEOUT = env_int("EWSDASH_GIT_TIMEOUT", 600, minimum=5)
# How many per-branch `git rev-list` counts a sync runs side by side.
EWSDASH_GIT_WORKERS = env_int("EWSDASH_GIT_WORKERS", 4, minimum=1)
# Conventional-commit types that on their own need no release (docs-only: none proposed).
EWSDASH_NO_RELEASE_TYPES = frozenset(
    env_list("EWSDASH_NO_RELEASE_TYPES", ["docs", "chore", "ci", "test", "style"])
)
# Branch kinds by name prefix (releases.models.BranchKind has the same kinds). The
# defaults cover the VIEWS repositories' habits; a branch matching none is "other".
EWSDASH_BRANCH_PREFIXES = env_prefixes(
    "EWSDASH_BRANCH_PREFIXES",
    {
        "feature": ("feature/", "feat/"),
        "hotfix": ("hotfix/",),
        "fix": ("fix/", "bugfix/"),
        "release": ("release/",),
        "docs": ("docs/", "adr/"),
        "refactor": ("refactor/",),
        "experiment": ("exp/", "experiment/"),
    },
    kinds=("feature", "hotfix", "fix", "release", "docs", "refactor", "experiment"),
)
# Who ewsdash is in the commits and tags it writes (the promoting person is the author).
EWSDASH_GIT_NAME = env_str("EWSDASH_GIT_NAME", "ewsdash")
EWSDASH_GIT_EMAIL = env_str("EWSDASH_GIT_EMAIL", "ewsdash@localhost")
# The audit chain's anchors outside the database (releases/audit.py): every event's MAC
# uses this key, and each committed event's (seq, hash, MAC) is appended to this file.
EWSDASH_AUDIT_KEY = (
    env_str("EWSDASH_AUDIT_KEY", "") if "EWSDASH_AUDIT_KEY" in os.environ else _embedded_audit_key()
)
if len(EWSDASH_AUDIT_KEY) < 32:
    raise ImproperlyConfigured("EWSDASH_AUDIT_KEY must be at least 32 characters long.")
# PostgreSQL: the role the application runs as, granted its rights after every migrate
# (run as the owner); see releases/db_roles.py and README "PostgreSQL and Redis".
EWSDASH_DB_APP_ROLE = env_str("EWSDASH_DB_APP_ROLE", "")
EWSDASH_AUDIT_ANCHOR_FILE = env_path("EWSDASH_AUDIT_ANCHOR_FILE", VAR_DIR / "audit-anchors.jsonl")
# The OpenSSH private key that signs release attestations (and, where a repository asks,
# release tags); generated (ed25519, no passphrase) on first use when the file is missing.
# Rotate by pointing this at a new key: the old public keys stay in the database.
EWSDASH_ATTESTATION_KEY = env_path("EWSDASH_ATTESTATION_KEY", VAR_DIR / "attestation_ed25519")

# Webhooks in: each repository's secret is derived from this key (`manage.py webhook
# secret NAME` prints it); without it, from SECRET_KEY. Generic hooks must be signed
# within EWSDASH_WEBHOOK_MAX_AGE seconds of arriving.
EWSDASH_WEBHOOK_KEY = env_str(
    "EWSDASH_WEBHOOK_KEY",
    hashlib.sha256(f"ewsdash webhook key:{SECRET_KEY}".encode()).hexdigest(),
)
EWSDASH_WEBHOOK_MAX_AGE = env_int("EWSDASH_WEBHOOK_MAX_AGE", 300, minimum=10)

# Forges (releases/forge.py): GitHub's REST API root (GitHub Enterprise: https://HOST/api/v3)
# and the address people reach ewsdash at, for the links ewsdash leaves on the forge. A
# repository's token is read from the environment variable it names (forge_token_env).
EWSDASH_GITHUB_API_URL = env_str("EWSDASH_GITHUB_API_URL", "https://api.github.com")
EWSDASH_GITHUB_TIMEOUT = env_int("EWSDASH_GITHUB_TIMEOUT", 15, minimum=1)
EWSDASH_PUBLIC_URL = env_str("EWSDASH_PUBLIC_URL", "http://localhost:8000")

# Celery: a real worker in every mode. The database holds every job's state, so
# there is no result backend.
CELERY_BROKER_URL = broker_url("CELERY_BROKER_URL", f"sqla+sqlite:///{VAR_DIR / 'broker.sqlite3'}")
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is killed (hard limit) well before Redis would hand its message to a
# second worker (visibility timeout), so one task never runs twice at once.
CELERY_TASK_SOFT_TIME_LIMIT = env_int("EWSDASH_TASK_SOFT_TIME_LIMIT", 2 * 3600, minimum=60)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 300
EWSDASH_BROKER_VISIBILITY_TIMEOUT = CELERY_TASK_TIME_LIMIT + 3600
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Staging validation: a running check's worker writes a heartbeat this often; the reaper
# (run by beat) re-queues a check whose heartbeat is older than the timeout (its worker
# died), so nothing stays `running` for ever. See monitoring.reaper.
EWSDASH_CHECK_HEARTBEAT_INTERVAL = env_int("EWSDASH_CHECK_HEARTBEAT_INTERVAL", 10, minimum=1)
EWSDASH_CHECK_HEARTBEAT_TIMEOUT = env_int(
    "EWSDASH_CHECK_HEARTBEAT_TIMEOUT", 12 * EWSDASH_CHECK_HEARTBEAT_INTERVAL, minimum=2
)
EWSDASH_REAPER_INTERVAL = env_int("EWSDASH_REAPER_INTERVAL", 60, minimum=1)
# The sandbox every check's command runs in (monitoring.validation.sandbox): "bwrap"
# (bubblewrap; a worker without it refuses to run checks) or "none" (the operator's
# explicit opt-out: `check --deploy` reports it and every page shows a warning).
EWSDASH_SANDBOX = env_str("EWSDASH_SANDBOX", "bwrap").lower()
if EWSDASH_SANDBOX not in ("bwrap", "none"):
    raise ImproperlyConfigured(f'EWSDASH_SANDBOX must be "bwrap" or "none": {EWSDASH_SANDBOX!r}')
# The bubblewrap program (a name looked up on PATH, or a path).
EWSDASH_BWRAP = env_str("EWSDASH_BWRAP", "bwrap")
# Folders every check may read (read-only, at their own path), besides the worker's Python
# and the ones registered for its repository: comma-separated absolute paths.
EWSDASH_SANDBOX_MOUNTS = env_list("EWSDASH_SANDBOX_MOUNTS", [])
# The key that encrypts repositories' check secrets (issue 17), never in the database:
# Fernet keys, comma-separated (the first encrypts, every one decrypts: put a new key
# first to rotate), or a file holding one key a line. Neither: secrets cannot be set.
EWSDASH_SECRETS_KEY = env_str("EWSDASH_SECRETS_KEY", "")
EWSDASH_SECRETS_KEY_FILE = env_str("EWSDASH_SECRETS_KEY_FILE", "")
# A git operation (promote, rollback, hotfix cut, back-merge) whose worker has been silent
# this long is settled by what the origin shows (releases.operation_runner). It must exceed
# the longest single git command (the git timeout), or a slow push could be judged dead.
EWSDASH_OPERATION_STALE_AFTER = env_int(
    "EWSDASH_OPERATION_STALE_AFTER", EWSDASH_GIT_TIMEOUT + 60, minimum=1
)
# Notifications (README, "Notifications"): links in messages start with EWSDASH_PUBLIC_URL; a
# failed delivery is tried again after RETRY_BASE seconds, doubling, MAX_ATTEMPTS in all;
# a worker's claim on a delivery lapses after LEASE seconds (it died) and is taken again.
EWSDASH_NOTIFY_RETRY_BASE = env_int("EWSDASH_NOTIFY_RETRY_BASE", 30, minimum=1)
EWSDASH_NOTIFY_MAX_ATTEMPTS = env_int("EWSDASH_NOTIFY_MAX_ATTEMPTS", 6, minimum=1)
EWSDASH_NOTIFY_LEASE = env_int("EWSDASH_NOTIFY_LEASE", 300, minimum=10)
# People's own e-mails and channels' e-mail lists go through this apprise mail URL (no
# `to`: ewsdash adds the addresses); empty: nobody is e-mailed personally.
EWSDASH_NOTIFY_EMAIL_URL = env_str("EWSDASH_NOTIFY_EMAIL_URL", "")
# A channel or webhook whose last this-many attempts all failed is flagged on the Overview.
EWSDASH_NOTIFY_FAILING_AFTER = env_int("EWSDASH_NOTIFY_FAILING_AFTER", 3, minimum=1)
# Schemes a person may use for their own chat URL (apprise): chat services only, by
# default, so that no one with a role can make the worker post to an arbitrary address
# (json://, form://, xml:// and mail servers are for admins' channels).
EWSDASH_NOTIFY_PERSONAL_SCHEMES = env_list(
    "EWSDASH_NOTIFY_PERSONAL_SCHEMES",
    [
        "slack",
        "msteams",
        "discord",
        "tgram",
        "gchat",
        "matrixs",
        "mmosts",
        "rockets",
        "zulip",
        "ntfys",
    ],
)
# Outgoing webhooks: seconds before a POST is abandoned; their secrets are stored encrypted
# (Fernet) under this key, derived from SECRET_KEY unless set. Changing it makes every
# stored webhook secret unreadable (set them again).
EWSDASH_OUTGOING_WEBHOOK_TIMEOUT = env_int("EWSDASH_OUTGOING_WEBHOOK_TIMEOUT", 10, minimum=1)
EWSDASH_NOTIFY_SECRET_KEY = env_str(
    "EWSDASH_NOTIFY_SECRET_KEY",
    hashlib.sha256(f"ewsdash notify secret key:{SECRET_KEY}".encode()).hexdigest(),
)
# Realized skill (README, "Realized skill"): beat scores production releases' forecasts
# against newly arrived or revised outcomes this often; twCRPS weighs outcomes above the
# threshold (v(x) = max(x, t), in the target's units).
EWSDASH_SKILL_INTERVAL = env_int("EWSDASH_SKILL_INTERVAL", 600, minimum=10)
try:
    EWSDASH_SKILL_TWCRPS_THRESHOLD = float(env_str("EWSDASH_SKILL_TWCRPS_THRESHOLD", "25"))
except ValueError as error:
    raise ImproperlyConfigured(
        f"EWSDASH_SKILL_TWCRPS_THRESHOLD must be a number: {error}"
    ) from None
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "repositories-sync-all": {
        "task": "releases.tasks.repositories_sync_all",
        "schedule": float(EWSDASH_SYNC_INTERVAL),
    },
    "validation-reap-stale": {
        "task": "monitoring.tasks.validation_reap_stale",
        "schedule": float(EWSDASH_REAPER_INTERVAL),
    },
    "operations-reap-stale": {
        "task": "releases.tasks.operations_reap_stale",
        "schedule": float(EWSDASH_REAPER_INTERVAL),
    },
    "candidates-catch-up": {
        "task": "releases.tasks.candidates_catch_up",
        "schedule": float(EWSDASH_REAPER_INTERVAL),
    },
    "skill-ledger-update": {
        "task": "monitoring.tasks.skill_ledger_update_all",
        "schedule": float(EWSDASH_SKILL_INTERVAL),
    },
    "backports-flag-overdue": {
        "task": "releases.tasks.backports_flag_overdue",
        "schedule": 3600.0,
    },
    "deliveries-resend-due": {
        "task": "notifications.tasks.deliveries_resend_due",
        "schedule": float(EWSDASH_REAPER_INTERVAL),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"forbidden_one_line": {"()": "ewsdash.logs.ForbiddenWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["forbidden_one_line"]}},
    "root": {"handlers": ["console"], "level": env_str("EWSDASH_LOG_LEVEL", "INFO")},
    # django-axes logs every sign-in at INFO; failures and lock-outs are warnings.
    "loggers": {"axes": {"level": "WARNING"}},
}
