"""Settings, read from the environment only (see the table in README.md).

Small typed helpers in the manner of Redash's settings: each value has a default that
suits the embedded single-process setup, and production overrides it by variable.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def _int(name: str, value: str | None, default: int, minimum: int = 1) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {number}")
    return number


def normalise_database_url(url: str) -> str:
    """Accept the usual spellings and pick the psycopg 3 driver for PostgreSQL."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _secret_key(env: Mapping[str, str], instance_path: Path, database_url: str) -> str:
    key = env.get("ACADEMY_SECRET_KEY")
    if key:
        if len(key) < 16:
            raise ConfigError("ACADEMY_SECRET_KEY is too short: use at least 16 random characters")
        return key
    if not database_url.startswith("sqlite"):
        raise ConfigError(
            "ACADEMY_SECRET_KEY is not set. With a server database (ACADEMY_DATABASE_URL="
            f"{database_url.split('@')[-1]!r}) every instance must share one secret key: "
            "set ACADEMY_SECRET_KEY to a long random string, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
        )
    # The embedded default keeps its own key in the instance folder.
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    # Written whole under a temporary name, then linked into place: of two processes
    # starting at once, one wins and the other reads the winner's complete key.
    key = secrets.token_urlsafe(48)
    temporary = instance_path / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(temporary, key_file)
    except FileExistsError:
        key = key_file.read_text().strip()
    finally:
        temporary.unlink()
    return key


def _ratelimit_storage(env: Mapping[str, str]) -> str:
    """Where the rate limiter counts: ACADEMY_RATELIMIT_STORAGE_URL; else the broker's
    Redis, which every process of the site already shares; else this process's memory
    (``academy.ratelimit`` warns when that is likely to be several processes)."""
    explicit = env.get("ACADEMY_RATELIMIT_STORAGE_URL")
    if explicit:
        return explicit
    broker = env.get("ACADEMY_BROKER_URL") or ""
    if broker.startswith(("redis://", "rediss://")):
        return broker
    return "memory://"


