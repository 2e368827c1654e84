"""One settings module, read from the environment.

Development needs no environment at all; production (DEBUG off) refuses to
start without a real SECRET_KEY, DATABASE_URL, REDIS_URL and EMAIL_URL.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import sys
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, SELF
from django.contrib.messages import constants as message_levels
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
TESTING = env.bool("CIAM_TESTING", default="pytest" in sys.modules)

_DEV_SECRET = "dev-only-insecure-secret-key-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET if (DEBUG or TESTING) else "")
if not SECRET_KEY or (SECRET_KEY == _DEV_SECRET and not (DEBUG or TESTING)):
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
if not (DEBUG or TESTING):
    # Each has a development fallback that production must never get silently: a local
    # database, a per-process cache (lockouts and limits per process) with tasks run in the
    # request, and mail printed to stdout (reset links, sign-in codes, invitation tokens).
    for _name in ("DATABASE_URL", "REDIS_URL", "EMAIL_URL"):
        if not env.str(_name, default=""):
            raise ImproperlyConfigured(f"{_name} must be set when DEBUG is off.")

# Django's debug page (DEBUG on) lists every setting and the request's environment: these
# hold credentials (database, Redis, SMTP and broker URLs) and are shown masked.
DEFAULT_EXCEPTION_REPORTER_FILTER = "ciam.debug.CredentialsHiddenFilter"

# The bare platform host; tenants live at <slug>.<BASE_DOMAIN>.
BASE_DOMAIN = env.str("BASE_DOMAIN", default="localhost")
# Scheme and port used when we build absolute links (emails, issuer URLs).
PUBLIC_SCHEME = env.str("PUBLIC_SCHEME", default="http" if DEBUG or TESTING else "https")
PUBLIC_PORT = env.str("PUBLIC_PORT", default="")

# Every host is accepted by Django; the tenant middleware answers unknown hosts
# with a plain 404, so host validation happens against the Domain table.
ALLOWED_HOSTS = ["*"]
USE_X_FORWARDED_HOST = False
if env.bool("TRUST_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies of ours stand in front of the app. The client address is then the one the
# outermost of them appended to X-Forwarded-For; 0 means the peer address (no proxy). Rate
# limits and lockout per IP depend on it: behind a proxy with 0, every client shares one IP.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

# Apps served from the public schema (the platform operator's world).
SHARED_APPS = [
    "django_tenants",  # schema routing; must come first
    "tenants",  # Tenant and Domain live in public
    "django.contrib.contenttypes",  # needed by auth in both worlds
    "django.contrib.auth",  # platform operators are public-schema users
    "django.contrib.sessions",  # operator sessions on the base domain
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django.forms",  # its widget templates, for FORM_RENDERER on our template engine
    "accounts",  # the user model also serves platform operators
    "audit",  # operator actions (suspend, delete tenant) are audited too
    "operators",  # operators' authenticator apps and recovery codes (public schema only)
    "domains",  # custom domains and their reservations: claims across tenants, next to Domain
    # Their middleware runs on every host, so their tables exist in public too.
    "allauth",
    "allauth.account",
    "accounts.apps.UserSessionsConfig",  # allauth.usersessions with our sign-in handler
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "ciam",  # project-wide template tags (form fields)
    "django_htmx",
    "template_partials",
    "django_tables2",
    "django_filters",
    "csp",
]

# Apps whose tables exist once per tenant schema: every identity lives here.
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "accounts",  # tenant users, user flows, sign-in log
    "audit",  # the tenant's audit log
    "allauth",
    "allauth.account",  # sign-up, sign-in, email codes, password reset
    "accounts.apps.UserSessionsConfig",  # allauth.usersessions: "sign out other sessions"
    "django_otp",  # MFA devices
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "oidc",  # app registrations, signing keys; its Application replaces oauth2_provider's
    "oauth2_provider",  # per-tenant OpenID Connect provider
    "groups",  # security groups: members, owners, app roles given to members
    "branding",  # per-tenant look of hosted pages and emails
    "guests",  # B2B invitations
    "emails",  # the outbox of every email, written in the tenant's own transaction
    "console",  # tenant admin console shell
    "mfa",  # second factors (our django-otp devices, secrets sealed) and the MFA policy
    "conditional_access",  # the tenant's conditional access policies and named locations
    # Federation: each tenant's identity providers, the accounts linked to them (allauth's
    # SocialAccount, keyed by provider and subject) and their configuration (federation).
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.microsoft",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.apple",  # Sign in with Apple
    "allauth.socialaccount.providers.facebook",
    "allauth.socialaccount.providers.saml",  # SAML 2.0 IdPs (python3-saml, xmlsec)
    "federation",
    "insights",  # the tenant's daily usage roll-ups (Console > Overview and Insights)
]

INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_URLCONF = "ciam.urls_public"
ROOT_URLCONF = "ciam.urls_tenant"
# Name of the schema kept migrated as the source of fast tenant provisioning.
TENANT_TEMPLATE_SCHEMA = "tenant_template"


def _pgserver_pg_dump() -> str:
    """The pg_dump bundled with the pgserver package (a development dependency), if any."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        return ""
    bundled = Path(spec.origin).parent / "pginstall" / "bin" / "pg_dump"
    return str(bundled) if bundled.exists() else ""


