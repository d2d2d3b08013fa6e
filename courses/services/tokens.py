"""API bearer tokens: random secrets shown once, stored as SHA-256, revocable."""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import lazyload, load_only
from sqlalchemy.orm.attributes import set_committed_value

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
def _token_statement(touch: bool = False) -> sa.Select[Any]:
    """The token and its user as two entities of one join (cheaper than loading the user
    through the relationship), with only the token's columns the check reads.

    With ``touch`` (PostgreSQL), the same statement also records the use when it is due
    (``touch``'s rule), in a data-modifying CTE, and answers whether it did: the write
    that a learner's first request in a while needs costs no round trip of its own.
    Only a token that passes every check is touched.
    """
    statement = (
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
    if not touch:
        return statement
    tokens, users = ApiToken.__table__, User.__table__
    now = sa.bindparam("now", type_=UTCDateTime())
    touched = (
        sa.update(tokens)
        .where(
            tokens.c.token_hash == sa.bindparam("digest"),
            tokens.c.user_id == users.c.id,
            users.c.is_active.is_(True),
            tokens.c.revoked_at.is_(None),
            sa.or_(tokens.c.expires_at.is_(None), tokens.c.expires_at > now),
            sa.or_(
                tokens.c.last_used_at.is_(None),
                tokens.c.last_used_at < sa.bindparam("stale", type_=UTCDateTime()),
            ),
        )
        .values(last_used_at=now)
        .returning(tokens.c.id)
        .cte("touched")
    )
    return statement.add_columns(touched.c.id.is_not(None).label("touched")).outerjoin(
        touched, touched.c.id == ApiToken.id
    )


@functools.cache
def _touch_statement() -> sa.Update:
    return (
        sa.update(ApiToken.__table__)
        .where(ApiToken.__table__.c.id == sa.bindparam("token_id"))
        .values(last_used_at=sa.bindparam("now", type_=UTCDateTime()))
    )


def authenticate(secret: str | None, *, touch: bool = False) -> tuple[User, ApiToken] | None:
    """The active user and token for a presented secret, or None, in one statement
    (token joined to its user). The user's roles and organisation load when first
    needed: a learner's own requests (enrol, check in) never need them, and loading
    them with every request cost more than the rest of the lookup.

    ``touch``: the caller will record the use in this transaction when it is due
    (``needs_touch``). On PostgreSQL the lookup does it at once, and the token it
    answers then no longer needs it; elsewhere the caller calls ``touch``.
    """
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    now = utcnow()
    touch = touch and db.session.get_bind().dialect.name == "postgresql"
    parameters = {"digest": _digest(secret)}
    if touch:
        parameters |= {"now": now, "stale": now - _TOUCH_EVERY}
    row = db.session.execute(_token_statement(touch), parameters).one_or_none()
    if row is None:
        return None
    token, user = row[0], row[1]
    if touch and row.touched:
        set_committed_value(token, "last_used_at", now)
    if token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
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
