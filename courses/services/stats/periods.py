"""Months in the academy's time zone, as SQL, and the periods a request names.

Timestamps are stored as naive UTC. PostgreSQL converts them with the zone's rules
(``timezone()``); SQLite, which knows no zones, adds the zone's present UTC offset:
exact for Asia/Shanghai (no daylight saving since 1991) and any zone without it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.db import db
from courses.errors import ValidationFailed
from courses.settings import FIRST_YEAR, LAST_YEAR, local_zone


def local_month(column: Any) -> sa.ColumnElement[int]:
    """``column`` (a stored UTC timestamp) as the month ``yyyymm`` of the local zone."""
    zone = local_zone()
    if db.session.get_bind().dialect.name == "postgresql":
        local = sa.func.timezone(zone.key, sa.func.timezone("UTC", column))
        return sa.cast(sa.func.to_char(local, "YYYYMM"), sa.Integer)
    offset = datetime.now(UTC).astimezone(zone).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    return sa.cast(sa.func.strftime("%Y%m", column, f"{minutes:+d} minutes"), sa.Integer)


def month_key(day: date) -> int:
    return day.year * 100 + day.month


def month_label(key: int) -> str:
    return f"{key // 100:04d}-{key % 100:02d}"


@dataclass(frozen=True)
class Period:
    """Whole months, ``first`` to ``last`` (``yyyymm``) inclusive."""

    first: int
    last: int

    @property
    def label(self) -> str:
        if (
            self.first % 100 == 1
            and self.last % 100 == 12
            and self.first // 100 == self.last // 100
        ):
            return str(self.first // 100)
        return f"{month_label(self.first)} – {month_label(self.last)}"

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(year * 100 + 1, year * 100 + 12)


_GIVEN = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def _month(text: str, field: str, end: bool) -> int:
    match = _GIVEN.match(text.strip())
    year = int(match.group(1)) if match else 0
    month = int(match.group(2) or (12 if end else 1)) if match else 0
    if match and match.group(3):
        try:
            date(year, month, int(match.group(3)))
        except ValueError:
            match = None
    if not match or not 1 <= month <= 12 or not FIRST_YEAR <= year <= LAST_YEAR:
        message = _l("Give a year, a month or a day, e.g. 2025, 2025-03 or 2025-03-01.")
        raise ValidationFailed(message, code="invalid_period", fields={field: [message]})
    return year * 100 + month


def period(start: str | None, end: str | None, today: date | None = None) -> Period:
    """The months from ``start`` to ``end`` (``2025``, ``2025-03`` or ``2025-03-01``:
    figures are kept by month, so a day stands for its month). No start: this year;
    no end: the end of the start's year."""
    this_year = (today or datetime.now(local_zone()).date()).year
    first = _month(start, "from", end=False) if start else this_year * 100 + 1
    last = _month(end, "to", end=True) if end else first // 100 * 100 + 12
    if last < first:
        message = _l("The end of the period comes before its start.")
        raise ValidationFailed(message, code="invalid_period", fields={"to": [message]})
    return Period(first, last)
