"""Settings the domain reads from the running application: time zone, class-hour length."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_MINUTES_PER_CLASS_HOUR = 45
#: The years in which sessions, enrolment windows and searched months may lie: far
#: enough either way for any real plan, and far from where date arithmetic overflows.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def local_zone() -> ZoneInfo:
    name = current_app.config.get("TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or DEFAULT_TIMEZONE)


def minutes_per_class_hour() -> int:
    if has_app_context():
        return int(current_app.config.get("MINUTES_PER_CLASS_HOUR", DEFAULT_MINUTES_PER_CLASS_HOUR))
    return DEFAULT_MINUTES_PER_CLASS_HOUR


def from_local(value: datetime) -> datetime:
    """A wall-clock time in the academy's zone (naive or aware) as an aware UTC datetime."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=local_zone())
    return value.astimezone(UTC)


def within_years(value: datetime) -> bool:
    """Whether ``value`` (as given, in whatever zone) lies in FIRST_YEAR..LAST_YEAR."""
    return FIRST_YEAR <= value.year <= LAST_YEAR


def years_message() -> Any:
    """What a refused date (``date_out_of_range``) tells the user."""
    return _l(
        "Choose a date between the years %(first)d and %(last)d.",
        first=FIRST_YEAR,
        last=LAST_YEAR,
    )


def to_local(value: datetime) -> datetime:
    """``value`` in the academy's zone; a stored extreme that the zone would carry past
    year 9999 (or before year 1) stays as it is rather than failing the page."""
    try:
        return value.astimezone(local_zone())
    except OverflowError:
        return value
