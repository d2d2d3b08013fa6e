"""Computing the summary tables from the raw records, in SQL: one ``INSERT … SELECT …
GROUP BY`` per table, for one course (an event touched it) or for all (beat, nightly,
and ``academy stats recompute``). Both run the same statements, so an incremental
refresh and a full recompute cannot disagree.

What counts (draft courses count for nothing):

- sessions and class hours (课时): every session, in the month it starts; online
  means an online or recorded session (a hybrid one is held at its venue).
- participant-times (人次): attendance records that earned credit, in the month of
  their session; online when the learner came online (joined the live meeting,
  watched the recording, or an imported meeting report); the learner's organisation.
- enrolments: seats held (enrolled, completed or incomplete), completions, and the
  feedback responses, in the month of the course's first session, so that a course's
  completion rate compares its own learners.
- certificates: valid course certificates, in the month of issue.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from courses.db import db
from courses.models import (
    AttendanceMethod,
    AttendanceRecord,
    Certificate,
    CertificateKind,
    CertificateStatus,
    Course,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    FeedbackResponse,
    PublicationStatus,
    SessionMode,
    StatCourseMonth,
    StatLearnerMonth,
    StatParticipant,
    User,
)
from courses.models.stats import NO_ORGANISATION
from courses.services.stats.periods import local_month

ONLINE_SESSIONS = (SessionMode.ONLINE, SessionMode.RECORDED)
ONLINE_METHODS = (AttendanceMethod.ONLINE_JOIN, AttendanceMethod.VIDEO, AttendanceMethod.IMPORT)
SEAT_HOLDING = (EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED, EnrolmentStatus.INCOMPLETE)
TABLES = (StatCourseMonth, StatLearnerMonth, StatParticipant)
#: ``pg_advisory_xact_lock`` key space of the refreshes (the second key: a course id).
_LOCK_SPACE = 7_301


def _counted(course_id: Any, course_ids: Sequence[int] | None) -> sa.ColumnElement[bool]:
    """The rows of counted courses: not drafts, and among ``course_ids`` when given."""
    counted = sa.select(Course.id).where(Course.status != PublicationStatus.DRAFT)
    if course_ids is not None:
        counted = counted.where(Course.id.in_(course_ids))
    return course_id.in_(counted)


def _flag(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.case((condition, 1), else_=0)


def _organisation() -> sa.ColumnElement[int]:
    # The constant is written into the SQL, not bound: PostgreSQL must see the select
    # and the GROUP BY expression as one and the same.
    return sa.func.coalesce(User.organisation_id, sa.literal_column(str(NO_ORGANISATION)))


def course_months(course_ids: Sequence[int] | None = None) -> sa.Select[Any]:
    month = local_month(CourseSession.starts_at)
    online = CourseSession.mode.in_(ONLINE_SESSIONS)
    return (
        sa.select(
            CourseSession.course_id,
            month.label("month"),
            sa.func.count().label("sessions"),
            sa.func.sum(_flag(online)).label("sessions_online"),
            sa.func.sum(CourseSession.class_hours).label("class_hours"),
            sa.func.sum(sa.case((online, CourseSession.class_hours), else_=0)).label(
                "class_hours_online"
            ),
        )
        .where(_counted(CourseSession.course_id, course_ids))
        .group_by(CourseSession.course_id, month)
    )


def _opening_months(course_ids: Sequence[int] | None) -> Any:
    """Each counted course's first month (that of its first session)."""
    return (
        sa.select(
            CourseSession.course_id,
            sa.func.min(local_month(CourseSession.starts_at)).label("month"),
        )
        .where(_counted(CourseSession.course_id, course_ids))
        .group_by(CourseSession.course_id)
        .subquery("opening")
    )


#: The additive columns of ``stat_learner_months`` (figures.py sums the same ones).
LEARNER_FIGURES = (
    "enrolments",
    "completions",
    "participant_times",
    "participant_times_online",
    "credited_hours",
    "certificates",
    "feedback_count",
    "score_sum",
)


def _part(course_id: Any, month: Any, **figures: Any) -> list[Any]:
    """One branch of the learner figures' union: the figures it gives, zero the rest."""
    columns = [course_id.label("course_id"), month.label("month"), _organisation().label("org")]
    for name in LEARNER_FIGURES:
        columns.append(sa.cast(figures.get(name, 0), _type(name)).label(name))
    return columns


def _type(name: str) -> Any:
    return sa.Numeric(12, 2) if name == "credited_hours" else sa.Integer


def _enrolment_part(opening: Any) -> sa.Select[Any]:
    return (
        sa.select(
            *_part(
                Enrolment.course_id,
                opening.c.month,
                enrolments=sa.func.count(),
                completions=sa.func.sum(_flag(Enrolment.status == EnrolmentStatus.COMPLETED)),
            )
        )
        .join(User, User.id == Enrolment.user_id)
        .join(opening, opening.c.course_id == Enrolment.course_id)
        .where(Enrolment.status.in_(SEAT_HOLDING))
        .group_by(Enrolment.course_id, opening.c.month, _organisation())
    )


