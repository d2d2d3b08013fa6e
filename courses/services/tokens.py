"""API bearer tokens: random secrets shown once, stored as SHA-256, revocable."""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import lazyload, load_only

from courses.db import UTCDateTime, db, utcnow
from courses.models import ApiToken, User

TOKEN_PREFIX = "acd_"
DEFAULT_LIFETIME = timedelta(days=90)
_TOUCH_EVERY = timedelta(minutes=5)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(
    user: User, name: str = "api", lifetime: timedelta | None = DEFAULT_LIFETIME
) -> tuple[str, ApiToken]:
    """Create a token for ``user``; returns the secret (shown once) and the row."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        token_hash=_digest(secret),
        name=name[:80],
        expires_at=utcnow() + lifetime if lifetime else None,
    )
    db.session.add(token)
    db.session.flush()
    return secret, token


@functools.cache
def _token_statement() -> sa.Select[Any]:
    """The token and its user as two entities of one join (cheaper than loading the user
    through the relationship), with only the token's columns the check reads."""
    return (
        sa.select(ApiToken, User)
        .join(ApiToken.user)
        .where(ApiToken.token_hash == sa.bindparam("digest"))
        .options(
            load_only(
                ApiToken.user_id, ApiToken.last_used_at, ApiToken.expires_at, ApiToken.revoked_at
            ),
            lazyload(User.role_rows),
            lazyload(User.organisation),
        )
    )


@functools.cache
def _touch_statement() -> sa.Update:
    return (
        sa.update(ApiToken.__table__)
        .where(ApiToken.__table__.c.id == sa.bindparam("token_id"))
        .values(last_used_at=sa.bindparam("now", type_=UTCDateTime()))
    )


def authenticate(secret: str | None) -> tuple[User, ApiToken] | None:
    """The active user and token for a presented secret, or None, in one statement
    (token joined to its user). The user's roles and organisation load when first
    needed: a learner's own requests (enrol, check in) never need them, and loading
    them with every request cost more than the rest of the lookup."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    row = db.session.execute(_token_statement(), {"digest": _digest(secret)}).one_or_none()
    if row is None:
        return None
    token, user = row
    if token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= utcnow():
        return None
    if not user.is_active:
        return None
    return user, token


def needs_touch(token: ApiToken) -> bool:
    """Whether ``last_used_at`` is due for an update (at most every few minutes)."""
    return token.last_used_at is None or utcnow() - token.last_used_at > _TOUCH_EVERY


def touch(token_id: int) -> None:
    """Record that the token was used now (bookkeeping, in the caller's transaction)."""
    db.session.execute(_touch_statement(), {"token_id": token_id, "now": utcnow()})


def revoke(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()


def revoke_all(user: User) -> None:
    db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
