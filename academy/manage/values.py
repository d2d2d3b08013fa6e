"""Form values to service values and back: ``datetime-local`` inputs are wall-clock
times in the academy's zone (``courses.settings``), stored times are UTC."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from courses.settings import from_local, to_local


def form_utc(value: datetime | None) -> datetime | None:
    """A ``datetime-local`` input's wall-clock time as UTC."""
    return from_local(value) if value is not None else None


def form_local(value: datetime | None) -> datetime | None:
    """A stored UTC time as the naive wall-clock time a ``datetime-local`` input shows."""
    return to_local(value).replace(tzinfo=None) if value is not None else None


def form_number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None