def load_settings(
    env: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Build the Flask config from environment variables (and test overrides)."""
    env = dict(os.environ if env is None else env)
    if overrides:
        # Tests may override by environment name (ACADEMY_…) or by config key.
        env.update({k: str(v) for k, v in overrides.items() if k.startswith("ACADEMY_")})

    instance_path = Path(env.get("ACADEMY_INSTANCE_PATH") or "instance").resolve()
    database_url = normalise_database_url(
        env.get("ACADEMY_DATABASE_URL") or f"sqlite:///{instance_path / 'academy.db'}"
    )
    timezone = _timezone(env)
    default_locale = _default_locale(env)
    upload_limits = _upload_limits(env)

    settings: dict[str, Any] = {
        "INSTANCE_PATH": str(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": _secret_key(env, instance_path, database_url),
        "BROKER_URL": env.get("ACADEMY_BROKER_URL") or None,
        "TIMEZONE": timezone,
        "BABEL_DEFAULT_TIMEZONE": timezone,
        "BABEL_DEFAULT_LOCALE": default_locale,
        "LANGUAGES": ("zh_CN", "en"),
        "MINUTES_PER_CLASS_HOUR": _int(
            "ACADEMY_MINUTES_PER_CLASS_HOUR", env.get("ACADEMY_MINUTES_PER_CLASS_HOUR"), 45
        ),
        **upload_limits,
        # Every other request (JSON, forms): academy.inputs refuses a larger body with 413.
        "MAX_REQUEST_BYTES": _int("ACADEMY_MAX_REQUEST_KB", env.get("ACADEMY_MAX_REQUEST_KB"), 1024)
        * 1024,
        "STORAGE_BACKEND": env.get("ACADEMY_STORAGE_BACKEND") or "local",
        "UPLOAD_ROOT": env.get("ACADEMY_UPLOAD_PATH") or str(instance_path / "uploads"),
        **_cookie_settings(env, secure_by_default=not database_url.startswith("sqlite")),
        "WTF_CSRF_TIME_LIMIT": None,
        **_rate_limits(env),
        **_certificate_settings(env),
        **_outbox_settings(env),
        **_API_SETTINGS,
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(database_url, env),
    }
    if overrides:
        settings.update({k: v for k, v in overrides.items() if not k.startswith("ACADEMY_")})
    return settings


def _public_url(env: Mapping[str, str]) -> str:
    """ACADEMY_PUBLIC_URL: the site's address as people reach it (QR codes on
    certificates, links in e-mails); an absolute http(s) URL."""
    value = (env.get("ACADEMY_PUBLIC_URL") or "http://127.0.0.1:5000").strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+(/\S*)?$", value):
        raise ConfigError(
            "ACADEMY_PUBLIC_URL must be an absolute http(s) address, e.g. https://academy.example.cn"
        )
    return value


def _certificate_settings(env: Mapping[str, str]) -> dict[str, Any]:
    prefix = (env.get("ACADEMY_CERTIFICATE_PREFIX") or "GC").strip().upper()
    if not re.match(r"^[A-Z]{1,6}$", prefix):
        raise ConfigError("ACADEMY_CERTIFICATE_PREFIX must be 1 to 6 letters A-Z, e.g. GC")
    fonts = [path for path in (env.get("ACADEMY_CERTIFICATE_FONTS") or "").split(":") if path]
    return {
        "PUBLIC_URL": _public_url(env),
        "CERTIFICATE_PREFIX": prefix,
        "CERTIFICATE_FONTS": fonts or None,
        "ACADEMY_NAME": (env.get("ACADEMY_NAME") or "").strip() or None,
    }


def _outbox_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """How the outbox relay leases, retries and gives up (see courses.services.outbox)."""
    return {
        "OUTBOX_LEASE_SECONDS": _int(
            "ACADEMY_OUTBOX_LEASE_SECONDS", env.get("ACADEMY_OUTBOX_LEASE_SECONDS"), 300
        ),
        "OUTBOX_RETRY_SECONDS": _int(
            "ACADEMY_OUTBOX_RETRY_SECONDS", env.get("ACADEMY_OUTBOX_RETRY_SECONDS"), 30
        ),
        "OUTBOX_MAX_ATTEMPTS": _int(
            "ACADEMY_OUTBOX_MAX_ATTEMPTS", env.get("ACADEMY_OUTBOX_MAX_ATTEMPTS"), 8
        ),
    }


#: The API's documentation (flask-smorest): fixed, not settings.
_API_SETTINGS = {
    "API_TITLE": "Academy API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
}


def _timezone(env: Mapping[str, str]) -> str:
    timezone = env.get("ACADEMY_TIMEZONE") or "Asia/Shanghai"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"ACADEMY_TIMEZONE {timezone!r} is not a known time zone") from None
    return timezone


def _default_locale(env: Mapping[str, str]) -> str:
    default_locale = env.get("ACADEMY_DEFAULT_LOCALE") or "zh_CN"
    if default_locale not in ("zh_CN", "en"):
        raise ConfigError("ACADEMY_DEFAULT_LOCALE must be zh_CN or en")
    return default_locale


def _upload_limits(env: Mapping[str, str]) -> dict[str, int]:
    """The largest file accepted, and the largest request: the file plus room for the
    form fields that travel with it."""
    max_upload_bytes = (
        _int("ACADEMY_MAX_UPLOAD_MB", env.get("ACADEMY_MAX_UPLOAD_MB"), 200) * 1024 * 1024
    )
    return {
        "MAX_UPLOAD_BYTES": max_upload_bytes,
        "MAX_CONTENT_LENGTH": max_upload_bytes + 256 * 1024,
    }


def _cookie_settings(env: Mapping[str, str], *, secure_by_default: bool) -> dict[str, Any]:
    """Session and remember-me cookies: HTTP only, same-site Lax, and secure (HTTPS only)
    unless the embedded SQLite default runs or ACADEMY_SECURE_COOKIES says otherwise."""
    secure = _bool(env, "ACADEMY_SECURE_COOKIES", secure_by_default)
    return {
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure,
    }


def _rate_limits(env: Mapping[str, str]) -> dict[str, Any]:
    return {
        "RATELIMIT_ENABLED": _bool(env, "ACADEMY_RATELIMIT_ENABLED", True),
        "RATELIMIT_STORAGE_URI": _ratelimit_storage(env),
        "LOGIN_RATE_LIMIT": env.get("ACADEMY_LOGIN_RATE_LIMIT") or "5 per minute;20 per hour",
        "LOGIN_RATE_LIMIT_PER_ADDRESS": "30 per minute;300 per hour",
        "CHECKIN_RATE_LIMIT": env.get("ACADEMY_CHECKIN_RATE_LIMIT") or "10 per minute;30 per hour",
        # Per address; a class registering on the venue's Wi-Fi fits in.
        "REGISTER_RATE_LIMIT": "20 per hour;100 per day",
        # Per address, every lookup of the public certificate verification.
        "VERIFY_RATE_LIMIT": env.get("ACADEMY_VERIFY_RATE_LIMIT") or "30 per minute",
    }


def _engine_options(database_url: str, env: Mapping[str, str]) -> dict[str, Any]:
    statement_timeout_ms = _int(
        "ACADEMY_DB_STATEMENT_TIMEOUT_MS", env.get("ACADEMY_DB_STATEMENT_TIMEOUT_MS"), 30000
    )
    if database_url.startswith("sqlite"):
        # busy timeout (seconds): a writer waits for the lock instead of failing at once.
        return {"connect_args": {"timeout": 15, "check_same_thread": False}}
    return {
        # Last in, first out: the connections in use stay few and warm, and one left idle
        # long enough to have died is pinged before use (courses.db).
        "pool_use_lifo": True,
        "pool_size": _int("ACADEMY_DB_POOL_SIZE", env.get("ACADEMY_DB_POOL_SIZE"), 10),
        "max_overflow": 10,
        "pool_timeout": 10,
        "connect_args": {
            "connect_timeout": _int(
                "ACADEMY_DB_CONNECT_TIMEOUT", env.get("ACADEMY_DB_CONNECT_TIMEOUT"), 5
            ),
            "options": f"-c statement_timeout={statement_timeout_ms}",
        },
    }
