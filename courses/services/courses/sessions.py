"""A course's sessions: adding, changing and deleting them, and the rules a session meets.

Rules: a session starts and ends within the planned years, ends after it starts and
overlaps no other session of its course; its mode decides which place fields it keeps
(``MODE_FIELDS``) and which it cannot do without (``MODE_REQUIRED``); links are
http(s); its class hours are more than 0 and at most ``MAX_CLASS_HOURS``, derived from
its length (``default_class_hours``) when not given, and again when its times move;
its capacity, when set, is at least 1. A session nobody attended may be deleted, as
long as a published course keeps one.

Every change re-evaluates the completion of the course's learners when it changes
what their attendance is worth.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.db import db
from courses.errors import Conflict, ValidationFailed
from courses.models import (
    AttendanceRecord,
    Course,
    CourseSession,
    PublicationStatus,
    SessionMode,
    User,
)
from courses.services import attendance, audit
from courses.services.class_hours import hours_for_minutes, round_hours
from courses.services.courses.queries import session_count
from courses.services.courses.rules import (
    RuleErrors,
    aware,
    capacity_or_none,
    check_lengths,
    clean_text,
    in_years,
    merged_values,
    optional_text,
    parse_enum,
)
from courses.services.permissions import require_course_manager
from courses.settings import to_local

MAX_CLASS_HOURS = 999.99  # the column holds 5 digits, 2 of them decimals

SESSION_FIELDS = (
    "title",
    "starts_at",
    "ends_at",
    "mode",
    "venue",
    "room",
    "address",
    "meeting_url",
    "meeting_number",
    "video_url",
    "class_hours",
    "capacity",
)
#: The place fields each session mode uses; the others are cleared. A replay link
#: (``video_url``) may accompany any mode.
MODE_FIELDS: dict[SessionMode, frozenset[str]] = {
    SessionMode.OFFLINE: frozenset({"venue", "room", "address", "video_url"}),
    SessionMode.ONLINE: frozenset({"meeting_url", "meeting_number", "video_url"}),
    SessionMode.RECORDED: frozenset({"video_url"}),
    SessionMode.HYBRID: frozenset(
        {"venue", "room", "address", "meeting_url", "meeting_number", "video_url"}
    ),
}
#: The fields each mode cannot do without.
MODE_REQUIRED: dict[SessionMode, tuple[str, ...]] = {
    SessionMode.OFFLINE: ("venue",),
    SessionMode.ONLINE: ("meeting_url",),
    SessionMode.RECORDED: ("video_url",),
    SessionMode.HYBRID: ("venue", "meeting_url"),
}
PLACE_FIELDS = ("venue", "room", "address", "meeting_url", "meeting_number", "video_url")
#: Session fields that change what its attendance records are worth.
CREDIT_FIELDS = frozenset({"starts_at", "ends_at", "class_hours", "late_after_minutes"})


def default_class_hours(starts_at: datetime, ends_at: datetime) -> float:
    """The session's length in class hours (``class_hours.hours_for_minutes``): 90
    minutes at 45 per hour are 2.0, 100 minutes 2.22."""
    return hours_for_minutes((ends_at - starts_at).total_seconds() / 60)


# --- one check per rule --------------------------------------------------------------------


def _clean_texts(errors: RuleErrors, values: dict[str, Any]) -> None:
    """The title and the place fields, trimmed (empty places: none), within their lengths."""
    values["title"] = clean_text(values["title"])
    for name in PLACE_FIELDS:
        values[name] = optional_text(values[name])
    check_lengths(errors, values, ("title", *PLACE_FIELDS))


def _clean_mode(errors: RuleErrors, values: dict[str, Any]) -> None:
    """The mode is among its options; it keeps only its own place fields and has the
    ones it needs (``missing_location``)."""
    mode = parse_enum(errors, SessionMode, "mode", values["mode"])
    values["mode"] = mode
    if mode is None:
        return
    for name in PLACE_FIELDS:
        if name not in MODE_FIELDS[mode]:
            values[name] = None
    for name in MODE_REQUIRED[mode]:
        if values[name] is None:
            message = {
                "venue": _l("Enter the venue of this session."),
                "meeting_url": _l("Enter the link of the online meeting."),
                "video_url": _l("Enter the link of the recorded video."),
            }[name]
            errors.add("missing_location", name, message)


def _check_url(errors: RuleErrors, name: str, value: str | None) -> None:
    if value is None:
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        errors.add("invalid_url", name, _l("Enter a link starting with http:// or https://."))


def _clean_times(
    errors: RuleErrors, course: Course, session: CourseSession | None, values: dict[str, Any]
) -> None:
    """Both times given, within the planned years, the end after the start, and no
    other session of the course in between."""
    given_start, given_end = values["starts_at"], values["ends_at"]
    starts_at = aware(in_years(errors, "starts_at", given_start))
    ends_at = aware(in_years(errors, "ends_at", given_end))
    values["starts_at"], values["ends_at"] = starts_at, ends_at
    if given_start is None:
        errors.add("required", "starts_at", _l("Enter when the session starts."))
    if given_end is None:
        errors.add("required", "ends_at", _l("Enter when the session ends."))
    if starts_at is None or ends_at is None:
        return
    if ends_at <= starts_at:
        errors.add("ends_before_start", "ends_at", _l("The session must end after it starts."))
        return
    overlapping = _overlapping(course, session, starts_at, ends_at)
    if overlapping is not None:
        errors.add(
            "sessions_overlap",
            "starts_at",
            _l(
                "This session overlaps another session of the course (%(start)s – %(end)s).",
                start=_local_label(overlapping.starts_at),
                end=_local_label(overlapping.ends_at),
            ),
        )


def _class_hours(
    errors: RuleErrors,
    session: CourseSession | None,
    data: Mapping[str, Any],
    values: dict[str, Any],
) -> float | None:
    """The hours given, or (not given, or the times moved without them) the length's."""
    hours = values["class_hours"]
    starts_at, ends_at = values["starts_at"], values["ends_at"]
    times_changed = "starts_at" in data or "ends_at" in data
    if hours in (None, "") or (session is not None and times_changed and "class_hours" not in data):
        # Not given: derived from the duration (again, when the times move).
        hours = (
            default_class_hours(starts_at, ends_at)
            if starts_at is not None and ends_at is not None and ends_at > starts_at
            else None
        )
    if hours is None:
        return None
    try:
        hours = round_hours(float(hours))
    except (TypeError, ValueError, ArithmeticError):
        hours = -1.0
    if not 0 < hours <= MAX_CLASS_HOURS:
        errors.add(
            "invalid_hours",
            "class_hours",
            _l("Class hours must be more than 0 (and below 1000)."),
        )
    return hours


