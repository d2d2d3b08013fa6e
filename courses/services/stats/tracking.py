"""Which courses' figures a transaction changed: one ``stats.course`` outbox row per
course, written in that transaction, whose consumer recomputes that course's rows.

Changes made through model objects are noticed after each flush (attendance records,
enrolments, feedback, certificates, sessions, courses, a learner's organisation), so
that no service can forget them; the few rows written by bare SQL statements (a new
enrolment, a feedback response) are reported by their service with ``touch``.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from courses.db import db
from courses.models import (
    AttendanceRecord,
    Certificate,
    Course,
    CourseSession,
    Enrolment,
    FeedbackResponse,
    OutboxEvent,
    User,
)

TOPIC = "stats.course"
#: The columns the summary tables read, by model (a course's topic, level, mode,
#: programme and trainers are read when figures are asked for, not stored).
_COUNTED: dict[type, tuple[str, ...]] = {
    AttendanceRecord: ("session_id", "user_id", "credited_hours", "method"),
    Enrolment: ("course_id", "user_id", "status"),
    FeedbackResponse: (
        "course_id",
        "user_id",
        "content_score",
        "trainer_score",
        "organisation_score",
    ),
    Certificate: ("course_id", "user_id", "kind", "status", "issued_at"),
    CourseSession: ("course_id", "starts_at", "mode", "class_hours"),
    Course: ("status",),
    User: ("organisation_id",),
}


#: The courses each open transaction has already written a row for. A course changed
#: by several flushes of one transaction gets one row; a savepoint keeps its own set,
#: so a row rolled back with it is written again by the next change.
_WRITTEN: WeakKeyDictionary[Any, set[int]] = WeakKeyDictionary()


def touch(course_id: int | None) -> None:
    """Report that ``course_id``'s figures changed in this transaction."""
    if course_id is not None:
        _write(db.session(), {int(course_id)})


def _write(session: Session, course_ids: set[int]) -> None:
    """One ``stats.course`` row for each course this transaction has none for yet."""
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:
        session.add_all(_event(course_id) for course_id in sorted(course_ids))
        return
    written: set[int] = set()
    outer = transaction
    while outer is not None:
        written |= _WRITTEN.get(outer, set())
        outer = outer.parent
    new = sorted(course_ids - written)
    _WRITTEN.setdefault(transaction, set()).update(new)
    session.add_all(_event(course_id) for course_id in new)


def _event(course_id: int) -> OutboxEvent:
    return OutboxEvent(topic=TOPIC, payload={"course_id": course_id})


def _learner_courses(connection: Any, user_ids: set[int]) -> set[int]:
    """Every course a learner's figures count in (their organisation changed)."""
    statements = [
        sa.select(Enrolment.course_id).where(Enrolment.user_id.in_(user_ids)),
        sa.select(FeedbackResponse.course_id).where(FeedbackResponse.user_id.in_(user_ids)),
        sa.select(Certificate.course_id).where(Certificate.user_id.in_(user_ids)),
        sa.select(CourseSession.course_id)
        .join(AttendanceRecord, AttendanceRecord.session_id == CourseSession.id)
        .where(AttendanceRecord.user_id.in_(user_ids)),
    ]
    return {row[0] for row in connection.execute(sa.union(*statements))}


def _changed(obj: Any, columns: tuple[str, ...]) -> bool:
    attributes = sa.inspect(obj).attrs
    return any(attributes[name].history.has_changes() for name in columns)


def changed_courses(session: Session) -> set[int]:
    """The courses whose figures the flush made changes to (seen in the pre-flush state
    that ``after_flush`` still shows)."""
    courses: set[int | None] = set()
    sessions: set[int] = set()
    learners: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        columns = _COUNTED.get(type(obj))
        if columns is None or (obj in session.dirty and not _changed(obj, columns)):
            continue
        if isinstance(obj, AttendanceRecord):
            sessions.add(obj.session_id)
        elif isinstance(obj, User):
            if obj not in session.new:
                learners.add(obj.id)
        elif isinstance(obj, Course):
            courses.add(obj.id)
        else:
            courses.add(obj.course_id)
    if sessions:
        found = session.connection().execute(
            sa.select(CourseSession.course_id).where(CourseSession.id.in_(sessions))
        )
        courses.update(row[0] for row in found)
    if learners:
        courses.update(_learner_courses(session.connection(), learners))
    return {course_id for course_id in courses if course_id is not None}


def _after_flush(session: Session, flush_context: object) -> None:
    courses = changed_courses(session)
    if courses:
        _write(session, courses)


def install() -> None:
    """Watch every session's flushes (once per process)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
