"""What every part of the loader shares: the year and its clock, the moment that
separates what already happened, the writer and the running summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from courses.services.demo_data.bulk_writer import BulkWriter
from courses.services.demo_data.summary import SeedSummary

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class LoadRun:
    """One load: its year, the moment that separates the past, the one writer and the
    summary every part adds to, and the length of a class hour."""

    year: int
    now: datetime
    writer: BulkWriter
    summary: SeedSummary
    minutes_per_hour: int


class LoaderPart:
    """A part of the loader (people, courses, rosters): its rows go through the run's
    writer, its counts into the run's summary, and its times are the academy's local
    time."""

    def __init__(self, run: LoadRun) -> None:
        self.year = run.year
        self.now = run.now
        self.writer = run.writer
        self.summary = run.summary
        self.minutes_per_hour = run.minutes_per_hour
        self.year_start = datetime(run.year, 1, 1, tzinfo=SHANGHAI).astimezone(UTC)

    def local(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)

    def past(self, moment: datetime) -> datetime:
        """Clamp a bookkeeping timestamp so that it never lies in the future."""
        return min(moment, self.now)
