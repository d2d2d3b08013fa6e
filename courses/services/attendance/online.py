"""Online presence (在线出勤): the session page's heartbeats, and the minutes an imported
online-meeting report gives.

Rules
-----

* Only a session held online or hybrid takes online attendance (``not_online``).
* The page reports presence about once a minute (``join`` is the first report): each
  report credits the minute it falls in, if that lies inside the session's time; a
  report moments after the previous one (``HEARTBEAT_GAP``) also credits the minutes in
  between. Reports outside the session's time are accepted and earn nothing. Minutes are
  stored once each (``AttendanceHeartbeat``), so a report sent twice counts once.
* A meeting report's minutes (``courses.services.meeting_reports``) only ever raise the
  imported minutes: re-applying a report, or an older one, changes nothing.
* How online and imported minutes become status and credit is the record's rule
  (``records.measure``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.db import db, dialect_statement, utcnow
from courses.errors import ValidationFailed
from courses.models import (
    AttendanceHeartbeat,
    AttendanceRecord,
    CourseSession,
    Enrolment,
    SessionMode,
    User,
)
from courses.services.attendance.completion import changed, evaluate_completion
from courses.services.attendance.records import (
    derive,
    record_for,
    require_attendee,
    session_minutes,
)

#: A heartbeat this soon after the previous one also credits the minutes in between
#: (a page that reports every minute may land its reports in minutes 5 and 7).
HEARTBEAT_GAP = timedelta(seconds=150)


def _floor_minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


@dataclass(frozen=True)
class Presence:
    record: AttendanceRecord | None
    counted: bool  # whether this report earned a minute (inside the session's time)


def _online_session(session: CourseSession) -> None:
    if session.mode not in (SessionMode.ONLINE, SessionMode.HYBRID):
        raise ValidationFailed(_l("This session is not held online."), code="not_online")


def record_heartbeat(user: User, session: CourseSession, now: datetime | None = None) -> Presence:
    """The session page is open (``join`` is the first report): credit the current
    minute if it lies inside the session's time (and the minutes since the previous
    report, if that was moments ago). Reports outside the session's time are
    accepted and earn nothing."""
    now = now or utcnow()
    _online_session(session)
    enrolment = require_attendee(session, user)
    if not session.starts_at <= now < session.ends_at:
        return Presence(None, False)
    record = record_for(session, user.id, enrolment)
    minute = _floor_minute(now)
    minutes = [minute]
    last = record.last_seen_online_at
    if last is not None and timedelta(0) < now - last <= HEARTBEAT_GAP:
        step = _floor_minute(last) + timedelta(minutes=1)
        while step < minute:
            minutes.append(step)
            step += timedelta(minutes=1)
    _store_minutes(session.id, user.id, minutes)
    if record.first_seen_online_at is None:
        record.first_seen_online_at = now
    record.last_seen_online_at = max(now, last) if last is not None else now
    record.online_minutes = _counted_minutes(session, user.id)
    changed(record, session, enrolment, now)
    return Presence(record, True)


@dialect_statement
def _heartbeat_insert(insert: Any) -> Any:
    return insert(AttendanceHeartbeat.__table__).on_conflict_do_nothing()


def _store_minutes(session_id: int, user_id: int, minutes: list[datetime]) -> None:
    db.session.execute(
        _heartbeat_insert(),
        [{"session_id": session_id, "user_id": user_id, "minute": m} for m in minutes],
    )


def _counted_minutes(session: CourseSession, user_id: int) -> int:
    """Heartbeat minutes inside the session's time."""
    return (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                AttendanceHeartbeat.session_id == session.id,
                AttendanceHeartbeat.user_id == user_id,
                AttendanceHeartbeat.minute >= _floor_minute(session.starts_at),
                AttendanceHeartbeat.minute < session.ends_at,
            )
        )
        or 0
    )


def set_imported_minutes(
    session: CourseSession,
    enrolment: Enrolment,
    minutes: int,
    now: datetime | None = None,
    *,
    evaluate: bool = True,
) -> bool:
    """Minutes from an online-meeting report (``courses.services.meeting_reports``):
    the larger of what earlier reports and this one say, so re-applying a report, or an
    older one, changes nothing. The caller has locked the enrolment; with ``evaluate``
    false it evaluates completion itself (``evaluate_enrolments``, for many at once).
    Returns whether the record changed."""
    now = now or utcnow()
    record = record_for(session, enrolment.user_id, enrolment)
    minutes = max(0, min(int(minutes), session_minutes(session)))
    if minutes <= record.imported_minutes:
        return False
    record.imported_minutes = minutes
    derive(record, session, now)
    db.session.flush()
    if evaluate:
        evaluate_completion(enrolment, now=now)
    return True
