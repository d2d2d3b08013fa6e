"""Cloning a course for a new run: a draft copy with the same trainers, prerequisites,
programme and rules, every session and the enrolment window moved in time.

How far a run moves comes from at most one of a number of days, the new moment of the
first session, or its new date at the same time of day (``clone_shift``). Nothing may
move outside the planned years (``date_out_of_range``), and each moved session meets
every rule of a new session, so a clone holds only sessions one could add. Nobody is
enrolled in the copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l

from courses.db import db
from courses.errors import ValidationFailed
from courses.models import Course, CourseSession, PublicationStatus, User
from courses.services import audit
from courses.services.courses.editing import COURSE_FIELDS, WINDOW_FIELDS
from courses.services.courses.rules import TITLE_LENGTH, clean_text, refuse_outside_years
from courses.services.courses.sessions import SESSION_FIELDS, _validate_session
from courses.services.permissions import require_course_creator, require_course_manager
from courses.settings import from_local, to_local

#: The course's moments that move with its sessions.
MOVED_FIELDS = WINDOW_FIELDS
#: The course fields a copy takes over as they are.
COPIED_FIELDS = tuple(
    name for name in COURSE_FIELDS if name not in ("title", "status", *MOVED_FIELDS)
)


def _clone_date_error(
    name: str, message: Any, code: str = "invalid_clone_date"
) -> ValidationFailed:
    return ValidationFailed(message, fields={name: [message]}, code=code)


def clone_shift(
    starts: Sequence[datetime],
    *,
    shift_by: timedelta | None = None,
    first_session_at: datetime | None = None,
    first_session_on: date | None = None,
) -> timedelta:
    """How far a new run moves in time, from at most one of: ``shift_by``; the moment
    ``first_session_at`` the earliest of ``starts`` moves to; or the date
    ``first_session_on`` it moves to, keeping its time of day in the academy's zone.
    Nothing given: the dates stay. A date with no session to move is refused."""
    given = [
        name
        for name, value in (
            ("shift_days", shift_by),
            ("first_session_at", first_session_at),
            ("first_session_on", first_session_on),
        )
        if value is not None
    ]
    if len(given) > 1:
        raise _clone_date_error(
            given[-1],
            _l("Give either the first session's new date or a number of days, not both."),
            code="conflicting_clone_dates",
        )
    if given in (["first_session_at"], ["first_session_on"]) and not starts:
        raise _clone_date_error(
            given[0],
            _l("There is no session to move: clone it without a date, then add sessions."),
            code="no_sessions",
        )
    try:
        if first_session_on is not None:
            first_session_at = datetime.combine(first_session_on, to_local(min(starts)).time())
        if first_session_at is not None:
            return from_local(first_session_at) - min(starts)
    except (OverflowError, ValueError):
        raise _clone_date_error(given[0], _l("Choose a date within a sensible range.")) from None
    return shift_by or timedelta(0)


def _shifted(value: datetime | None, shift: timedelta) -> datetime | None:
    """``value`` moved by ``shift``; refused when that leaves the calendar."""
    if value is None:
        return None
    try:
        return value + shift
    except OverflowError:
        raise _clone_date_error(
            "first_session_on", _l("Choose a date within a sensible range.")
        ) from None


def _moved_sessions(
    copy: Course, sessions: Sequence[CourseSession], shift: timedelta
) -> list[dict[str, Any]]:
    """The values of each session moved by ``shift``, through every rule a new session
    meets (``_validate_session``), so a clone holds only sessions one could add."""
    moved = []
    for session in sessions:
        values = {name: getattr(session, name) for name in SESSION_FIELDS}
        values["starts_at"] = _shifted(session.starts_at, shift)
        values["ends_at"] = _shifted(session.ends_at, shift)
        moved.append(_validate_session(copy, None, values))
    return moved


def _run_shift(
    sessions: Sequence[CourseSession],
    shift_by: timedelta | None,
    first_session_at: datetime | None,
    first_session_on: date | None,
) -> timedelta:
    """``clone_shift`` of the sessions, refused when it moves any of them (or the given
    first moment) outside the planned years."""
    if first_session_at is not None:
        refuse_outside_years("first_session_at", [first_session_at], timedelta(0))
    shift = clone_shift(
        [s.starts_at for s in sessions],
        shift_by=shift_by,
        first_session_at=first_session_at,
        first_session_on=first_session_on,
    )
    refuse_outside_years(
        "first_session_at"
        if first_session_at is not None
        else "first_session_on"
        if first_session_on is not None
        else "shift_days",
        [moment for s in sessions for moment in (s.starts_at, s.ends_at)],
        shift,
    )
    return shift


def _copy_title(title: str | None, course: Course) -> str:
    """The copy's title: the one given, or the course's; ``too_long`` beyond its length."""
    new_title = clean_text(title) or course.title
    if len(new_title) > TITLE_LENGTH:
        raise ValidationFailed(
            fields={"title": [_l("Too long (%(n)d characters at most).", n=TITLE_LENGTH)]},
            code="too_long",
        )
    return new_title


def _draft_copy(actor: User, course: Course, title: str, shift: timedelta) -> Course:
    """A draft of ``course`` by ``actor``, its window moved by ``shift``; a trainer who
    clones a course teaches the copy."""
    trainers = list(course.trainers)
    if not actor.is_admin and actor not in trainers:
        trainers.append(actor)
    copy = Course(
        title=title,
        **{name: getattr(course, name) for name in COPIED_FIELDS},
        **{name: _shifted(getattr(course, name), shift) for name in MOVED_FIELDS},
        status=PublicationStatus.DRAFT,
        cloned_from_id=course.id,
        created_by_id=actor.id,
    )
    copy.trainers = trainers
    copy.prerequisites = list(course.prerequisites)
    return copy


def clone_course(
    actor: User,
    course: Course,
    *,
    shift_by: timedelta | None = None,
    first_session_at: datetime | None = None,
    first_session_on: date | None = None,
    title: str | None = None,
) -> Course:
    """A draft copy of ``course`` for a new run: same trainers, prerequisites, programme
    and rules, every session (and the enrolment window) moved by ``shift_by`` — or by
    whatever moves the first session to ``first_session_at``, or to the date
    ``first_session_on`` at its time of day (``clone_shift``). Nobody is enrolled."""
    require_course_manager(actor, course)
    require_course_creator(actor)
    sessions = sorted(course.sessions, key=lambda s: s.starts_at)
    shift = _run_shift(sessions, shift_by, first_session_at, first_session_on)
    copy = _draft_copy(actor, course, _copy_title(title, course), shift)
    copy.sessions = [CourseSession(**values) for values in _moved_sessions(copy, sessions, shift)]
    db.session.add(copy)
    db.session.flush()
    audit.record(
        actor,
        "course.clone",
        "course",
        copy.id,
        cloned_from_id=course.id,
        shift_seconds=int(shift.total_seconds()),
    )
    return copy