def _validate_session(
    course: Course, session: CourseSession | None, data: Mapping[str, Any]
) -> dict[str, Any]:
    """The cleaned values of a whole session of ``course`` (the current values of
    ``session`` merged with ``data``), or every rule it breaks."""
    errors = RuleErrors()
    values = merged_values(SESSION_FIELDS, session, data)
    _clean_texts(errors, values)
    _clean_mode(errors, values)
    _check_url(errors, "meeting_url", values["meeting_url"])
    _check_url(errors, "video_url", values["video_url"])
    _clean_times(errors, course, session, values)
    values["class_hours"] = _class_hours(errors, session, data, values)
    values["capacity"] = capacity_or_none(errors, values["capacity"])
    errors.raise_if_any()
    return values


def _local_label(value: datetime) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M")


def _overlapping(
    course: Course, session: CourseSession | None, starts_at: datetime, ends_at: datetime
) -> CourseSession | None:
    """Another session of the course sharing some time with [starts_at, ends_at)."""
    if course.id is None:
        return None
    statement = (
        sa.select(CourseSession)
        .where(
            CourseSession.course_id == course.id,
            CourseSession.starts_at < ends_at,
            CourseSession.ends_at > starts_at,
        )
        .order_by(CourseSession.starts_at)
        .limit(1)
    )
    if session is not None and session.id is not None:
        statement = statement.where(CourseSession.id != session.id)
    with db.session.no_autoflush:
        return db.session.scalar(statement)


# --- changes ---------------------------------------------------------------------------------


def add_session(actor: User, course: Course, data: Mapping[str, Any]) -> CourseSession:
    """A new session of ``course``; the course's hours, and so its threshold, grow."""
    require_course_manager(actor, course)
    values = _validate_session(course, None, data)
    session = CourseSession(course_id=course.id, **values)
    db.session.add(session)
    db.session.flush()
    db.session.expire(course, ["sessions"])
    attendance.evaluate_course(course)  # the course's hours, and so the threshold, grew
    audit.record(
        actor,
        "session.create",
        "course_session",
        session.id,
        course_id=course.id,
        starts_at=session.starts_at.isoformat(),
    )
    return session


def update_session(
    actor: User, session: CourseSession, changes: Mapping[str, Any]
) -> CourseSession:
    """Change what ``changes`` names; moved times re-derive hours not given."""
    course = session.course
    require_course_manager(actor, course)
    values = _validate_session(course, session, changes)
    changed = [name for name in SESSION_FIELDS if getattr(session, name) != values[name]]
    for name in changed:
        setattr(session, name, values[name])
    db.session.flush()
    if set(changed) & CREDIT_FIELDS:  # what the records are worth changed
        attendance.evaluate_course(course, rederive=session)
    if changed:
        audit.record(
            actor,
            "session.update",
            "course_session",
            session.id,
            course_id=course.id,
            fields=sorted(changed),
        )
    return session


def delete_session(actor: User, session: CourseSession) -> None:
    """Remove a session that nobody attended; a published course keeps at least one."""
    course = session.course
    require_course_manager(actor, course)
    attended = db.session.scalar(
        sa.select(AttendanceRecord.id).where(AttendanceRecord.session_id == session.id).limit(1)
    )
    if attended is not None:
        raise Conflict(
            _l("Attendance has been recorded for this session; it cannot be deleted."),
            code="session_has_attendance",
        )
    if course.status == PublicationStatus.PUBLISHED and session_count(course) <= 1:
        raise ValidationFailed(
            _l("A published course needs at least one session; archive the course instead."),
            fields={"status": [_l("A published course needs at least one session.")]},
            code="no_sessions",
        )
    session_id, starts_at = session.id, session.starts_at
    db.session.delete(session)
    db.session.flush()
    db.session.expire(course, ["sessions"])
    attendance.evaluate_course(course)
    audit.record(
        actor,
        "session.delete",
        "course_session",
        session_id,
        course_id=course.id,
        starts_at=starts_at.isoformat(),
    )
