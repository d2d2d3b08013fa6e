"""Celery tasks: thin wrappers that call one service function and commit.

Each runs in ``workers.job_context`` (the task class sees to it): an application
context with SQLite write intent."""

from __future__ import annotations

from celery import shared_task

from courses.db import db
from courses.services import attendance


@shared_task(name="academy.settle_finished_courses")
def settle_finished_courses() -> dict[str, int]:
    """Settle sessions that have ended and courses whose last session has ended
    (idempotent; beat runs it every minute). Returns what was settled."""
    settled = attendance.settle_finished_courses()
    db.session.commit()
    return {"sessions": settled.sessions, "courses": settled.courses}
