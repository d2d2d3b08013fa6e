"""Completion of an enrolment (结业): the one place that decides it, called after every
change of attendance (and of feedback: ``courses.services.feedback``), after a change to
a course's sessions or its completion rule (``courses.services.courses``) and for every
enrolment of a course once its last session has ended (``settle``).

Rules
-----

* An enrolment completes when its credited hours (the sum of its records' credited hours
  over the course's sessions) reach the course's threshold (``completion_threshold`` ×
  the course's class hours) and the feedback survey is in when the course requires it.
* Only a course whose last session has ended completes: until then what is credited is
  what has passed so far, and the rest is still to come.
* A completion writes the outbox event ``enrolment.completed`` (the certificate worker's
  input) and a notice.
* If a trainer's correction takes the hours below the threshold again, the completion
  is withdrawn (``enrolment.completion_withdrawn``) and, in the same transaction, its
  certificate revoked with that reason (``certificates.revoke_for_withdrawn``); a
  later completion issues a new one.
* After the last session an enrolment short of the threshold is *incomplete*; a later
  correction can still complete it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from courses.db import db, utcnow
from courses.models import (
    AttendanceRecord,
    Course,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    FeedbackResponse,
    Notice,
    OutboxEvent,
)
from courses.services.attendance.records import (
    ATTENDING_STATUSES,
    derive,
    has_ended,
    lock_attending,
)
from courses.services.certificates.issue import revoke_for_withdrawn
from courses.services.class_hours import round_hours, share_of_hours

COMPLETED_TOPIC = "enrolment.completed"
WITHDRAWN_TOPIC = "enrolment.completion_withdrawn"


@dataclass(frozen=True)
class CourseFacts:
    course_id: int
    title: str
    feedback_required: bool
    class_hours: float
    required_hours: float
    finished: bool


@functools.cache
def _course_facts_statement() -> sa.Select[Any]:
    return (
        sa.select(
            Course.id,
            Course.title,
            Course.feedback_required,
            Course.completion_threshold,
            sa.func.coalesce(sa.func.sum(CourseSession.class_hours), 0),
            sa.func.max(CourseSession.ends_at),
        )
        .outerjoin(CourseSession, CourseSession.course_id == Course.id)
        .where(Course.id == sa.bindparam("course_id"))
        .group_by(Course.id, Course.title, Course.feedback_required, Course.completion_threshold)
    )


@functools.cache
def _learner_facts_statement() -> sa.Select[Any]:
    """The course's facts plus one learner's credited hours and feedback."""
    user_id = sa.bindparam("user_id")
    earned = (
        sa.select(sa.func.coalesce(sa.func.sum(AttendanceRecord.credited_hours), 0))
        .join(CourseSession, CourseSession.id == AttendanceRecord.session_id)
        .where(CourseSession.course_id == Course.id, AttendanceRecord.user_id == user_id)
        .scalar_subquery()
    )
    gave = sa.exists().where(
        FeedbackResponse.course_id == Course.id, FeedbackResponse.user_id == user_id
    )
    return _course_facts_statement().add_columns(earned, gave)


def _facts(row: Any, now: datetime) -> CourseFacts:
    course_id, title, feedback_required, threshold, hours, last_end = row[:6]
    hours = float(hours or 0)
    required = share_of_hours(threshold, hours)
    finished = last_end is not None and last_end <= now
    return CourseFacts(course_id, title, feedback_required, hours, required, finished)


def course_facts(course_id: int, now: datetime) -> CourseFacts:
    """What completion depends on in the course, in one statement."""
    return _facts(
        db.session.execute(_course_facts_statement(), {"course_id": course_id}).one(), now
    )


def learner_facts(course_id: int, user_id: int, now: datetime) -> tuple[CourseFacts, float, bool]:
    """The course's facts, the learner's credited hours in it and whether they gave
    feedback, in one statement."""
    row = db.session.execute(
        _learner_facts_statement(), {"course_id": course_id, "user_id": user_id}
    ).one()
    return _facts(row, now), round_hours(row[6]), bool(row[7])


def earned_hours(course_id: int, user_ids: list[int]) -> dict[int, float]:
    """Credited hours per learner over the course's sessions, in one statement."""
    rows = db.session.execute(
        sa.select(AttendanceRecord.user_id, sa.func.sum(AttendanceRecord.credited_hours))
        .join(CourseSession, CourseSession.id == AttendanceRecord.session_id)
        .where(CourseSession.course_id == course_id, AttendanceRecord.user_id.in_(user_ids))
        .group_by(AttendanceRecord.user_id)
    )
    return {user_id: round_hours(total) for user_id, total in rows}


