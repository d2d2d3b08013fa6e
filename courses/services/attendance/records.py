"""The attendance record (考勤记录): one per learner and session whichever way they came,
what it measured, the minutes it is worth and the class hours it credits.

Ways of attending, each measured on the record
----------------------------------------------

* **On site** (``checked_in_at`` / ``checked_out_at``, by rotating QR or fallback code,
  ``attendance.checkin``): minutes from check-in to check-out (or the end) within
  the session's time. Arriving within the session's grace (``late_after_minutes``,
  default 10) counts as arriving at the start, and leaving within the grace before the
  end counts as staying to the end. Later than the grace is *late*; leaving earlier than
  the grace before the end is *partial*.
* **Online live** (``online_minutes``, from heartbeats, ``online.record_heartbeat``):
  one minute for every minute of the session's time in which the page reported presence.
* **Imported meeting report** (``imported_minutes``, ``online.set_imported_minutes``).
* **Recorded video** (``video_complete``, ``video.record_video_progress``): at least
  90 % of the video actually watched earns the whole session.

A hybrid session has one record per learner: the way that measured the most minutes
counts (they are not added up, since a learner is in one place at a time). Online
minutes and imported minutes that reach the session's length less the grace count as
the whole session, like an on-time on-site learner.

A trainer's roll-call or correction (``roll_call.mark``) sets the status and minutes by
hand (``manual``): automatic ways keep measuring but no longer change them.

Credit and its rounding
-----------------------

Credited hours = attended minutes ÷ minutes per class hour (``MINUTES_PER_CLASS_HOUR``,
default 45), capped at the session's class hours, rounded half up to two decimals per
record (``courses.services.class_hours``). An enrolment's credited hours are the sum over
the course's sessions (``completion.earned_hours``).

Locks
-----

Every change to attendance and completion first locks the learners' attending
enrolments (``lock_attending``), in id order, then their records (``record_for``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.db import db, dialect_statement, utcnow
from courses.errors import PermissionDenied
from courses.models import (
    AttendanceMethod,
    AttendanceRecord,
    AttendanceStatus,
    Course,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    User,
)
from courses.services import permissions
from courses.services.class_hours import hours_for_minutes

#: Enrolments whose learners attend sessions and earn credit.
ATTENDING_STATUSES = (
    EnrolmentStatus.ENROLLED,
    EnrolmentStatus.COMPLETED,
    EnrolmentStatus.INCOMPLETE,
)
#: Between two ways that measured the same minutes, the better status counts.
_STATUS_RANK = {
    AttendanceStatus.PRESENT: 3,
    AttendanceStatus.LATE: 2,
    AttendanceStatus.PARTIAL: 1,
    AttendanceStatus.EXCUSED: 0,
    AttendanceStatus.ABSENT: 0,
}


# ---- reading -----------------------------------------------------------------------------


def session_minutes(session: CourseSession) -> int:
    return max(0, int((session.ends_at - session.starts_at).total_seconds() // 60))


def elapsed_minutes(session: CourseSession, now: datetime) -> int:
    """The minutes of the session's time that have passed by ``now``: all of them once
    it has ended, none before it starts. No record is credited more than this."""
    if now >= session.ends_at:
        return session_minutes(session)
    if now <= session.starts_at:
        return 0
    return int((now - session.starts_at).total_seconds() // 60)


def has_ended(session: CourseSession, now: datetime) -> bool:
    return session.ends_at <= now


def credited_hours(minutes: int, class_hours: float) -> float:
    """Minutes ÷ minutes per class hour, capped at ``class_hours``, rounded
    (``class_hours.hours_for_minutes``)."""
    return hours_for_minutes(minutes, cap=class_hours)


def attending_enrolment(session: CourseSession, user_id: int) -> Enrolment | None:
    """The learner's enrolment in the session's course that lets them attend, if any."""
    return db.session.scalars(
        sa.select(Enrolment).where(
            Enrolment.course_id == session.course_id,
            Enrolment.user_id == user_id,
            Enrolment.status.in_(ATTENDING_STATUSES),
        )
    ).first()


def lock_attending(course_id: int, user_ids: list[int] | None = None) -> list[Enrolment]:
    """The attending enrolments of a course (of ``user_ids``, or all), locked until the
    transaction ends, in id order: every change to attendance and completion takes these
    locks first and in this order, so changes to one learner happen one at a time and
    never deadlock."""
    if user_ids is not None and not user_ids:
        return []
    statement = sa.select(Enrolment).where(
        Enrolment.course_id == course_id, Enrolment.status.in_(ATTENDING_STATUSES)
    )
    if user_ids is not None:
        statement = statement.where(Enrolment.user_id.in_(user_ids))
    return list(
        db.session.scalars(
            statement.order_by(Enrolment.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def require_attendee(session: CourseSession, user: User) -> Enrolment:
    """The learner's enrolment, locked until the transaction ends so that changes to
    one learner's attendance and completion happen one at a time; refused with
    ``not_enrolled`` when the learner is not enrolled in the course."""
    locked = lock_attending(session.course_id, [user.id])
    enrolment = locked[0] if locked else None
    if enrolment is None:
        raise PermissionDenied(
            _l("You are not enrolled in this course, so attendance cannot be recorded."),
            code="not_enrolled",
        )
    return enrolment


def require_session_manager(actor: User | None, session: CourseSession) -> Course:
    course = session.course
    permissions.require_course_manager(actor, course)
    return course


# ---- the record --------------------------------------------------------------------------


@dialect_statement
def _upsert_statement(insert: Any) -> Any:
    """Insert the record, or touch the existing one: either way the row comes back
    (locked on PostgreSQL until the transaction ends) in one statement."""
    statement = insert(AttendanceRecord)
    return statement.on_conflict_do_update(
        index_elements=["session_id", "user_id"],
        set_={"updated_at": statement.excluded.updated_at},
    ).returning(AttendanceRecord)


def record_for(
    session: CourseSession, user_id: int, enrolment: Enrolment | None
) -> AttendanceRecord:
    """The learner's record for the session, created (absent, nothing measured) if
    missing, and locked until the transaction ends."""
    now = utcnow()
    record = db.session.scalars(
        _upsert_statement(),
        [
            {
                "session_id": session.id,
                "user_id": user_id,
                "enrolment_id": enrolment.id if enrolment is not None else None,
                "status": AttendanceStatus.ABSENT,
                "method": AttendanceMethod.MANUAL,
                "minutes": 0,
                "credited_hours": 0,
                "online_minutes": 0,
                "imported_minutes": 0,
                "video_complete": False,
                "manual": False,
                "created_at": now,
                "updated_at": now,
            }
        ],
        execution_options={"populate_existing": True},
    ).one()
    if enrolment is not None and record.enrolment_id != enrolment.id:
        record.enrolment_id = enrolment.id
    return record


@dataclass(frozen=True)
class Measured:
    minutes: int
    status: AttendanceStatus
    method: AttendanceMethod


def _onsite(record: AttendanceRecord, session: CourseSession, now: datetime) -> Measured | None:
    """From check-in to check-out, or to the session's end once it has ended: never
    beyond ``now``."""
    if record.checked_in_at is None:
        return None
    grace = timedelta(minutes=session.late_after_minutes)
    arrived = record.checked_in_at
    late = arrived > session.starts_at + grace
    start = arrived if late else session.starts_at
    left = record.checked_out_at
    early = left is not None and left < session.ends_at - grace
    end = left if early and left is not None else session.ends_at
    end = min(end, now)
    start = min(max(start, session.starts_at), session.ends_at)
    end = min(max(end, session.starts_at), session.ends_at)
    minutes = max(0, int((end - start).total_seconds() // 60))
    if early:
        status = AttendanceStatus.PARTIAL
    elif late:
        status = AttendanceStatus.LATE
    else:
        status = AttendanceStatus.PRESENT
    method = (
        record.method
        if record.method in (AttendanceMethod.QR, AttendanceMethod.CODE)
        else AttendanceMethod.QR
    )
    return Measured(minutes, status, method)


def _remote(
    minutes: int, session: CourseSession, method: AttendanceMethod, first_seen: datetime | None
) -> Measured | None:
    if minutes <= 0:
        return None
    full = session_minutes(session)
    grace = session.late_after_minutes
    if minutes >= full - grace:
        return Measured(full, AttendanceStatus.PRESENT, method)
    late = first_seen is not None and first_seen > session.starts_at + timedelta(minutes=grace)
    status = AttendanceStatus.LATE if late else AttendanceStatus.PARTIAL
    return Measured(min(minutes, full), status, method)


def measure(record: AttendanceRecord, session: CourseSession, now: datetime) -> Measured:
    """What the record's automatic ways of attending add up to by ``now`` (see the
    module doc): live and on-site attendance never count beyond the time that has
    passed; a recording watched to the end counts in full."""
    elapsed = elapsed_minutes(session, now)
    live = [
        _onsite(record, session, now),
        _remote(
            record.online_minutes,
            session,
            AttendanceMethod.ONLINE_JOIN,
            record.first_seen_online_at,
        ),
        _remote(record.imported_minutes, session, AttendanceMethod.IMPORT, None),
    ]
    candidates = [
        Measured(min(c.minutes, elapsed), c.status, c.method) for c in live if c is not None
    ]
    if record.video_complete:
        candidates.append(
            Measured(session_minutes(session), AttendanceStatus.PRESENT, AttendanceMethod.VIDEO)
        )
    if not candidates:
        return Measured(0, AttendanceStatus.ABSENT, record.method)
    return max(candidates, key=lambda c: (c.minutes, _STATUS_RANK[c.status]))


def derive(record: AttendanceRecord, session: CourseSession, now: datetime) -> None:
    """Bring the record's status, minutes and credit up to date with what was measured
    by ``now`` (a trainer's manual status is kept, and the minutes they gave count as
    far as the session's time has passed)."""
    if not record.manual:
        measured = measure(record, session, now)
        record.status = measured.status
        record.minutes = measured.minutes
        record.method = measured.method
    elif record.status in (AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED):
        record.minutes = 0
    else:
        given = record.manual_minutes if record.manual_minutes is not None else record.minutes
        record.minutes = min(given, elapsed_minutes(session, now))
    record.credited_hours = credited_hours(record.minutes, session.class_hours)


# ---- the learner's own -------------------------------------------------------------------


def own_record(user: User, session: CourseSession) -> AttendanceRecord | None:
    return db.session.scalars(
        sa.select(AttendanceRecord).where(
            AttendanceRecord.session_id == session.id, AttendanceRecord.user_id == user.id
        )
    ).first()


def todays_sessions(user: User, now: datetime | None = None) -> list[CourseSession]:
    """The learner's sessions from 12 hours ago to 12 hours ahead, soonest first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(CourseSession)
            .join(Enrolment, Enrolment.course_id == CourseSession.course_id)
            .where(
                Enrolment.user_id == user.id,
                Enrolment.status.in_(ATTENDING_STATUSES),
                CourseSession.ends_at >= now - timedelta(hours=12),
                CourseSession.starts_at <= now + timedelta(hours=12),
            )
            .order_by(CourseSession.starts_at)
        )
    )
