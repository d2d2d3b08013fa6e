"""Settings the domain reads from the running application: time zone, class-hour length."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_MINUTES_PER_CLASS_HOUR = 45


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


def to_local(value: datetime) -> datetime:
    return value.astimezone(local_zone())
