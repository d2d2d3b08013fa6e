"""The hours ledger (课时台账): a learner's credited class hours by year and by
registration cycle, against the continuing-education requirement of their
qualification level, with hours earned outside the academy that admins add.

What counts
-----------

* Academy hours are the ``credited_hours`` of the learner's attendance records (only
  those above zero). A session counts in the calendar year, and in the cycle, in which
  it *starts*, in the academy's time zone (Asia/Shanghai): a session that starts at
  00:30 on 1 January in Shanghai (16:30 UTC on 31 December) counts in the new year.
* Outside hours (``ExternalHoursRecord``, 院外课时) count on the date they were earned
  (``earned_on``) and are always shown as outside the academy, with their note.

The registration cycle
----------------------

A level's requirement (``QualificationRequirement``) is so many hours per cycle of so
many years (defaults: 72 hours per 3 years for 助理社会工作师, 90 for 社会工作师 and
高级社会工作师). The learner's cycles start on ``user.cycle_starts_on`` and repeat every
``cycle_years`` years, backwards and forwards; the *current* cycle is the one that
contains today. When ``cycle_starts_on`` is not set, the cycles are aligned to
**1 January of the year the account was created** (in Shanghai time): an account made
in 2024 with a 3-year cycle has cycles 2024-01-01 – 2026-12-31, 2027-01-01 –
2029-12-31, and so on. A cycle that starts on 29 February starts on 28 February in the
years that have none. Learners whose level is ``none`` have no requirement and so no
cycle: their ledger has the year only.

Every sum is computed in SQL; the ledger takes a fixed number of statements whatever
the number of courses and sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.db import db, utcnow
from courses.errors import NotFound, ValidationFailed
from courses.models import (
    AttendanceRecord,
    AttendanceStatus,
    Course,
    CourseSession,
    ExternalHoursRecord,
    QualificationLevel,
    QualificationRequirement,
    User,
)
from courses.services import audit, permissions
from courses.services.class_hours import round_hours
from courses.services.pagination import Page, paginate
from courses.settings import local_zone, to_local

MAX_EXTERNAL_HOURS = Decimal("200")
MAX_TITLE_LENGTH = 200
MAX_NOTE_LENGTH = 2000
MAX_REQUIRED_HOURS = Decimal("1000")
MAX_CYCLE_YEARS = 10


# ---- dates ----------------------------------------------------------------------------------


def local_today(now: datetime | None = None) -> date:
    return to_local(now or utcnow()).date()


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def _utc_midnight(day: date) -> datetime:
    """The start of ``day`` in the academy's time zone, as an aware UTC datetime."""
    return datetime.combine(day, time(0), tzinfo=local_zone()).astimezone(UTC)


def cycle_anchor(user: User) -> date:
    """The first day of one of the learner's cycles (see the module doc)."""
    if user.cycle_starts_on is not None:
        return user.cycle_starts_on
    created = user.created_at or utcnow()
    return date(to_local(created).year, 1, 1)


def current_cycle(anchor: date, cycle_years: int, today: date) -> tuple[date, date]:
    """The cycle containing ``today``: its first day and the first day of the next."""
    steps = (today.year - anchor.year) // cycle_years
    start = _add_years(anchor, steps * cycle_years)
    while start > today:
        steps -= 1
        start = _add_years(anchor, steps * cycle_years)
    following = _add_years(anchor, (steps + 1) * cycle_years)
    while following <= today:
        steps += 1
        start, following = following, _add_years(anchor, (steps + 1) * cycle_years)
    return start, following


# ---- the ledger -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    level: QualificationLevel
    required_hours: float
    cycle_years: int


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


_hours = round_hours


