"""What every part of the loader shares: the year and its clock, the moment that
separates what already happened, the writer and the running summary."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from courses.services.demo_data.bulk_writer import BulkWriter
from courses.services.demo_data.summary import SeedSummary

SHANGHAI = ZoneInfo("Asia/Shanghai")


class LoaderPart:
    """A part of the loader (people, courses): its rows go through the shared writer,
    its counts into the shared summary, and its times are the academy's local time."""

    def __init__(self, *, year: int, now: datetime, writer: BulkWriter, summary: SeedSummary):
        self.year = year
        self.now = now
        self.writer = writer
        self.summary = summary
        self.year_start = datetime(year, 1, 1, tzinfo=SHANGHAI).astimezone(UTC)

    def local(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)

    def past(self, moment: datetime) -> datetime:
        """Clamp a bookkeeping timestamp so that it never lies in the future."""
        return min(moment, self.now)
