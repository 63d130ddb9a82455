"""Settings read from environment variables, with safe defaults for development."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from limits import parse_many

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"


class ConfigError(RuntimeError):
    """Raised at start-up when a setting is missing or unusable."""


def _env_bool(name: str, default: bool) -> bool:
    """Read a yes/no environment variable."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    """Read an integer environment variable, failing clearly on junk."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from exc


def _env_rate_limit(name: str, default: str) -> str:
    """Read a rate limit ("10 per minute", several joined by ";"), failing clearly on junk."""
    value = os.environ.get(name, "").strip() or default
    try:
        parse_many(value)
    except ValueError as exc:
        raise ConfigError(
            f"{name} must be a rate limit such as '10 per minute' (several joined by ';'), "
            f"not {value!r}"
        ) from exc
    return value


def _development_key(instance_path: Path, filename: str, generate: Callable[[], str]) -> str:
    """Return a development key kept in instance/<filename>, generating it there once."""
    key_file = instance_path / filename
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = generate()
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _passport_encryption_key(instance_path: Path, production: bool) -> str:
    """The Fernet key(s) for passport numbers: from the environment, or in development
    generated once into instance/passport_key. Several comma-separated keys allow rotation:
    the first encrypts, all decrypt."""
    keys = os.environ.get("PASSPORT_ENCRYPTION_KEY", "").strip()
    if not keys:
        if production:
            raise ConfigError(
                "PASSPORT_ENCRYPTION_KEY is not set. In production Kongres refuses to start "
                "without it: passport numbers are encrypted with it. Create one with "
                "python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())' and keep it safe: without it the "
                "stored passport numbers cannot be read."
            )
        keys = _development_key(
            instance_path, "passport_key", lambda: Fernet.generate_key().decode()
        )
    for key in keys.split(","):
        try:
            Fernet(key.strip())
        except ValueError as exc:
            raise ConfigError(
                "PASSPORT_ENCRYPTION_KEY must be a Fernet key (32 bytes, URL-safe base64), "
                "or several separated by commas."
            ) from exc
    return keys


# Keys localstripe accepts (any sk_/pk_ key will do); used only in development, when
# STRIPE_API_BASE points at a local stand-in and no real keys are given.
LOCALSTRIPE_SECRET_KEY = "sk_test_kongres_localstripe"  # noqa: S105 (a stand-in's key)
LOCALSTRIPE_PUBLISHABLE_KEY = "pk_test_kongres_localstripe"
LOCALSTRIPE_WEBHOOK_SECRET = "whsec_kongres_localstripe"  # noqa: S105


def _stripe_settings(production: bool) -> dict[str, str]:
    """Stripe's settings. With STRIPE_API_BASE set outside production (localstripe, as
    `make run` starts it), the keys and the Stripe.js address default to the stand-in's."""
    api_base = os.environ.get("STRIPE_API_BASE", "").strip().rstrip("/")
    local = bool(api_base) and not production
    return {
        "STRIPE_API_BASE": api_base,
        "STRIPE_JS_URL": os.environ.get("STRIPE_JS_URL")
        or (f"{api_base}/js.stripe.com/v3/" if local else "https://js.stripe.com/v3/"),
        "STRIPE_PUBLISHABLE_KEY": os.environ.get("STRIPE_PUBLISHABLE_KEY")
        or (LOCALSTRIPE_PUBLISHABLE_KEY if local else ""),
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY")
        or (LOCALSTRIPE_SECRET_KEY if local else ""),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET")
        or (LOCALSTRIPE_WEBHOOK_SECRET if local else ""),
    }


LOG_FORMATS = ("json", "text")


def _log_format(production: bool) -> str:
    """LOG_FORMAT: JSON lines in production, readable text in development, unless set."""
    value = os.environ.get("LOG_FORMAT", "").strip().lower() or ("json" if production else "text")
    if value not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT must be json or text, not {value!r}")
    return value


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _log_level() -> str:
    """LOG_LEVEL: the least severe level written (INFO includes one access line per request)."""
    value = os.environ.get("LOG_LEVEL", "").strip().upper() or "INFO"
    if value not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {value!r}")
    return value


