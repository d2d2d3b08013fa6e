"""Celery tasks: thin wrappers that call one service function and commit."""

from __future__ import annotations

from celery import shared_task

from courses.db import db, write_intent
from courses.services import attendance


@shared_task(name="academy.settle_finished_courses")
def settle_finished_courses() -> int:
    """Evaluate completion for courses whose last session has ended (idempotent; beat
    runs it every few minutes). Returns the number of courses evaluated."""
    with write_intent():
        count = attendance.settle_finished_courses()
        db.session.commit()
    return count
