"""The registration cycle and the requirement it is measured against.

A level's requirement (``QualificationRequirement``) is so many hours per cycle of so
many years (defaults: 72 hours per 3 years for 助理社会工作师, 90 for 社会工作师 and
高级社会工作师). The learner's cycles start on ``user.cycle_starts_on`` and repeat every
``cycle_years`` years, backwards and forwards; the *current* cycle is the one that
contains today. When ``cycle_starts_on`` is not set, the cycles are aligned to
**1 January of the year the account was created** (in Shanghai time): an account made
in 2024 with a 3-year cycle has cycles 2024-01-01 – 2026-12-31, 2027-01-01 –
2029-12-31, and so on. A cycle that starts on 29 February starts on 28 February in the
years that have none. Learners whose level is ``none`` have no requirement and so no
cycle.

Days are the academy's (Asia/Shanghai): ``local_today`` and ``utc_midnight`` turn them
into the UTC moments the database compares.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from courses.db import db, utcnow
from courses.models import QualificationLevel, QualificationRequirement, User
from courses.services.class_hours import round_hours
from courses.settings import local_zone, to_local


def local_today(now: datetime | None = None) -> date:
    return to_local(now or utcnow()).date()


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def utc_midnight(day: date) -> datetime:
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


# ---- requirements ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    level: QualificationLevel
    required_hours: float
    cycle_years: int


def requirement_for(level: QualificationLevel) -> Requirement | None:
    if level == QualificationLevel.NONE:
        return None
    row = db.session.get(QualificationRequirement, level)
    if row is None:
        return None
    return Requirement(row.level, round_hours(row.required_hours), int(row.cycle_years))