def database_uri(url: str) -> str:
    """Point PostgreSQL URLs at the psycopg 3 driver the project installs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def load_config(instance_path: Path = DEFAULT_INSTANCE) -> dict:
    """Build the settings dictionary from the environment."""
    env = os.environ.get("KONGRES_ENV", "development")
    production = env == "production"
    secret_key = os.environ.get("SECRET_KEY")
    if not secret_key:
        if production:
            raise ConfigError(
                "SECRET_KEY is not set. In production Kongres refuses to start without it: "
                "set SECRET_KEY to a long random string (python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')."
            )
        secret_key = _development_key(
            instance_path, "secret_key", lambda: secrets.token_urlsafe(48)
        )

    languages = [
        code.strip() for code in os.environ.get("LANGUAGES", "id,en").split(",") if code.strip()
    ]
    redis_url = os.environ.get("REDIS_URL", "")
    return {
        "ENV_NAME": env,
        "SECRET_KEY": secret_key,
        "PASSPORT_ENCRYPTION_KEY": _passport_encryption_key(instance_path, production),
        "SQLALCHEMY_DATABASE_URI": os.environ.get(
            "DATABASE_URL", f"sqlite:///{instance_path / 'kongres.sqlite'}"
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "LANGUAGES": languages,
        "BABEL_DEFAULT_LOCALE": os.environ.get("DEFAULT_LANGUAGE", languages[0]),
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "CLI_LANGUAGE": os.environ.get("CLI_LANGUAGE", "en"),
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "translations"),
        "EVENT_SLUG": os.environ.get("EVENT_SLUG", "wcpp2026"),
        "EVENT_TIMEZONE": os.environ.get("EVENT_TIMEZONE", "Asia/Makassar"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": _env_int("MAIL_PORT", 25),
        "MAIL_USE_TLS": _env_bool("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _env_bool("MAIL_USE_SSL", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_DEFAULT_SENDER": os.environ.get(
            "MAIL_DEFAULT_SENDER", "WCPP 2026 <no-reply@wcpp2026.example>"
        ),
        # True: deliver in the committing process right after the commit (tests); false: hand
        # each message to the jobs seam (an RQ "email" worker, or a thread).
        "MAIL_SYNC": _env_bool("MAIL_SYNC", False),
        "MAIL_OUTBOX_DIR": os.environ.get("MAIL_OUTBOX_DIR", str(instance_path / "mail")),
        **_stripe_settings(production),
        "REDIS_URL": redis_url,
        # "rq": background jobs go to RQ workers on REDIS_URL; "thread": run in-process.
        "JOBS_BACKEND": os.environ.get("JOBS_BACKEND", "thread"),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Limits count per client address, except where noted: a signed-in organiser counts
        # per account, and gate devices per device (all gates share the venue's NAT address).
        "LOGIN_RATE_LIMIT": _env_rate_limit("LOGIN_RATE_LIMIT", "10 per minute"),
        "PASSWORD_RESET_RATE_LIMIT": _env_rate_limit("PASSWORD_RESET_RATE_LIMIT", "5 per minute"),
        "ACCOUNT_LINK_RATE_LIMIT": _env_rate_limit("ACCOUNT_LINK_RATE_LIMIT", "10 per minute"),
        "REGISTRATION_RATE_LIMIT": _env_rate_limit("REGISTRATION_RATE_LIMIT", "20 per minute"),
        "RESEND_EMAIL_RATE_LIMIT": _env_rate_limit("RESEND_EMAIL_RATE_LIMIT", "10 per minute"),
        "VISA_VERIFICATION_RATE_LIMIT": _env_rate_limit(
            "VISA_VERIFICATION_RATE_LIMIT", "30 per minute"
        ),
        "SCAN_RATE_LIMIT": _env_rate_limit("SCAN_RATE_LIMIT", "600 per minute"),
        "SCAN_BATCH_RATE_LIMIT": _env_rate_limit("SCAN_BATCH_RATE_LIMIT", "30 per minute"),
        # "json": one JSON object per log line (for a log collector); "text": for people.
        "LOG_FORMAT": _log_format(production),
        "LOG_LEVEL": _log_level(),
        # Growing delays after failed sign-ins (password or second factor): after N failures
        # within the window, 1 s, then doubling, up to the cap. An address allows more failures
        # than an account: a venue's Wi-Fi puts hundreds of delegates behind one address.
        "SIGN_IN_ACCOUNT_FAILURES_BEFORE_DELAY": _env_int(
            "SIGN_IN_ACCOUNT_FAILURES_BEFORE_DELAY", 5
        ),
        "SIGN_IN_ADDRESS_FAILURES_BEFORE_DELAY": _env_int(
            "SIGN_IN_ADDRESS_FAILURES_BEFORE_DELAY", 20
        ),
        "SIGN_IN_FAILURE_WINDOW_MINUTES": _env_int("SIGN_IN_FAILURE_WINDOW_MINUTES", 15),
        "SIGN_IN_MAX_DELAY_MINUTES": _env_int("SIGN_IN_MAX_DELAY_MINUTES", 15),
        # Sessions end after this long without a request, and this long after sign-in.
        "STAFF_SESSION_IDLE_MINUTES": _env_int("STAFF_SESSION_IDLE_MINUTES", 30),
        "STAFF_SESSION_MAX_HOURS": _env_int("STAFF_SESSION_MAX_HOURS", 12),
        "DELEGATE_SESSION_IDLE_HOURS": _env_int("DELEGATE_SESSION_IDLE_HOURS", 12),
        "DELEGATE_SESSION_MAX_DAYS": _env_int("DELEGATE_SESSION_MAX_DAYS", 7),
        # The time between the password and the second factor (or enrolling one).
        "SECOND_FACTOR_STEP_MINUTES": _env_int("SECOND_FACTOR_STEP_MINUTES", 5),
        "TWO_FACTOR_ENROLMENT_MINUTES": _env_int("TWO_FACTOR_ENROLMENT_MINUTES", 15),
        "PRIVACY_CONTACT_EMAIL": os.environ.get("PRIVACY_CONTACT_EMAIL", ""),
        "PASSWORD_RESET_MAX_AGE": _env_int("PASSWORD_RESET_MAX_AGE", 3600),
        "INVITATION_MAX_AGE": _env_int("INVITATION_MAX_AGE", 7 * 24 * 3600),
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR", str(instance_path / "uploads")),
        "MAX_CONTENT_LENGTH": _env_int("MAX_CONTENT_LENGTH", 20 * 1024 * 1024),
        "ARGON2_TIME_COST": _env_int("ARGON2_TIME_COST", 3),
        "ARGON2_MEMORY_COST": _env_int("ARGON2_MEMORY_COST", 65536),
        # The __Host- prefix makes browsers refuse the cookie unless it is Secure, for the
        # whole site (Path=/) and for this host only (no Domain): no sibling subdomain or
        # plain-HTTP page can plant a session. Browsers allow it only over HTTPS.
        "SESSION_COOKIE_NAME": "__Host-kongres_session" if production else "kongres_session",
        "SESSION_COOKIE_PATH": "/",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Delegates' cookies outlive the browser up to their longest session; staff cookies
        # end with the browser. Both are also checked on the server (app/auth/sessions.py).
        "PERMANENT_SESSION_LIFETIME": timedelta(days=_env_int("DELEGATE_SESSION_MAX_DAYS", 7)),
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_NAME": "__Host-kongres_remember" if production else "kongres_remember",
        "REMEMBER_COOKIE_PATH": "/",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        # Browser security headers (app/security/headers.py).
        "HSTS_MAX_AGE": _env_int("HSTS_MAX_AGE", 365 * 24 * 3600 if production else 0),
        "CSP_REPORT_ONLY": _env_bool("CSP_REPORT_ONLY", False),
        "CSP_REPORT_RATE_LIMIT": os.environ.get("CSP_REPORT_RATE_LIMIT", "60 per minute"),
        "CSP_REPORT_MAX_BYTES": _env_int("CSP_REPORT_MAX_BYTES", 32 * 1024),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "SERVER_BASE_URL": os.environ.get("SERVER_BASE_URL", "http://127.0.0.1:5000"),
        # How many proxies (nginx: 1) stand in front and set X-Forwarded-For/-Proto; 0 trusts
        # no such header (anyone could forge them without a proxy).
        "PROXY_FIX_HOPS": _env_int("PROXY_FIX_HOPS", 0),
        # Host names the site answers to; others get 400 (no Host-header games behind a proxy).
        "TRUSTED_HOSTS": [
            host.strip() for host in os.environ.get("TRUSTED_HOSTS", "").split(",") if host.strip()
        ]
        or None,
    }