# pg_dump renders the template schema into the provisioning script (tenants/provisioning.py);
# its major version must be the server's or newer. Production installs postgresql-client
# (or sets PG_DUMP); development without one on PATH falls back to the embedded server's own.
PG_DUMP = (
    env.str("PG_DUMP", default="")
    or shutil.which("pg_dump")
    or (_pgserver_pg_dump() if DEBUG or TESTING else "")
)

MIDDLEWARE = [
    "ciam.metrics.MetricsMiddleware",  # times every request, by route (ciam/metrics.py)
    "ciam.middleware.RequestIdMiddleware",  # first, so every log line can carry the request id
    "django.middleware.security.SecurityMiddleware",  # headers on every answer, 404s included
    "ciam.middleware.HealthMiddleware",  # answers /healthz and /readyz before tenant lookup
    "tenants.middleware.TenantMiddleware",  # host -> tenant (cached), 404 for unknown hosts
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After the signed-in user: ui_locales, the switcher, the user's saved language,
    # Accept-Language, then the tenant's default (ciam/locale.py).
    "ciam.locale.LanguageMiddleware",
    "ciam.middleware.OTPMiddleware",  # django-otp's, the verified device read when asked
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ciam.middleware.ContentSecurityPolicyMiddleware",
    # NUL, lone surrogates, undecodable bytes: 400 before anything reads the request's data,
    # inside the tenant, language and security headers so that the page has the product's look.
    "ciam.bad_input.BadInputMiddleware",
    # After the CSP middleware, so that its answer is seen first: adds an app's redirect URI
    # to `form-action` on the pages of a sign-in for that app (ciam/csp.py).
    "oidc.form_action.SignInForAppMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
]

# Machine-to-machine endpoints authenticate each call (client secret, bearer token, API key):
# they skip the browser middleware (sessions, CSRF, messages, signed-in user, allauth).
# ciam.handlers sends these paths through API_MIDDLEWARE when served by ciam.wsgi.
API_PATH_PREFIXES = [
    "/o/token/",
    "/o/.well-known/",
    "/o/userinfo/",
    "/o/revoke/",
    "/o/introspect/",
    "/api/",
]
API_MIDDLEWARE = [
    "ciam.metrics.MetricsMiddleware",  # times every request, by route (ciam/metrics.py)
    "ciam.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "tenants.middleware.TenantMiddleware",
    "django.middleware.common.CommonMiddleware",
    # A fixed CSP and X-Frame-Options for JSON answers (in place of the two of MIDDLEWARE).
    "ciam.handlers.ApiSecurityHeadersMiddleware",
    "ciam.bad_input.BadInputMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",  # LANGUAGE_CODE, LANGUAGE_BIDI
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "ciam.context_processors.platform",
                "branding.context_processors.branding",  # the tenant's published look
            ],
        },
    },
]