def evaluate_completion(
    enrolment: Enrolment,
    now: datetime | None = None,
    *,
    facts: CourseFacts | None = None,
    earned: float | None = None,
    feedback_given: bool | None = None,
) -> str | None:
    """Decide the enrolment's completion from its credited hours, the course's
    threshold and the feedback rule (see the module doc). Returns what happened:
    ``completed``, ``withdrawn``, ``incomplete``, ``reopened`` or None."""
    if enrolment.status not in ATTENDING_STATUSES:
        return None
    now = now or utcnow()
    if facts is None and earned is None and feedback_given is None:
        facts, earned, feedback_given = learner_facts(enrolment.course_id, enrolment.user_id, now)
    facts = facts or course_facts(enrolment.course_id, now)
    if earned is None:
        earned = earned_hours(facts.course_id, [enrolment.user_id]).get(enrolment.user_id, 0.0)
    if enrolment.credited_hours != earned:
        enrolment.credited_hours = earned
    if feedback_given is None:
        feedback_given = facts.feedback_required and _has_feedback(
            facts.course_id, enrolment.user_id
        )
    feedback_ok = not facts.feedback_required or feedback_given
    # Only a course whose last session has ended completes: until then what is
    # credited is what has passed so far, and the rest is still to come.
    met = (
        facts.finished
        and facts.class_hours > 0
        and earned + 1e-9 >= facts.required_hours
        and feedback_ok
    )
    status = enrolment.status
    if met and status != EnrolmentStatus.COMPLETED:
        enrolment.status = EnrolmentStatus.COMPLETED
        enrolment.completed_at = now
        _completion_event(enrolment, facts, COMPLETED_TOPIC, now)
        return "completed"
    if not met and status == EnrolmentStatus.COMPLETED:
        revoke_for_withdrawn(enrolment, now)
        enrolment.status = (
            EnrolmentStatus.INCOMPLETE if facts.finished else EnrolmentStatus.ENROLLED
        )
        enrolment.completed_at = None
        _completion_event(enrolment, facts, WITHDRAWN_TOPIC, now)
        return "withdrawn"
    if not met and status == EnrolmentStatus.ENROLLED and facts.finished:
        enrolment.status = EnrolmentStatus.INCOMPLETE
        return "incomplete"
    if not met and status == EnrolmentStatus.INCOMPLETE and not facts.finished:
        enrolment.status = EnrolmentStatus.ENROLLED
        return "reopened"
    return None


def _has_feedback(course_id: int, user_id: int) -> bool:
    return (
        db.session.scalar(
            sa.select(FeedbackResponse.id).where(
                FeedbackResponse.course_id == course_id, FeedbackResponse.user_id == user_id
            )
        )
        is not None
    )


def _feedback_givers(course_id: int, user_ids: list[int]) -> set[int]:
    if not user_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(FeedbackResponse.user_id).where(
                FeedbackResponse.course_id == course_id, FeedbackResponse.user_id.in_(user_ids)
            )
        )
    )


def _completion_event(enrolment: Enrolment, course: CourseFacts, topic: str, now: datetime) -> None:
    """The outbox event (the certificate worker's input; a consumer re-reads the
    enrolment, so a withdrawn completion issues nothing) and the learner's notice."""
    db.session.add(
        OutboxEvent(
            topic=topic,
            payload={"enrolment_id": enrolment.id, "course_id": course.course_id},
            dedup_key=f"{topic}:{enrolment.id}:{now.isoformat()}",
        )
    )
    kind = "enrolment_completed" if topic == COMPLETED_TOPIC else "enrolment_completion_withdrawn"
    db.session.add(
        Notice(
            user_id=enrolment.user_id,
            kind=kind,
            data={"course_id": course.course_id, "course_title": course.title},
            created_at=now,
        )
    )


def evaluate_enrolments(enrolments: list[Enrolment], now: datetime | None = None) -> None:
    """Evaluate the completion of several (locked) enrolments of one course, with the
    course's facts, their hours and their feedback read in three statements."""
    if not enrolments:
        return
    now = now or utcnow()
    _evaluate_locked(enrolments[0].course_id, enrolments, now)


def evaluate_course(
    course: Course, now: datetime | None = None, *, rederive: CourseSession | None = None
) -> dict[str, int]:
    """Evaluate every attending enrolment of a course (after its last session, or after
    a change to its sessions or its completion rule), with the hours summed in one
    statement. ``rederive``: a session whose times or class hours changed, whose records
    are derived again first. The enrolments are locked before the records, in the order
    every attendance change takes them. Returns how many had each outcome."""
    now = now or utcnow()
    enrolments = lock_attending(course.id)
    if rederive is not None:
        _rederive(rederive, now)
    outcome = _evaluate_locked(course.id, enrolments, now)
    db.session.flush()
    return outcome


def _rederive(session: CourseSession, now: datetime) -> None:
    """Derive the session's records again (locked, in id order) and mark it settled if
    it has ended, or unsettled if it has not (its times may have moved)."""
    for record in db.session.scalars(
        sa.select(AttendanceRecord)
        .where(AttendanceRecord.session_id == session.id)
        .order_by(AttendanceRecord.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ):
        derive(record, session, now)
    session.settled_at = now if has_ended(session, now) else None
    db.session.flush()


def _evaluate_locked(course_id: int, enrolments: list[Enrolment], now: datetime) -> dict[str, int]:
    """Evaluate locked enrolments of one course with the course's facts, their hours
    and their feedback read once for all; how many had each outcome."""
    facts = course_facts(course_id, now)
    user_ids = [e.user_id for e in enrolments]
    earned = earned_hours(course_id, user_ids) if enrolments else {}
    gave = _feedback_givers(course_id, user_ids) if facts.feedback_required else set()
    outcome: dict[str, int] = {}
    for enrolment in enrolments:
        result = evaluate_completion(
            enrolment,
            now,
            facts=facts,
            earned=earned.get(enrolment.user_id, 0.0),
            feedback_given=enrolment.user_id in gave,
        )
        if result:
            outcome[result] = outcome.get(result, 0) + 1
    return outcome


def changed(
    record: AttendanceRecord, session: CourseSession, enrolment: Enrolment | None, now: datetime
) -> None:
    """After a change to what a record measured: derive it, then evaluate completion."""
    derive(record, session, now)
    db.session.flush()
    if enrolment is not None:
        evaluate_completion(enrolment, now=now)
