"""Running outbox rows: the one function every consumer task and the in-process relay
call (``consume``), the retry policy of those tasks, and the sweep beat runs."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from courses.db import db
from courses.services import outbox
from courses.services.outbox import Handler

log = logging.getLogger(__name__)

#: Celery options of a consumer task: a lost database connection is retried with
#: exponential backoff and jitter; any other failure is the row's to count (``process``).
RETRYING: dict[str, Any] = {
    "autoretry_for": outbox.TRANSIENT_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 12,
}


def consume(event_id: int, handler: Handler) -> str:
    """Process one row with ``handler`` and commit: done once, however often called.
    Then the rows the handler wrote as follow-ups (``outbox.emit``: a new certificate's
    drawing) are processed here too, each committed on its own."""
    result = _consume_one(event_id, handler)
    for row in outbox.take_follow_ups():
        from workers.relay import handler_for

        _consume_one(row.id, handler_for(row.topic))
    return result


def _count(event_id: int, error: Exception) -> None:
    """Count the failure on the row if the database lets us; when it does not (it is
    down), the task's retry or the sweep comes back to the row anyway."""
    try:
        outbox.count_failure(event_id, error)
        db.session.commit()
    except Exception:  # the database is unreachable: nothing more to do now
        db.session.rollback()
        log.warning("outbox event %s: could not count its failure (%s)", event_id, error)


def _consume_one(event_id: int, handler: Handler) -> str:
    try:
        result = outbox.process(event_id, handler)
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        outbox.take_follow_ups()  # nothing of them was committed
        _count(event_id, error)
        raise
    if result in ("failed", "dead"):
        log.warning("outbox event %s %s", event_id, result)
    return result


@shared_task(name="academy.outbox.sweep")
def sweep() -> int:
    """Send every due row again (beat, every ``SWEEP_EVERY_SECONDS``): rows whose
    message was lost, whose lease ran out or whose backoff has passed."""
    from workers.relay import send_due

    return send_due()