# Every form: Django's renderer on TEMPLATES with one field template (templates/forms/).
FORM_RENDERER = "ciam.forms.FormRenderer"
# Message levels as Bootstrap's alert classes (templates/includes/messages.html); info,
# success and warning share their names.
MESSAGE_TAGS = {message_levels.DEBUG: "secondary", message_levels.ERROR: "danger"}

WSGI_APPLICATION = "ciam.wsgi.application"

DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/ciam"),
}
# Our backend: django-tenants' backend that only sends SET search_path when it changes.
DATABASES["default"]["ENGINE"] = "ciam.db"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A connection that has served this many different tenants is closed at the end of its
# request or task (ciam/db: PostgreSQL's per-connection caches grow with each tenant schema
# touched; 0 = no bound but CONN_MAX_AGE). docs/deployment.md.
DATABASES["default"]["TENANTS_PER_CONNECTION"] = env.int(
    "DATABASE_TENANTS_PER_CONNECTION", default=200
)
# Behind PgBouncer in transaction mode: each transaction carries its search_path (ciam/db),
# and no server-side cursor outlives a statement (Django's documented pooler setting).
DATABASES["default"]["POOLED"] = env.bool("DATABASE_POOLED", default=False)
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = DATABASES["default"]["POOLED"]
if TESTING:
    # One test database name per test run (pytest-xdist adds `_gw0`...): two runs on the
    # machine never drop each other's database. Subprocesses inherit the run's name.
    _test_run = os.environ.setdefault("CIAM_TEST_RUN", os.urandom(4).hex())
    DATABASES["default"]["TEST"] = {"NAME": f"test_ciam_{_test_run}"}
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# /readyz keeps its migrations finding this long per process (ciam.health).
READINESS_MIGRATIONS_SECONDS = env.float("READINESS_MIGRATIONS_SECONDS", default=10.0)
READINESS_MIGRATIONS_CHECK = "tenants.migration_executor.migrations_ready"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
_TEST_BROKER_URL = ""
if TESTING and "CIAM_TEST_REDIS_URL" not in os.environ:
    # Each pytest process claims two Redis databases no other process holds, one for the cache
    # (lockouts, limits), which the tests empty before each test, and one for the Celery
    # queue, which keeps a worker's tasks: another test run or `make run` never shares them.
    from ciam.test_resources import redis_database_claim

    REDIS_URL = redis_database_claim("redis://127.0.0.1:6379")
    _TEST_BROKER_URL = redis_database_claim("redis://127.0.0.1:6379")
elif TESTING:
    REDIS_URL = os.environ["CIAM_TEST_REDIS_URL"]
    _TEST_BROKER_URL = os.environ.get("CIAM_TEST_BROKER_URL", "")
# `make run` without Redis sets REDIS_URL to an empty string: the same cache client on an
# in-process fake Redis (fakeredis, a development requirement), and eager tasks. The lockout
# relies on Redis (pipelines, locks, a Lua script): it has one code path either way.
CACHES = {
    "default": {
        # django-redis, answering from memory while Redis is unreachable (ciam/cache.py).
        "BACKEND": "ciam.cache.ResilientRedisCache",
        "LOCATION": REDIS_URL or "redis://in-process/0",
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="ciam"),
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
    }
}
# While Redis is unreachable the cache answers from memory and tries Redis again this often.
CACHE_OUTAGE_RETRY_SECONDS = env.float("CACHE_OUTAGE_RETRY_SECONDS", default=2.0)
if not REDIS_URL:
    from fakeredis import FakeRedisConnection

    CACHES["default"]["OPTIONS"]["CONNECTION_POOL_KWARGS"] = {
        "connection_class": FakeRedisConnection
    }

AUTH_USER_MODEL = "accounts.User"
# One backend: one user lookup and exactly one password hash per attempt (ModelBackend next to
# allauth's would hash a wrong password twice).
AUTHENTICATION_BACKENDS = ["accounts.sign_in.backend.EmailBackend"]
# One hasher per algorithm name: Django picks the last one listed for "argon2", so listing
# Django's own Argon2PasswordHasher here would verify every argon2 hash with it.
PASSWORD_HASHERS = [
    "accounts.sign_in.hasher.TunedArgon2PasswordHasher",  # also verifies other argon2 parameters
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "accounts.validators.TenantPasswordPolicyValidator"},
]
# The lowest zxcvbn score (0 to 4) a new password may have (accounts.validators); 3 is
# "safely unguessable" against an offline attack on a slow hash.
PASSWORD_MIN_STRENGTH = env.int("PASSWORD_MIN_STRENGTH", default=3)

