"""What registering with a phone number or e-mail address that already has an account does.

Nothing is created, and the visitor is answered exactly as a new learner is (the page
says "if this address had no account, yours is ready; if it had, its owner has been
told"), so that the form cannot be used to learn who has an account. The owner
gets an in-app notice and an outbox event for the e-mail: if it was them, they already
have an account; if not, nothing changed. A notice not yet read is updated rather than
repeated, so that a stranger cannot flood someone's notices.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from courses.db import db, utcnow
from courses.models import Notice, OutboxEvent, User

NOTICE_KIND = "account_registration_attempt"
NOTIFY_TOPIC = "account.notify"


def tell_owners(email: str | None, phone: str | None, now: datetime | None = None) -> bool:
    """Tell the owners of accounts with this (normalised) e-mail or phone that someone
    tried to register with it; whether there were any."""
    now = now or utcnow()
    found = False
    for by, column, value in (("email", User.email, email), ("phone", User.phone, phone)):
        if value is None:
            continue
        owner_id = db.session.scalar(sa.select(User.id).where(column == value))
        if owner_id is not None:
            _notify(owner_id, by, now)
            found = True
    return found


def _notify(user_id: int, by: str, now: datetime) -> None:
    unread = db.session.scalar(
        sa.select(Notice).where(
            Notice.user_id == user_id, Notice.kind == NOTICE_KIND, Notice.read_at.is_(None)
        )
    )
    if unread is not None:
        unread.data = {**unread.data, "by": by, "attempts": unread.data.get("attempts", 1) + 1}
        unread.created_at = now
        return
    db.session.add(Notice(user_id=user_id, kind=NOTICE_KIND, data={"by": by}, created_at=now))
    db.session.add(
        OutboxEvent(
            topic=NOTIFY_TOPIC,
            payload={"user_id": user_id, "kind": "registration_attempt", "by": by},
        )
    )