def _attendance_part(course_ids: Sequence[int] | None) -> sa.Select[Any]:
    month = local_month(CourseSession.starts_at)
    return (
        sa.select(
            *_part(
                CourseSession.course_id,
                month,
                participant_times=sa.func.count(),
                participant_times_online=sa.func.sum(
                    _flag(AttendanceRecord.method.in_(ONLINE_METHODS))
                ),
                credited_hours=sa.func.sum(AttendanceRecord.credited_hours),
            )
        )
        .join(CourseSession, CourseSession.id == AttendanceRecord.session_id)
        .join(User, User.id == AttendanceRecord.user_id)
        .where(AttendanceRecord.credited_hours > 0, _counted(CourseSession.course_id, course_ids))
        .group_by(CourseSession.course_id, month, _organisation())
    )


def _certificate_part(course_ids: Sequence[int] | None) -> sa.Select[Any]:
    month = local_month(Certificate.issued_at)
    return (
        sa.select(*_part(Certificate.course_id, month, certificates=sa.func.count()))
        .join(User, User.id == Certificate.user_id)
        .where(
            Certificate.kind == CertificateKind.COURSE,
            Certificate.status == CertificateStatus.VALID,
            _counted(Certificate.course_id, course_ids),
        )
        .group_by(Certificate.course_id, month, _organisation())
    )


def _feedback_part(opening: Any) -> sa.Select[Any]:
    scores = (
        FeedbackResponse.content_score
        + FeedbackResponse.trainer_score
        + FeedbackResponse.organisation_score
    )
    return (
        sa.select(
            *_part(
                FeedbackResponse.course_id,
                opening.c.month,
                feedback_count=sa.func.count(),
                score_sum=sa.func.sum(scores),
            )
        )
        .join(User, User.id == FeedbackResponse.user_id)
        .join(opening, opening.c.course_id == FeedbackResponse.course_id)
        .group_by(FeedbackResponse.course_id, opening.c.month, _organisation())
    )


def learner_months(course_ids: Sequence[int] | None = None) -> sa.Select[Any]:
    """The four kinds of learner figures, each grouped, then added up by course, month
    and organisation."""
    opening = _opening_months(course_ids)
    every = sa.union_all(
        _enrolment_part(opening),
        _attendance_part(course_ids),
        _certificate_part(course_ids),
        _feedback_part(opening),
    ).subquery("every")
    return sa.select(
        every.c.course_id,
        every.c.month,
        every.c.org,
        *(sa.func.sum(every.c[name]).label(name) for name in LEARNER_FIGURES),
    ).group_by(every.c.course_id, every.c.month, every.c.org)


def participants(course_ids: Sequence[int] | None = None) -> sa.Select[Any]:
    month = local_month(CourseSession.starts_at)
    online = AttendanceRecord.method.in_(ONLINE_METHODS)
    return (
        sa.select(
            CourseSession.course_id,
            month.label("month"),
            AttendanceRecord.user_id,
            _organisation().label("org"),
            (sa.func.max(_flag(online)) == 1).label("online"),
            (sa.func.min(_flag(online)) == 0).label("offline"),
        )
        .join(CourseSession, CourseSession.id == AttendanceRecord.session_id)
        .join(User, User.id == AttendanceRecord.user_id)
        .where(AttendanceRecord.credited_hours > 0, _counted(CourseSession.course_id, course_ids))
        .group_by(CourseSession.course_id, month, AttendanceRecord.user_id, _organisation())
    )


def _write(course_ids: Sequence[int] | None) -> None:
    for table in TABLES:
        delete = sa.delete(table)
        if course_ids is not None:
            delete = delete.where(table.course_id.in_(course_ids))
        db.session.execute(delete)
    course_columns = [
        "course_id",
        "month",
        "sessions",
        "sessions_online",
        "class_hours",
        "class_hours_online",
    ]
    db.session.execute(
        sa.insert(StatCourseMonth).from_select(course_columns, course_months(course_ids))
    )
    db.session.execute(
        sa.insert(StatLearnerMonth).from_select(
            ["course_id", "month", "organisation_id", *LEARNER_FIGURES],
            learner_months(course_ids),
        )
    )
    db.session.execute(
        sa.insert(StatParticipant).from_select(
            ["course_id", "month", "user_id", "organisation_id", "online", "offline"],
            participants(course_ids),
        )
    )


def refresh_course(course_id: int) -> None:
    """Recompute one course's rows (every month of it, as its first session may have
    moved). Concurrent refreshes of the same course wait for each other on PostgreSQL
    (an advisory lock; SQLite writes one at a time anyway)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_SPACE, course_id)))
    _write([course_id])


def recompute_all() -> dict[str, int]:
    """Every row again from the raw records, in one transaction: readers keep seeing
    the previous figures until it commits; refreshes wait for it (PostgreSQL)."""
    if db.session.get_bind().dialect.name == "postgresql":
        names = ", ".join(table.__tablename__ for table in TABLES)
        db.session.execute(sa.text(f"LOCK TABLE {names} IN EXCLUSIVE MODE"))
    _write(None)
    return {
        table.__tablename__: int(db.session.scalar(sa.select(sa.func.count()).select_from(table)))
        for table in TABLES
    }