# Every console list renders through our one table template (console/lists.py).
DJANGO_TABLES2_TEMPLATE = "console/table.html"

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/account/"

# Database sessions written with one statement per change (ciam/sessions.py).
SESSION_ENGINE = "ciam.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Anonymous sessions (a sign-in in progress); a signed-in one ends at the absolute and idle
# times of the tenant's user flow, fixed at sign-in (ciam/sessions.py).
SESSION_COOKIE_AGE = env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 3600)
SESSION_COOKIE_SECURE = not DEBUG and not TESTING
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG and not TESTING)
# Probes and Prometheus reach the server directly over plain HTTP on the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = 0 if DEBUG or TESTING else 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "form-action": [SELF],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

LANGUAGE_CODE = "en"
# Each name in its own language: the switcher lists them for people who read only theirs.
# A language added here needs its catalogue under locale/ (`make messages`, README).
LANGUAGES = [
    ("en", "English"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("es", "Español"),
    ("pt-br", "Português (Brasil)"),
    ("ja", "日本語"),
    ("ar", "العربية"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The hosted pages' language switcher remembers the choice of this browser (ciam/locale.py).
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / ".data" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Django's, each URL worked out once per process (ciam/static_files.py).
    "staticfiles": {"BACKEND": "ciam.static_files.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / ".data" / "media")
MEDIA_URL = "/media/"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="no-reply@localhost")

# Celery: Redis broker; tasks carry the schema of the tenant that queued them.
# The broker may live apart from the cache (and tests point it at a closed port).
CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL", default=_TEST_BROKER_URL or REDIS_URL or "memory://"
)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Three queues (README, "Background work"): "interactive" for the emails a person waits for
# on a page (sign-in and MFA codes, resets, verification, redemption codes), "invitations",
# and "bulk" for everything else (bulk uploads and their emails, exports, beat's maintenance).
# A worker started without -Q consumes all three; production runs a pool per queue.
CELERY_TASK_QUEUES = [Queue("interactive"), Queue("invitations"), Queue("bulk")]
CELERY_TASK_DEFAULT_QUEUE = "bulk"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULE = {
    # Re-queue outbox emails and bulk uploads whose task was lost (broker down, worker crash).
    "emails-outbox-relay": {"task": "emails.tasks.outbox_relay_all", "schedule": 60.0},
    "guests-bulk-relay": {"task": "guests.tasks.bulk_invitation_relay_all", "schedule": 60.0},
    "accounts-import-relay": {"task": "accounts.tasks.user_import_relay_all", "schedule": 60.0},
    # Expire invitations, remind sponsors, disable guests whose access ended.
    "guests-governance": {"task": "guests.tasks.governance_all", "schedule": 3600.0},
    # Users deleted 30 days ago are purged (accounts.lifecycle.deleted_users_purge).
    "accounts-deleted-users-purge": {
        "task": "accounts.tasks.deleted_users_purge_all",
        "schedule": 3600.0,
    },
    # Sign-in log exports hold personal data: gone after accounts.services.EXPORT_KEEP_DAYS.
    "accounts-exports-forget": {
        "task": "audit.tasks.sign_in_exports_forget_all",
        "schedule": 86400.0,
    },
    # Each tenant's usage figures of the finished day (UTC), soon after midnight.
    "insights-roll-up": {
        "task": "insights.tasks.roll_up_all",
        "schedule": crontab(hour=0, minute=10),
    },
    # Sign-in and audit log rows older than each tenant keeps them, after the roll-up.
    "audit-logs-prune": {
        "task": "audit.tasks.logs_prune_all",
        "schedule": crontab(hour=1, minute=0),
    },
    # Codes, refresh and access tokens and signing keys past their time (oidc.tasks).
    "oidc-tokens-cleanup": {
        "task": "oidc.tasks.tokens_cleanup_all",
        "schedule": crontab(hour=1, minute=30),
    },
    # SAML IdPs' metadata read again from their URLs: a key rollover's new certificate is
    # used before the IdP signs with it (federation.tasks).
    "federation-saml-metadata-refresh": {
        "task": "federation.tasks.saml_metadata_refresh_all",
        "schedule": crontab(hour=2, minute=0),
    },
}
# Celery's exponential backoff (whole seconds, full jitter) before an email is tried again
# after an SMTP 4xx or a broken connection: the first wait is up to EMAIL_RETRY_SECONDS, each
# next one up to twice the last, never more than EMAIL_RETRY_MAX_SECONDS (emails.tasks).
EMAIL_RETRY_SECONDS = env.int("EMAIL_RETRY_SECONDS", default=30)
EMAIL_RETRY_MAX_SECONDS = env.int("EMAIL_RETRY_MAX_SECONDS", default=1 if TESTING else 1920)
# What requests may make the guests pages do, in allauth's rate format (see
# ACCOUNT_RATE_LIMITS below), counted by ciam.ratelimit in tenant-scoped cache keys
# (guests.services.limits). "key" is the invited address, "user" the admin who asks.
GUEST_RATE_LIMITS = {
    # Invitations created with an email, from the console and the API.
    "invitation": env.str("RATE_LIMIT_INVITATION_EMAILS", default="3/h/key,10/d/key,100/h/ip"),
    # Invitations members (and guests, if allowed) send from the hosted pages.
    "hosted_invitation": env.str(
        "RATE_LIMIT_HOSTED_INVITATION_EMAILS", default="3/h/key,10/d/key,20/h/ip"
    ),
    # "Resend" in the console: a fresh link to the same address.
    "invitation_resend": env.str(
        "RATE_LIMIT_INVITATION_RESENDS", default="3/h/key,10/d/key,100/h/ip,30/h/user"
    ),
    # Redemption codes, per invited address and per IP address.
    "redemption_code": env.str("RATE_LIMIT_REDEMPTION_CODE_EMAILS", default="5/30m/key,30/h/ip"),
    # Unknown, used, expired or revoked invitation links opened from one IP address (links
    # that work always open).
    "invitation_link_failure": env.str("RATE_LIMIT_INVITATION_LINK_FAILURES", default="20/15m/ip"),
}

# Emails admins make the platform send to a user from the console or the directory API
# (accounts.lifecycle), in allauth's format: "key" is the person's address, "user" the admin.
USER_ADMIN_RATE_LIMITS = {
    "password_reset": env.str(
        "RATE_LIMIT_ADMIN_PASSWORD_RESETS", default="3/h/key,10/d/key,200/h/user"
    ),
}

# MFA (mfa/). Authenticator app secrets are sealed with keys derived from these long random
# strings: the first seals, all open (rotation: put a new one first, run mfa_secrets_reseal, then
# drop the old one). Unset, they derive from SECRET_KEY (and SECRET_KEY_FALLBACKS).
MFA_ENCRYPTION_KEYS = env.list("MFA_ENCRYPTION_KEYS", default=[])
# Seconds to wait after a wrong second-factor code, doubling with each further one
# (django-otp's ThrottlingMixin); the failures also count toward the smart lockout.
MFA_THROTTLE_FACTOR = env.int("MFA_THROTTLE_FACTOR", default=1)
# Email codes as a second factor, per account ("key") and per IP address, in allauth's format.
MFA_RATE_LIMITS = {
    "email_code": env.str("RATE_LIMIT_MFA_EMAIL_CODES", default="5/15m/key,20/h/ip"),
}

# Federation (federation/). allauth's social accounts, configured per tenant in the console:
# the adapter serves each tenant's identity providers to allauth (federation.adapter).
SOCIALACCOUNT_ADAPTER = "federation.adapter.SocialAccountAdapter"
# Never sign in to, nor connect to, an existing account because an upstream says it has the
# same email (nOAuth, SECURITY.md 29): linking asks the account's owner (federation.views).
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_AUTO_SIGNUP = True
# A first sign-in's page asking what the IdP did not supply (federation.forms).
SOCIALACCOUNT_FORMS = {"signup": "federation.forms.SocialSignupForm"}
SOCIALACCOUNT_LOGIN_ON_GET = False  # the buttons POST (CSRF); a GET shows a confirm page
SOCIALACCOUNT_STORE_TOKENS = False  # upstream tokens are not kept
SOCIALACCOUNT_QUERY_EMAIL = True
SOCIALACCOUNT_REQUESTS_TIMEOUT = env.int("FEDERATION_HTTP_TIMEOUT", default=5)
# An identity provider reached over http, or on a loopback host (`*.localhost` included,
# RFC 6761), only in development and tests; production asks for https on a public host.
# How long a process keeps an IdP's discovery document and JWKS for sign-ins (federation.http).
FEDERATION_METADATA_SECONDS = env.int("FEDERATION_METADATA_SECONDS", default=300)
FEDERATION_ALLOW_LOOPBACK_IDPS = env.bool(
    "FEDERATION_ALLOW_LOOPBACK_IDPS", default=DEBUG or TESTING
)
# Tests: a built-in provider's fixed host (appleid.apple.com, graph.facebook.com, ...) sent
# to a stand-in on loopback, {"host": "127.0.0.1:port"}; honoured only with the setting above
# (federation.http.host_override).
FEDERATION_IDP_HOST_OVERRIDES: dict[str, str] = {}

# allauth: email is the identifier.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
# Sign-up always waits for the emailed link (so that it answers alike for new and registered
# emails); whether later sign-ins need a verified email is each tenant's user-flow choice,
# applied by accounts.sign_in.stages.EmailVerificationStage.
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CHANGE_EMAIL = True  # one address per user; a change is verified before it applies
ACCOUNT_EMAIL_NOTIFICATIONS = True  # notices after password and email changes
ACCOUNT_REAUTHENTICATION_REQUIRED = True  # email change and account deletion ask again
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 600  # PRODUCT.md: 6 digits, 10 minutes, 5 attempts
ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS = 5
ACCOUNT_LOGIN_BY_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}
ACCOUNT_FORMS = {
    "login": "accounts.forms.LoginForm",
    "signup": "accounts.forms.SignupForm",
    "request_login_code": "accounts.forms.RequestLoginCodeForm",
    "confirm_login_code": "accounts.forms.ConfirmLoginCodeForm",
    "add_email": "accounts.forms.AddEmailForm",
    "change_password": "accounts.forms.ChangePasswordForm",
    "set_password": "accounts.forms.SetPasswordForm",
    "reset_password_from_key": "accounts.forms.ResetPasswordKeyForm",
    "reauthenticate": "accounts.forms.ReauthenticateForm",
}
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_ADAPTER = "accounts.sign_in.adapter.AccountAdapter"
# allauth's rate limits ("amount/period/per", several joined by commas), counted in the cache,
# whose keys are tenant-scoped (django_tenants.cache.make_key). Every action that sends an email
# is limited per recipient ("key": known and unknown addresses alike, so the answer tells
# nothing) and per IP address. Failed sign-ins are counted by accounts.sign_in.lockout (smart
# lockout), not by allauth's "login" and "login_failed" limits.
ACCOUNT_RATE_LIMITS = {
    "login": "",
    "login_failed": "",
    # Emailed sign-in codes.
    "request_login_code": env.str(
        "RATE_LIMIT_SIGN_IN_CODE_EMAILS", default="60/h/ip,3/15m/key,10/d/key"
    ),
    # "Forgot your password?" emails.
    "reset_password": env.str(
        "RATE_LIMIT_PASSWORD_RESET_EMAILS", default="60/h/ip,3/15m/key,10/d/key"
    ),
    # Verification links, and the "an account already exists" notice of a sign-up with a
    # registered address: extra ones are skipped silently (the answer stays the same, the
    # links already sent still work).
    "confirm_email": env.str("RATE_LIMIT_VERIFICATION_EMAILS", default="2/10m/key,10/d/key"),
    "signup": env.str("RATE_LIMIT_SIGN_UPS", default="60/h/ip"),
}
# Sessions are recorded at sign-in; tracking "last seen" would cost four queries and a write
# on every signed-in request.
USERSESSIONS_TRACK_ACTIVITY = False

# Observability (README, "Observability"). `/metrics` answers a client on a loopback or
# private network address (METRICS_PRIVATE_NETWORKS, on by default) or one sending
# `Authorization: Bearer <METRICS_TOKEN>`; anyone else gets 403.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_PRIVATE_NETWORKS = env.bool("METRICS_PRIVATE_NETWORKS", default=True)
# "text" (one line per record, key=value context) or "json" (one JSON object per line with
# time, level, logger, message, tenant and request_id: ciam.log_redaction.JsonFormatter).
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be text or json.")
if LOG_FORMAT == "json":
    # Python's warnings (a library's UserWarning) would print as plain text: as records.
    logging.captureWarnings(True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "tenant_context": {"()": "ciam.log_redaction.TenantContextFilter"},
        "url_secrets": {"()": "ciam.log_redaction.UrlSecretsFilter"},
    },
    "formatters": {
        "event": {
            "format": "%(asctime)s %(levelname)s %(name)s tenant=%(tenant)s "
            "request_id=%(request_id)s %(message)s"
        },
        "json": {"()": "ciam.log_redaction.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "event",
            "filters": ["tenant_context", "url_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.security.DisallowedHost": {"handlers": [], "propagate": False},
        # Both log request paths, which may carry an invitation token or a reset key.
        "django.request": {"filters": ["url_secrets"]},
        "django.server": {"handlers": ["console"], "filters": ["url_secrets"], "propagate": False},
    },
}

# A deleted tenant's slug (its hosts, its issuer) stays reserved this long, so that old links
# and relying parties trusting its issuer never reach a stranger; an operator may release one.
TENANT_SLUG_QUARANTINE_DAYS = env.int("TENANT_SLUG_QUARANTINE_DAYS", default=90)
# Tenants the platform page lets one IP address create per window.
TENANT_CREATE_LIMIT_PER_IP = env.int("TENANT_CREATE_LIMIT_PER_IP", default=5)
TENANT_CREATE_LIMIT_WINDOW_SECONDS = env.int("TENANT_CREATE_LIMIT_WINDOW_SECONDS", default=3600)
# Attempts from one IP address in the same window, refused ones included: each costs the
# checks and a password hash (tenants.services.tenant_create).
TENANT_CREATE_ATTEMPTS_PER_IP = env.int("TENANT_CREATE_ATTEMPTS_PER_IP", default=30)

# Custom domains (domains/, README "Custom domains"). The TXT check asks this DNS server
# (address and port) instead of the system's resolvers when set: a recursive resolver of
# yours in production if the system's caches too long; tests point it at a DNS server on
# loopback.
DNS_RESOLVER_ADDRESS = env.str("DNS_RESOLVER_ADDRESS", default="")
DNS_RESOLVER_PORT = env.int("DNS_RESOLVER_PORT", default=53)
DNS_RESOLVER_TIMEOUT_SECONDS = env.float("DNS_RESOLVER_TIMEOUT_SECONDS", default=5.0)
# A check that does not find the record is tried again after DOMAIN_VERIFICATION_RETRY_SECONDS,
# each next wait twice the last (at most DOMAIN_VERIFICATION_RETRY_MAX_SECONDS), until
# DOMAIN_VERIFICATION_TRIES tries in all: by default over about four hours, then "failed".
DOMAIN_VERIFICATION_TRIES = env.int("DOMAIN_VERIFICATION_TRIES", default=8)
DOMAIN_VERIFICATION_RETRY_SECONDS = env.float("DOMAIN_VERIFICATION_RETRY_SECONDS", default=120)
DOMAIN_VERIFICATION_RETRY_MAX_SECONDS = env.float(
    "DOMAIN_VERIFICATION_RETRY_MAX_SECONDS", default=3600
)
# The file check's port (80, as ACME's http-01; tests serve the file elsewhere) and whether
# the host may point to private and loopback addresses (development and tests only).
DOMAIN_VERIFICATION_HTTP_PORT = env.int("DOMAIN_VERIFICATION_HTTP_PORT", default=80)
DOMAIN_VERIFICATION_ALLOW_PRIVATE_ADDRESSES = env.bool(
    "DOMAIN_VERIFICATION_ALLOW_PRIVATE_ADDRESSES", default=DEBUG or TESTING
)
# A removed custom domain stays reserved for its tenant this long: nobody else may add it.
DOMAIN_REMOVED_RESERVATION_DAYS = env.int("DOMAIN_REMOVED_RESERVATION_DAYS", default=30)

# Called (tenant=..., admin=...) inside the new tenant's schema and transaction when a
# tenant is provisioned: each feature adds what belongs to that tenant (the first admin's
# address, a usable signing key) here instead of editing tenant_create.
TENANT_DEFAULTS: list[str] = [
    "accounts.services.tenant_admin_email_address_create",
    "oidc.services.tenant_signing_keys_create",
]
# Called () inside each spare schema as it is made, and in a schema the template script makes
# when no spare is ready (tenants.provisioning): what belongs to no tenant yet (the default
# user flow and guest settings, the first signing key, slow to generate). TENANT_DEFAULTS
# hooks find it there.
TENANT_SPARE_DEFAULTS: list[str] = [
    "oidc.services.spare_signing_key_create",
    "accounts.services.spare_user_flow_create",
    "guests.services.policy.spare_guest_settings_create",
]

SILENCED_SYSTEM_CHECKS = [
    # Email uniqueness is enforced case-insensitively by the user_email_unique_ci constraint.
    "auth.W004",
    # `http` redirect URIs are accepted only for loopback hosts (native and development apps,
    # RFC 8252); the app registration validates that, so the scheme must stay allowed.
    "oauth2_provider.W008",
]

# django-oauth-toolkit, following RFC 9700 (OAuth 2.0 Security BCP) from the start.
# Every tenant is its own issuer: the issuer, signing keys, client authentication and
# token contents are per tenant and come from oidc.validators.TenantOAuth2Validator,
# oidc.backends.TenantOAuthLibCore and oidc's own discovery and JWKS views.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oidc.Application"
OAUTH2_PROVIDER = {
    "PKCE_REQUIRED": True,  # every client, confidential ones too (RFC 9700 2.1.1)
    # http stays allowed for loopback redirect URIs only; oidc.services checks that.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"],
    "ALLOW_URI_WILDCARDS": False,
    # http://localhost callbacks get the same any-port rule as 127.0.0.1 (RFC 8252 7.3).
    "ALLOW_LOCALHOST_LOOPBACK": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,  # replaying a rotated token revokes its family
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,  # required by hashed token storage below
    # The gates below reject implicit and password grants, PKCE "plain" and tokens in query
    # strings, add RFC 9207 `iss` to authorization responses, store only token checksums, and
    # turn non-compliant redirect/PKCE/refresh settings into deploy-check errors.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "OIDC_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    # Logout redirects go only to URIs registered for the client; http only for loopback
    # (registration enforces that), never for public clients.
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
    "OIDC_RP_INITIATED_LOGOUT_ACCEPT_EXPIRED_TOKENS": True,
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],  # no implicit or hybrid flows
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "client_credentials", "refresh_token"],
    "OAUTH2_VALIDATOR_CLASS": "oidc.validators.TenantOAuth2Validator",
    "OAUTH2_BACKEND_CLASS": "oidc.backends.TenantOAuthLibCore",
    "SCOPES_BACKEND_CLASS": "oidc.scopes.TenantScopes",
    # The names oauth2_provider knows; what people read for each is
    # oidc.scopes.SCOPE_DESCRIPTIONS (translated).
    "SCOPES": {
        "openid": "Sign you in",
        "profile": "See your name and profile",
        "email": "See your email address",
        "offline_access": "Stay signed in to the app",
    },
    "DEFAULT_SCOPES": ["openid"],
    # Only response type `code` and Bearer tokens; the token endpoint is oidc.grants (JWT
    # access tokens signed with the tenant's key, per-app lifetimes).
    "OIDC_SERVER_CLASS": "oidc.server.TenantServer",
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "ID_TOKEN_EXPIRE_SECONDS": 3600,
    "REQUEST_APPROVAL_PROMPT": "auto",
}
