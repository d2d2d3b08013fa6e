"""What the attendance tests share: the times of their sessions, a session with check-in
open, and short reads of records, enrolments and outbox events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from courses.db import db
from courses.models import (
    AttendanceRecord,
    Enrolment,
    OutboxEvent,
)
from courses.services import attendance
from courses.services.attendance import checkin
from tests.factories import make_course, make_enrolment, make_trainer, make_user

START = datetime(2030, 3, 4, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai; 2 h = 120 min
END = START + timedelta(hours=2)
#: A course held in the past (so that edits made now find it over), a week apart.
PAST = datetime(2025, 3, 3, 1, 30, tzinfo=UTC)
OVER = PAST + timedelta(weeks=1, hours=2, minutes=1)  # its second session has ended


def make_open_session():  # type: ignore[no-untyped-def]
    """A trainer, a one-session course starting at START with check-in open, a learner
    and their enrolment."""
    trainer = make_trainer()
    course = make_course(trainers=[trainer], sessions=1, first_session_at=START)
    session = course.sessions[0]
    learner = make_user()
    enrolment = make_enrolment(course, learner)
    checkin.open_checkin(trainer, session, now=START - timedelta(hours=1))
    db.session.commit()
    return trainer, course, session, learner, enrolment


def _record(session, user):  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.scalars(
        sa.select(AttendanceRecord).where(
            AttendanceRecord.session_id == session.id, AttendanceRecord.user_id == user.id
        )
    ).one_or_none()


def _records() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceRecord)) or 0


def _settle(now):  # type: ignore[no-untyped-def]
    """What the periodic job does once sessions have ended."""
    settled = attendance.settle_finished_courses(now=now)
    db.session.commit()
    return settled


def _two_session_course(trainer, threshold=0.8, start=PAST):  # type: ignore[no-untyped-def]
    course = make_course(
        trainers=[trainer], sessions=2, first_session_at=start, completion_threshold=threshold
    )
    learner = make_user()
    enrolment = make_enrolment(course, learner)
    return course, learner, enrolment


def _enrolment(enrolment_id):  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.get(Enrolment, enrolment_id)


def _events(topic):  # type: ignore[no-untyped-def]
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(OutboxEvent).where(OutboxEvent.topic == topic)
    )
