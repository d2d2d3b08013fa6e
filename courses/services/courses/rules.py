"""The cleaning rules that courses, sessions and programmes share: text, lengths, choices,
whole numbers, lists of ids and dates within the years the academy plans for.

A rule that refuses a value adds it to a ``RuleErrors`` (the field's message, and the
code of the first rule broken), so that a form shows every refused field at once; the
service raises ``ValidationFailed`` before it touches any row.

``TITLE_LENGTH`` is the most characters of a title, a name or a venue: the columns
hold 120, and the forms and API schemas refuse longer ones with the same figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l

from courses.db import MAX_INTEGER, database_id
from courses.errors import ValidationFailed
from courses.settings import from_local, within_years, years_message

TITLE_LENGTH = 120

#: The most characters of each text field of a course or a session.
MAX_LENGTHS = {
    "title": TITLE_LENGTH,
    "summary": 500,
    "topic": 40,
    "venue": TITLE_LENGTH,
    "room": 60,
    "address": 255,
    "meeting_url": 500,
    "meeting_number": 40,
    "video_url": 500,
}

Row = TypeVar("Row")


@dataclass
class RuleErrors:
    """Every refused field at once; the first rule broken gives the error's code."""

    fields: dict[str, list[Any]] = field(default_factory=dict)
    code: str | None = None
    message: Any = None

    def add(self, code: str, name: str, message: Any) -> None:
        self.fields.setdefault(name, []).append(message)
        if self.code is None:
            self.code, self.message = code, message

    def raise_if_any(self) -> None:
        if self.code is not None:
            raise ValidationFailed(self.message, fields=self.fields, code=self.code)


def merged_values(names: Iterable[str], row: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """The whole of a change: each of ``names`` from ``data`` when it names it, otherwise
    the current value of ``row`` (None for a row not yet created)."""
    return {name: data[name] if name in data else getattr(row, name, None) for name in names}


def clean_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def optional_text(value: Any) -> str | None:
    return clean_text(value) or None


def check_lengths(errors: RuleErrors, values: Mapping[str, Any], names: Iterable[str]) -> None:
    """``too_long`` for each of ``names`` longer than its ``MAX_LENGTHS``."""
    for name in names:
        limit = MAX_LENGTHS.get(name)
        value = values.get(name)
        if limit and isinstance(value, str) and len(value) > limit:
            errors.add("too_long", name, _l("Too long (%(n)d characters at most).", n=limit))


def parse_enum(errors: RuleErrors, enum_cls: type, name: str, value: Any) -> Any:
    try:
        return enum_cls(value)
    except ValueError:
        errors.add("invalid_choice", name, _l("Choose one of the options offered."))
        return None


def int_or_none(errors: RuleErrors, name: str, value: Any, code: str) -> int | None:
    """``value`` as a whole number the database can hold; None when empty or refused."""
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors.add(code, name, _l("Enter a whole number."))
        return None
    if abs(number) > MAX_INTEGER:
        errors.add("number_too_large", name, _l("Enter a smaller number."))
        return None
    return number


def capacity_or_none(errors: RuleErrors, value: Any) -> int | None:
    """A course's or a session's capacity: empty for no limit, otherwise at least 1
    (``invalid_capacity``); None when empty or refused."""
    capacity = int_or_none(errors, "capacity", value, "invalid_capacity")
    if capacity is not None and capacity <= 0:
        errors.add(
            "invalid_capacity",
            "capacity",
            _l("The capacity must be at least 1 (leave it empty for no limit)."),
        )
        return None
    return capacity


def wanted_ids(
    errors: RuleErrors, name: str, ids: Iterable[Any] | None, code: str, message: Any
) -> list[int]:
    """The distinct row ids of ``ids`` in the order given; none at all (and ``code``
    with ``message``) when one of them cannot be an id."""
    wanted: list[int] = []
    for raw in ids or ():
        if database_id(raw) is None:
            errors.add(code, name, message)
            return []
        wanted.append(int(raw))
    return list(dict.fromkeys(wanted))


def in_order(rows: Iterable[Row], ids: Sequence[int]) -> list[Row]:
    """``rows`` (each with an ``id``, one for each of ``ids``) in the order of ``ids``."""
    by_id = {row.id: row for row in rows}  # type: ignore[attr-defined]
    return [by_id[i] for i in ids]


def aware(value: datetime | None) -> datetime | None:
    """A wall-clock time in the academy's zone (or an aware time) in UTC."""
    if value is None:
        return None
    return from_local(value)


def in_years(errors: RuleErrors, name: str, value: datetime | None) -> datetime | None:
    """``value`` if it lies in the years the academy plans for; otherwise an error and None
    (checked before any conversion, so that no time-zone arithmetic can overflow)."""
    if value is None or within_years(value):
        return value
    errors.add("date_out_of_range", name, years_message())
    return None


def refuse_outside_years(name: str, moments: Iterable[datetime], shift: timedelta) -> None:
    """Refuse moving any of ``moments`` by ``shift`` outside FIRST_YEAR..LAST_YEAR."""
    try:
        inside = all(within_years(moment + shift) for moment in moments)
    except OverflowError:
        inside = False
    if not inside:
        message = years_message()
        raise ValidationFailed(message, fields={name: [message]}, code="date_out_of_range")
