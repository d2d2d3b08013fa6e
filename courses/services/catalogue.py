"""Read-side queries for the public pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from courses.db import db, utcnow
from courses.models import Course, CourseSession, PublicationStatus


@dataclass(frozen=True)
class CourseCard:
    course: Course
    next_session_at: datetime | None
    class_hours: float


def upcoming_courses(limit: int = 6) -> list[CourseCard]:
    """Published courses with a session still to come, soonest first, in two statements."""
    now = utcnow()
    next_start = (
        sa.select(
            CourseSession.course_id,
            sa.func.min(CourseSession.starts_at).label("next_at"),
        )
        .where(CourseSession.starts_at >= now)
        .group_by(CourseSession.course_id)
        .subquery()
    )
    hours = (
        sa.select(CourseSession.course_id, sa.func.sum(CourseSession.class_hours).label("hours"))
        .group_by(CourseSession.course_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Course, next_start.c.next_at, hours.c.hours)
        .join(next_start, next_start.c.course_id == Course.id)
        .join(hours, hours.c.course_id == Course.id)
        .where(Course.status == PublicationStatus.PUBLISHED)
        .order_by(next_start.c.next_at, Course.id)
        .limit(limit)
    ).all()
    return [CourseCard(course, next_at, float(hours or 0)) for course, next_at, hours in rows]


def ping() -> None:
    db.session.execute(sa.text("SELECT 1"))
