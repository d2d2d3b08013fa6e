"""Check-in passes: what lets a learner who scanned the QR code check in a moment later.

A browser that shows a valid QR token gets a pass (a signed cookie, made by the check-in
page): the session, when the token was seen, a random id, and the learner, if one was
logged in. The pass is good for ``checkin.PRESENCE_PASS`` (2 minutes) and for one use:

- a pass made for a logged-in learner is theirs alone;
- a pass made before logging in belongs to whoever uses it first, and only to a learner
  who logged in after the scan (a copy handed to someone already logged in is refused);
- its first use records the id (``CheckinPass``); any later use, by anyone, is refused.

A refused pass is simply no proof: the learner scans again or types the code.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from courses.db import db, dialect_statement
from courses.models import CheckinPass, CourseSession, User
from courses.services.attendance.checkin import PRESENCE_PASS

#: Used passes are kept a little longer than they could be presented, then dropped.
KEEP_USED = PRESENCE_PASS * 5


@dataclass(frozen=True)
class Pass:
    id: str
    session_id: int
    seen_at: datetime
    user_id: int | None  # None: made before the learner logged in


def new_pass(session: CourseSession, user: User | None, now: datetime) -> Pass:
    return Pass(secrets.token_hex(16), session.id, now, user.id if user is not None else None)


def may_use(presented: Pass, user: User, now: datetime) -> bool:
    """Whether ``user`` may present this pass (not yet whether it was used before)."""
    if not timedelta(0) <= now - presented.seen_at <= PRESENCE_PASS:
        return False
    if presented.user_id is not None:
        return presented.user_id == user.id
    return user.last_login_at is not None and user.last_login_at >= presented.seen_at


def use(presented: Pass, session: CourseSession, user: User, now: datetime) -> datetime | None:
    """Spend the pass for ``user``: the time its token was seen, or None when the pass
    is not theirs, too old, or already used. Flushes the record of its use, which the
    caller's rollback undoes if the check-in is refused after all."""
    if presented.session_id != session.id or not may_use(presented, user, now):
        return None
    inserted = db.session.scalar(
        _insert(),
        {"id": presented.id, "session_id": session.id, "user_id": user.id, "used_at": now},
    )
    if inserted is None:  # used before, by someone or by this very learner
        return None
    db.session.execute(sa.delete(CheckinPass).where(CheckinPass.used_at < now - KEEP_USED))
    return presented.seen_at


@dialect_statement
def _insert(insert: Any) -> Any:
    table = CheckinPass.__table__
    return insert(table).on_conflict_do_nothing().returning(table.c.id)