def requirement_for(level: QualificationLevel) -> Requirement | None:
    if level == QualificationLevel.NONE:
        return None
    row = db.session.get(QualificationRequirement, level)
    if row is None:
        return None
    return Requirement(row.level, _hours(row.required_hours), int(row.cycle_years))


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
    year_from, year_to = _utc_midnight(year_start), _utc_midnight(year_end)
    totals: list[Any] = [
        _academy_sum(user, year_from, year_to),
        _external_sum(user, year_start, year_end),
    ]
    bounds = None
    if requirement is not None:
        bounds = current_cycle(cycle_anchor(user), requirement.cycle_years, today)
        totals += [
            _academy_sum(user, _utc_midnight(bounds[0]), _utc_midnight(bounds[1])),
            _external_sum(user, bounds[0], bounds[1]),
        ]
    sums = [_hours(v) for v in db.session.execute(sa.select(*totals)).one()]
    year_academy, year_external = sums[0], sums[1]

    in_year = [CourseSession.starts_at >= year_from, CourseSession.starts_at < year_to]
    course_rows = db.session.execute(
        sa.select(Course.id, Course.title, sa.func.sum(AttendanceRecord.credited_hours))
        .select_from(AttendanceRecord)
        .join(CourseSession, CourseSession.id == AttendanceRecord.session_id)
        .join(Course, Course.id == CourseSession.course_id)
        .where(*_credited(user), *in_year)
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
        .where(*_credited(user), *in_year)
        .order_by(CourseSession.starts_at, CourseSession.id)
    ).all()
    by_course: dict[int, list[SessionHours]] = {}
    for course_id, session_id, title, starts_at, credited, status in session_rows:
        by_course.setdefault(course_id, []).append(
            SessionHours(session_id, title or "", starts_at, _hours(credited), status)
        )
    courses = [
        CourseHours(course_id, title, _hours(total), by_course.get(course_id, []))
        for course_id, title, total in course_rows
    ]
    external = [
        ExternalHours(r.id, r.title, _hours(r.hours), r.earned_on, r.note or "")
        for r in db.session.scalars(
            sa.select(ExternalHoursRecord)
            .where(
                ExternalHoursRecord.user_id == user.id,
                ExternalHoursRecord.earned_on >= year_start,
                ExternalHoursRecord.earned_on < year_end,
            )
            .order_by(ExternalHoursRecord.earned_on, ExternalHoursRecord.id)
        )
    ]

    cycle = None
    if requirement is not None and bounds is not None:
        academy, outside = sums[2], sums[3]
        total = round(academy + outside, 2)
        required = requirement.required_hours
        progress = 1.0 if required <= 0 else min(total / required, 1.0)
        cycle = Cycle(
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


# ---- outside hours (admins) -----------------------------------------------------------------


def _field_error(field: str, message: Any, code: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={field: [message]})


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def get_external_record(record_id: int) -> ExternalHoursRecord:
    record = db.session.get(ExternalHoursRecord, record_id)
    if record is None:
        raise NotFound(_l("No such record of outside hours."))
    return record


def external_records(
    actor: User, user: User, *, page: int = 1, per_page: int = 50
) -> Page[ExternalHoursRecord]:
    """All the learner's outside hours, newest first: for admins (and the learner)."""
    if actor.id != user.id:
        permissions.require_admin(actor)
    return paginate(
        sa.select(ExternalHoursRecord)
        .where(ExternalHoursRecord.user_id == user.id)
        .order_by(ExternalHoursRecord.earned_on.desc(), ExternalHoursRecord.id.desc()),
        page=page,
        per_page=per_page,
    )


def add_external_hours(
    admin: User,
    user: User,
    title: Any,
    hours: Any,
    earned_on: Any,
    note: Any = "",
    today: date | None = None,
) -> ExternalHoursRecord:
    """Record hours the learner earned outside the academy (admins only; audited).

    Codes: ``title_required``, ``invalid_hours`` (more than 0, at most 200, two
    decimals), ``invalid_date`` (a date, not in the future), ``note_too_long``."""
    permissions.require_admin(admin)
    today = today or local_today()
    clean_title = title.strip() if isinstance(title, str) else ""
    if not clean_title:
        raise _field_error("title", _l("Enter what the training was."), "title_required")
    if len(clean_title) > MAX_TITLE_LENGTH:
        raise _field_error(
            "title",
            _l("The title may have at most %(n)s characters.", n=MAX_TITLE_LENGTH),
            "title_required",
        )
    amount = _decimal(hours)
    if amount is None or not Decimal(0) < amount <= MAX_EXTERNAL_HOURS:
        raise _field_error(
            "hours",
            _l("Enter the hours: more than 0 and at most %(n)s.", n=int(MAX_EXTERNAL_HOURS)),
            "invalid_hours",
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise _field_error(
            "hours", _l("Give the hours with at most two decimals."), "invalid_hours"
        )
    if isinstance(earned_on, datetime) or not isinstance(earned_on, date):
        raise _field_error("earned_on", _l("Enter the date the hours were earned."), "invalid_date")
    if earned_on > today:
        raise _field_error("earned_on", _l("The date cannot be in the future."), "invalid_date")
    clean_note = note.strip() if isinstance(note, str) else ""
    if len(clean_note) > MAX_NOTE_LENGTH:
        raise _field_error(
            "note",
            _l("The note may have at most %(n)s characters.", n=MAX_NOTE_LENGTH),
            "note_too_long",
        )
    record = ExternalHoursRecord(
        user_id=user.id,
        title=clean_title,
        hours=float(amount),
        earned_on=earned_on,
        note=clean_note,
        added_by_id=admin.id,
    )
    db.session.add(record)
    db.session.flush()
    audit.record(
        admin,
        "external_hours.added",
        "external_hours_record",
        record.id,
        user_id=user.id,
        title=clean_title,
        hours=float(amount),
        earned_on=earned_on.isoformat(),
        note=clean_note,
    )
    return record


def delete_external_hours(admin: User, record: ExternalHoursRecord) -> None:
    """Delete a record of outside hours (admins only; audited with what it said)."""
    permissions.require_admin(admin)
    audit.record(
        admin,
        "external_hours.deleted",
        "external_hours_record",
        record.id,
        user_id=record.user_id,
        title=record.title,
        hours=_hours(record.hours),
        earned_on=record.earned_on.isoformat(),
        note=record.note,
    )
    db.session.delete(record)
    db.session.flush()


# ---- requirements (admins) ------------------------------------------------------------------


#: The levels that carry a requirement (``none`` never does).
REQUIREMENT_LEVELS = (
    QualificationLevel.ASSISTANT,
    QualificationLevel.SOCIAL_WORKER,
    QualificationLevel.SENIOR,
)


def requirements() -> list[Requirement]:
    """Every level's requirement, in the order of the levels (one statement)."""
    rows = {row.level: row for row in db.session.scalars(sa.select(QualificationRequirement))}
    return [
        Requirement(level, _hours(rows[level].required_hours), int(rows[level].cycle_years))
        for level in REQUIREMENT_LEVELS
        if level in rows
    ]


def parse_level(value: Any) -> QualificationLevel:
    try:
        level = QualificationLevel(value)
    except ValueError:
        level = None
    if level is None or level not in REQUIREMENT_LEVELS:
        raise ValidationFailed(
            _l("Requirements apply to qualified social workers only."), code="invalid_level"
        )
    return level


def set_requirement(
    admin: User, level: Any, required_hours: Any, cycle_years: Any
) -> QualificationRequirement:
    """Change a level's requirement (admins only; audited). Codes: ``invalid_level``,
    ``invalid_required_hours`` (0–1000, two decimals), ``invalid_cycle_years`` (1–10)."""
    permissions.require_admin(admin)
    level = parse_level(level)
    amount = _decimal(required_hours)
    if (
        amount is None
        or not Decimal(0) <= amount <= MAX_REQUIRED_HOURS
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise _field_error(
            "required_hours",
            _l("Enter the hours required: from 0 to %(n)s.", n=int(MAX_REQUIRED_HOURS)),
            "invalid_required_hours",
        )
    if (
        isinstance(cycle_years, bool)
        or not isinstance(cycle_years, int)
        or not 1 <= cycle_years <= MAX_CYCLE_YEARS
    ):
        raise _field_error(
            "cycle_years",
            _l("Enter the cycle length: from 1 to %(n)s years.", n=MAX_CYCLE_YEARS),
            "invalid_cycle_years",
        )
    row = db.session.get(QualificationRequirement, level)
    before = None
    if row is None:
        row = QualificationRequirement(level=level)
        db.session.add(row)
    else:
        before = {"required_hours": _hours(row.required_hours), "cycle_years": row.cycle_years}
    row.required_hours = float(amount)
    row.cycle_years = cycle_years
    db.session.flush()
    audit.record(
        admin,
        "qualification_requirement.changed",
        "qualification_requirement",
        None,
        level=level.value,
        before=before,
        after={"required_hours": float(amount), "cycle_years": cycle_years},
    )
    return row
