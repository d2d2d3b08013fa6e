"""Settling (结算) what is over, run by the periodic job and the ``settle-courses``
command; idempotent, so running it twice changes nothing.

* A session that has ended is settled once (``CourseSession.settled_at``): its records
  are derived again as of its end, so a learner checked in and never checked out is
  credited to the end and a trainer's "present" counts in full, and its course's
  completions are evaluated.
* A course whose last session has ended and that still has learners marked enrolled is
  evaluated for all of them: those short of the threshold become *incomplete*, those who
  reached it complete (``completion``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from courses.db import db, utcnow
from courses.models import Course, CourseSession, Enrolment, EnrolmentStatus
from courses.services.attendance.completion import evaluate_course


@dataclass(frozen=True)
class Settlement:
    sessions: int  # sessions whose records were brought up to date after their end
    courses: int  # finished courses whose remaining learners were settled


def settle_ended_sessions(now: datetime | None = None, limit: int = 200) -> int:
    """Bring the records of sessions that have ended since they were last settled up
    to date (a learner checked in and never checked out is credited to the end, a
    trainer's "present" counts in full) and evaluate their courses' completions. On
    PostgreSQL, sessions another settler holds are skipped. Returns how many."""
    now = now or utcnow()
    sessions = list(
        db.session.scalars(
            sa.select(CourseSession)
            .where(CourseSession.settled_at.is_(None), CourseSession.ends_at <= now)
            .order_by(CourseSession.ends_at, CourseSession.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for session in sessions:
        evaluate_course(session.course, now, rederive=session)
    return len(sessions)


def settle_finished_courses(now: datetime | None = None, limit: int = 200) -> Settlement:
    """Settle the sessions that have ended (``settle_ended_sessions``), then evaluate
    the enrolments of courses whose last session has ended and that still have
    learners marked enrolled: those short of the threshold become incomplete, those
    who reached it complete. Idempotent."""
    now = now or utcnow()
    sessions = settle_ended_sessions(now, limit)
    last_end = (
        sa.select(CourseSession.course_id, sa.func.max(CourseSession.ends_at).label("last_end"))
        .group_by(CourseSession.course_id)
        .subquery()
    )
    course_ids = list(
        db.session.scalars(
            sa.select(Enrolment.course_id)
            .join(last_end, last_end.c.course_id == Enrolment.course_id)
            .where(Enrolment.status == EnrolmentStatus.ENROLLED, last_end.c.last_end <= now)
            .distinct()
            .order_by(Enrolment.course_id)
            .limit(limit)
        )
    )
    for course_id in course_ids:
        course = db.session.get(Course, course_id)
        if course is not None:
            evaluate_course(course, now)
    return Settlement(sessions, len(course_ids))
