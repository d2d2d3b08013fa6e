"""Statistics tasks, on the ``stats`` queue (short, so never behind a long export):
thin wrappers over ``courses.services.stats``."""

from __future__ import annotations

import logging

from celery import shared_task

from courses.db import db
from courses.services import stats
from workers.outbox import RETRYING, consume
from workers.routes import route

log = logging.getLogger(__name__)


@route(stats.TOPIC, "stats", stats.on_course_changed)
@shared_task(name="academy.stats.refresh", **RETRYING)
def refresh(event_id: int) -> str:
    """Recompute the summary rows of the course an event touched."""
    return consume(event_id, stats.on_course_changed)


def recompute_once() -> dict[str, int]:
    rows = stats.recompute_all()
    db.session.commit()
    log.info("statistics recomputed: %s", rows)
    return rows


@shared_task(name="academy.stats.recompute", **RETRYING)
def recompute() -> dict[str, int]:
    """Beat, nightly: every summary row again from the raw records."""
    return recompute_once()
