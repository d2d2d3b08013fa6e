"""The hours ledger (课时台账): a learner's credited class hours by year and in their
current registration cycle (``cycles``), against the continuing-education requirement
of their qualification level.

What counts
-----------

* Academy hours are the ``credited_hours`` of the learner's attendance records (only
  those above zero). A session counts in the calendar year, and in the cycle, in which
  it *starts*, in the academy's time zone (Asia/Shanghai): a session that starts at
  00:30 on 1 January in Shanghai (16:30 UTC on 31 December) counts in the new year.
* Outside hours (``ExternalHoursRecord``, 院外课时) count on the date they were earned
  (``earned_on``) and are always shown as outside the academy, with their note.

Learners whose level is ``none`` have no requirement and so no cycle: their ledger has
the year only. Every sum is computed in SQL; the ledger takes a fixed number of
statements whatever the number of courses and sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.db import db, utcnow
from courses.errors import ValidationFailed
from courses.models import (
    AttendanceRecord,
    AttendanceStatus,
    Course,
    CourseSession,
    ExternalHoursRecord,
    QualificationLevel,
    User,
)
from courses.services import permissions
from courses.services.class_hours import round_hours
from courses.services.hours.cycles import (
    Requirement,
    current_cycle,
    cycle_anchor,
    local_today,
    requirement_for,
    utc_midnight,
)
from courses.settings import to_local


@dataclass(frozen=True)
class SessionHours:
    session_id: int
    title: str
    starts_at: datetime
    credited_hours: float
    status: AttendanceStatus


@dataclass(frozen=True)
class CourseHours:
    course_id: int
    title: str
    hours: float
    sessions: list[SessionHours]


@dataclass(frozen=True)
class ExternalHours:
    id: int
    title: str
    hours: float
    earned_on: date
    note: str
    external: bool = True  # always outside the academy (院外课时)


@dataclass(frozen=True)
class Cycle:
    starts_on: date
    ends_on: date  # the last day, inclusive
    hours: float
    academy_hours: float
    external_hours: float
    required_hours: float
    cycle_years: int
    progress: float  # 0–1, capped at 1
    remaining_hours: float


@dataclass(frozen=True)
class Ledger:
    user_id: int
    qualification_level: QualificationLevel
    year: int
    year_hours: float
    year_academy_hours: float
    year_external_hours: float
    requirement: Requirement | None
    cycle: Cycle | None
    courses: list[CourseHours]
    external: list[ExternalHours]

    @property
    def progress(self) -> float | None:
        return self.cycle.progress if self.cycle is not None else None

    @property
    def remaining_hours(self) -> float | None:
        return self.cycle.remaining_hours if self.cycle is not None else None


def _credited(user: User) -> list[Any]:
    return [AttendanceRecord.user_id == user.id, AttendanceRecord.credited_hours > 0]


def _academy_sum(user: User, start: datetime, end: datetime) -> sa.ScalarSelect[Any]:
    return (
        sa.select(sa.func.coalesce(sa.func.sum(AttendanceRecord.credited_hours), 0))
        .join(CourseSession, CourseSession.id == AttendanceRecord.session_id)
        .where(*_credited(user), CourseSession.starts_at >= start, CourseSession.starts_at < end)
        .scalar_subquery()
    )


def _external_sum(user: User, start: date, end: date) -> sa.ScalarSelect[Any]:
    return (
        sa.select(sa.func.coalesce(sa.func.sum(ExternalHoursRecord.hours), 0))
        .where(
            ExternalHoursRecord.user_id == user.id,
            ExternalHoursRecord.earned_on >= start,
            ExternalHoursRecord.earned_on < end,
        )
        .scalar_subquery()
    )


def ledger(user: User, year: int | None = None, today: date | None = None) -> Ledger:
    """The learner's ledger for ``year`` (default: this year) and their current cycle
    (see the module doc). Five statements whatever the number of courses."""
    today = today or local_today()
    year = int(year or today.year)
    if not 1 <= year <= 9998:
        raise ValidationFailed(_l("That year is not valid."), code="invalid_year")
    requirement = requirement_for(user.qualification_level)
    year_start, year_end = date(year, 1, 1), date(year + 1, 1, 1)
    bounds = None
    if requirement is not None:
        bounds = current_cycle(cycle_anchor(user), requirement.cycle_years, today)
    sums = _sums(user, (year_start, year_end), bounds)
    year_academy, year_external = sums[0], sums[1]
    courses = _courses_in(user, utc_midnight(year_start), utc_midnight(year_end))
    external = _external_in(user, year_start, year_end)
    cycle = None
    if requirement is not None and bounds is not None:
        cycle = _cycle(requirement, bounds, academy=sums[2], outside=sums[3])
    return Ledger(
        user_id=user.id,
        qualification_level=user.qualification_level,
        year=year,
        year_hours=round(year_academy + year_external, 2),
        year_academy_hours=year_academy,
        year_external_hours=year_external,
        requirement=requirement,
        cycle=cycle,
        courses=courses,
        external=external,
    )


def _sums(user: User, year: tuple[date, date], cycle: tuple[date, date] | None) -> list[float]:
    """The academy and outside hours of the year, then (with a cycle) of the cycle, in
    one statement; each range is [first day, first day after)."""
    totals: list[Any] = []
    for start, end in (year, cycle) if cycle is not None else (year,):
        totals += [
            _academy_sum(user, utc_midnight(start), utc_midnight(end)),
            _external_sum(user, start, end),
        ]
    return [round_hours(v) for v in db.session.execute(sa.select(*totals)).one()]


def _courses_in(user: User, start: datetime, end: datetime) -> list[CourseHours]:
    """The courses whose sessions starting in [start, end) credited the learner hours,
    in the order of their first such session, each with those sessions (two
    statements)."""
    in_range = [CourseSession.starts_at >= start, CourseSession.starts_at < end]
    course_rows = db.session.execute(
        sa.select(Course.id, Course.title, sa.func.sum(AttendanceRecord.credited_hours))
        .select_from(AttendanceRecord)
        .join(CourseSession, CourseSession.id == AttendanceRecord.session_id)
        .join(Course, Course.id == CourseSession.course_id)
        .where(*_credited(user), *in_range)
        .group_by(Course.id, Course.title)
        .order_by(sa.func.min(CourseSession.starts_at), Course.id)
    ).all()
    session_rows = db.session.execute(
        sa.select(
            CourseSession.course_id,
            CourseSession.id,
            CourseSession.title,
            CourseSession.starts_at,
            AttendanceRecord.credited_hours,
            AttendanceRecord.status,
        )
        .select_from(AttendanceRecord)
        .join(CourseSession, CourseSession.id == AttendanceRecord.session_id)
        .where(*_credited(user), *in_range)
        .order_by(CourseSession.starts_at, CourseSession.id)
    ).all()
    by_course: dict[int, list[SessionHours]] = {}
    for course_id, session_id, title, starts_at, credited, status in session_rows:
        by_course.setdefault(course_id, []).append(
            SessionHours(session_id, title or "", starts_at, round_hours(credited), status)
        )
    return [
        CourseHours(course_id, title, round_hours(total), by_course.get(course_id, []))
        for course_id, title, total in course_rows
    ]


def hours_between(
    user: User, start: date, end: date
) -> tuple[list[CourseHours], list[ExternalHours]]:
    """The learner's credited courses and outside hours in [start, end) (local days),
    as the ledger lists them: what a continuing-education proof prints."""
    return _courses_in(user, utc_midnight(start), utc_midnight(end)), _external_in(user, start, end)


def _external_in(user: User, start: date, end: date) -> list[ExternalHours]:
    """The learner's outside hours earned in [start, end), oldest first."""
    return [
        ExternalHours(r.id, r.title, round_hours(r.hours), r.earned_on, r.note or "")
        for r in db.session.scalars(
            sa.select(ExternalHoursRecord)
            .where(
                ExternalHoursRecord.user_id == user.id,
                ExternalHoursRecord.earned_on >= start,
                ExternalHoursRecord.earned_on < end,
            )
            .order_by(ExternalHoursRecord.earned_on, ExternalHoursRecord.id)
        )
    ]


