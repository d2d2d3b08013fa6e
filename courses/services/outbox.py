"""The outbox: side effects owed to workers, written in the business transaction and
handed on by a relay (SPEC §6 rules 3, 5 and 6).

* ``claim`` takes due rows for sending, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, and
  leases them: ``available_at`` moves ``lease`` ahead, so no other relay sends them
  again until then, and a row whose message a broker lost is sent again when the
  lease runs out. Several relays (web processes, beat) never send one row twice at once.
* ``process`` runs one row's consumer inside a savepoint, with the row locked: done
  once; a consumer's failure is counted (``attempts``, ``last_error``), the row comes
  due again after a backoff with jitter, and after ``max_attempts`` it is parked as
  ``dead`` for an admin to retry. Errors of the database connection itself are raised
  to the caller, whose task retries them.
* ``retry`` (admins) puts a dead or waiting row back in line.

Only topics that have a consumer are claimed; the others wait in the table, complete,
until their consumer exists.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from courses.db import db, utcnow
from courses.errors import Conflict, NotFound
from courses.models import OutboxEvent, OutboxStatus, User
from courses.services import audit
from courses.services.pagination import Page, paginate
from courses.services.permissions import require_admin

Handler = Callable[[dict[str, Any]], None]
#: Errors of the connection, not of the event: the caller's task retries them.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (sa.exc.OperationalError, sa.exc.InterfaceError)
ERROR_LENGTH = 2000
#: Keys of ``session.info``: set while a consumer runs; its follow-up events.
CONSUMING = "outbox_consuming"
FOLLOW_UPS = "outbox_follow_ups"


@dataclass(frozen=True)
class Claimed:
    id: int
    topic: str


def _setting(name: str, default: float) -> float:
    if has_app_context():
        return float(current_app.config.get(name, default))
    return default


def lease_seconds() -> float:
    return _setting("OUTBOX_LEASE_SECONDS", 300)


def max_attempts() -> int:
    return int(_setting("OUTBOX_MAX_ATTEMPTS", 8))


def backoff(attempts: int) -> timedelta:
    """How long a failed row waits: doubling from ``OUTBOX_RETRY_SECONDS``, capped at an
    hour, with ±50 % jitter so that rows failed together do not come back together."""
    base = _setting("OUTBOX_RETRY_SECONDS", 30)
    delay = min(base * 2 ** max(attempts - 1, 0), 3600.0)
    return timedelta(seconds=delay * random.uniform(0.5, 1.5))


def claim(
    topics: Collection[str],
    limit: int = 100,
    now: datetime | None = None,
    lease: float | None = None,
) -> list[Claimed]:
    """Lease up to ``limit`` due rows of ``topics`` for sending (the caller commits, then
    sends). Rows another relay holds locked are skipped, not waited for."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(OutboxEvent.id, OutboxEvent.topic)
        .where(
            OutboxEvent.status == OutboxStatus.PENDING,
            OutboxEvent.available_at <= now,
            OutboxEvent.topic.in_(list(topics)),
        )
        .order_by(OutboxEvent.available_at, OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if rows:
        until = now + timedelta(seconds=lease_seconds() if lease is None else lease)
        db.session.execute(
            sa.update(OutboxEvent)
            .where(OutboxEvent.id.in_([row.id for row in rows]))
            .values(available_at=until)
            .execution_options(synchronize_session=False)
        )
    return [Claimed(row.id, row.topic) for row in rows]


def due(topics: Collection[str], limit: int = 100, now: datetime | None = None) -> list[Claimed]:
    """Due rows without a lease: the in-process relay, which processes what it reads at
    once, needs none."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(OutboxEvent.id, OutboxEvent.topic)
        .where(
            OutboxEvent.status == OutboxStatus.PENDING,
            OutboxEvent.available_at <= now,
            OutboxEvent.topic.in_(list(topics)),
        )
        .order_by(OutboxEvent.available_at, OutboxEvent.id)
        .limit(limit)
    ).all()
    return [Claimed(row.id, row.topic) for row in rows]


def process(event_id: int, handler: Handler, now: datetime | None = None) -> str:
    """Run ``handler`` for one row, once: ``done``, ``skipped`` (gone, finished, or held
    by another worker right now), ``failed`` (counted, due again later) or ``dead``."""
    event = db.session.scalar(
        sa.select(OutboxEvent).where(OutboxEvent.id == event_id).with_for_update(skip_locked=True)
    )
    if event is None or event.status != OutboxStatus.PENDING:
        return "skipped"
    now = now or utcnow()
    db.session.info[CONSUMING] = True
    try:
        with db.session.begin_nested():
            handler(dict(event.payload or {}))
    except TRANSIENT_ERRORS:
        raise
    except Exception as error:  # the consumer's own failure: counted, tried again later
        db.session.info.pop(FOLLOW_UPS, None)  # rolled back with the savepoint
        return _failed(event, error, now)
    finally:
        db.session.info.pop(CONSUMING, None)
    event.status = OutboxStatus.DONE
    event.attempts += 1
    event.processed_at = now
    event.last_error = None
    return "done"


def count_failure(event_id: int, error: BaseException, now: datetime | None = None) -> str | None:
    """Count a failure that ``process`` could not (the connection broke, the statement
    timed out), in a transaction of its own: the row backs off and, failing for good,
    ends dead instead of blocking the rows behind it. None if the row is not pending."""
    event = db.session.get(OutboxEvent, event_id, with_for_update=True)
    if event is None or event.status != OutboxStatus.PENDING:
        return None
    return _failed(event, error, now or utcnow())


def _failed(event: OutboxEvent, error: BaseException, now: datetime) -> str:
    event.attempts += 1
    event.last_error = f"{type(error).__name__}: {error}"[:ERROR_LENGTH]
    if event.attempts >= max_attempts():
        event.status = OutboxStatus.DEAD
        return "dead"
    event.available_at = now + backoff(event.attempts)
    return "failed"


def emit(event: OutboxEvent, now: datetime | None = None) -> OutboxEvent:
    """Add ``event`` to the transaction. Written by a consumer (inside ``process``), it
    is a follow-up: leased at once and recorded, so that the consumer's task handles it
    right after its commit, in the same process, without another trip through the
    broker; should that not happen (a crash), the lease runs out and the sweep sends it.
    Written anywhere else, it waits for the relay as usual."""
    db.session.add(event)
    if db.session.info.get(CONSUMING):
        event.available_at = (now or utcnow()) + timedelta(seconds=lease_seconds())
        db.session.flush()
        db.session.info.setdefault(FOLLOW_UPS, []).append(Claimed(event.id, event.topic))
    return event


def take_follow_ups() -> list[Claimed]:
    """The follow-ups written since the last call (by the consumer just committed)."""
    return db.session.info.pop(FOLLOW_UPS, [])


def listing(
    actor: User, status: str = "pending", topics: Collection[str] = (), page: int = 1
) -> Page[Any]:
    """The admins' list of waiting or dead rows, oldest first."""
    require_admin(actor)
    chosen = OutboxStatus.DEAD if status == "dead" else OutboxStatus.PENDING
    statement = sa.select(OutboxEvent).where(OutboxEvent.status == chosen)
    if topics:
        statement = statement.where(OutboxEvent.topic.in_(list(topics)))
    return paginate(statement.order_by(OutboxEvent.id), page, 50)


def counts() -> dict[tuple[str, str], int]:
    """Rows by (status, topic), for the admins' overview."""
    rows = db.session.execute(
        sa.select(OutboxEvent.status, OutboxEvent.topic, sa.func.count())
        .where(OutboxEvent.status != OutboxStatus.DONE)
        .group_by(OutboxEvent.status, OutboxEvent.topic)
    ).all()
    return {(str(status), topic): int(n) for status, topic, n in rows}


def retry(actor: User, event_id: int, now: datetime | None = None) -> OutboxEvent:
    """Put a dead (or waiting) row back in line now, its count of attempts reset."""
    require_admin(actor)
    event = db.session.get(OutboxEvent, event_id, with_for_update=True)
    if event is None:
        raise NotFound()
    if event.status == OutboxStatus.DONE:
        raise Conflict(_l("This event has already been handled."), code="already_done")
    event.status = OutboxStatus.PENDING
    event.attempts = 0
    event.available_at = now or utcnow()
    audit.record(actor, "outbox.retry", "outbox_event", event.id, topic=event.topic)
    return event