def _cycle(
    requirement: Requirement, bounds: tuple[date, date], *, academy: float, outside: float
) -> Cycle:
    """The current cycle's figures: the hours against the requirement, the progress
    capped at 1 and what remains."""
    total = round(academy + outside, 2)
    required = requirement.required_hours
    progress = 1.0 if required <= 0 else min(total / required, 1.0)
    return Cycle(
        starts_on=bounds[0],
        ends_on=bounds[1] - timedelta(days=1),
        hours=total,
        academy_hours=academy,
        external_hours=outside,
        required_hours=required,
        cycle_years=requirement.cycle_years,
        progress=round(progress, 4),
        remaining_hours=round(max(required - total, 0.0), 2),
    )


def ledger_for(actor: User, user: User, year: int | None = None) -> Ledger:
    """A ledger as ``actor`` may see it: their own, or anyone's for admins."""
    if actor.id != user.id:
        permissions.require_admin(actor)
    return ledger(user, year)


def ledger_years(user: User, today: date | None = None) -> list[int]:
    """The years offered by the year picker, newest first: from the year of the
    learner's earliest credited session or outside hours (or their account) to now."""
    today = today or local_today()
    first_session, first_external = db.session.execute(
        sa.select(
            sa.select(sa.func.min(CourseSession.starts_at))
            .join(AttendanceRecord, AttendanceRecord.session_id == CourseSession.id)
            .where(*_credited(user))
            .scalar_subquery(),
            sa.select(sa.func.min(ExternalHoursRecord.earned_on))
            .where(ExternalHoursRecord.user_id == user.id)
            .scalar_subquery(),
        )
    ).one()
    years = [today.year, to_local(user.created_at or utcnow()).year]
    if first_session is not None:
        years.append(to_local(first_session).year)
    if first_external is not None:
        years.append(first_external.year)
    first = max(min(years), today.year - 20)
    return list(range(today.year, first - 1, -1))
