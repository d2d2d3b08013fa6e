"""A report's preview: each person's time inside the session — per-join rows merged as
intervals (two devices or a rejoin count once), clipped to the session, and only then
turned into minutes — and who they are, as the entries stored on the import."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from courses.models import CourseSession
from courses.services import attendance
from courses.services.meeting_reports.matching import (
    Directory,
    Person,
    alias_keys,
    directory,
    merge_same_learner,
    people,
    resolve,
)
from courses.services.meeting_reports.parse import ParsedReport, ReportRow

Span = tuple[datetime, datetime]


def _span(row: ReportRow, until: datetime) -> Span | None:
    """The row's time in the meeting when it can be placed in time; a leave time of
    ``--`` is ``until`` (the meeting's or the session's end)."""
    duration = timedelta(seconds=row.duration_seconds) if row.duration_seconds is not None else None
    left = until if row.stayed_to_end and row.joined_at else row.left_at
    if row.joined_at and left:
        if duration is not None and duration < left - row.joined_at - timedelta(minutes=1):
            return None  # a total over several visits between the first join and last leave
        return row.joined_at, left
    if row.joined_at and duration is not None:
        return row.joined_at, row.joined_at + duration
    if left and duration is not None:
        return left - duration, left
    return None


def person_time(
    session: CourseSession, rows: list[ReportRow], meeting_ended_at: datetime | None = None
) -> tuple[list[Span], int]:
    """The person's merged intervals inside the session, and the seconds that cannot be
    placed in time (a bare duration, or a total between a first join and a last leave,
    at most the part of that window inside the session)."""
    until = min(meeting_ended_at or session.ends_at, session.ends_at)
    spans: list[Span] = []
    loose = 0.0
    for row in rows:
        span = _span(row, until)
        if span is not None:
            start, end = max(span[0], session.starts_at), min(span[1], session.ends_at)
            if end > start:
                spans.append((start, end))
        elif row.joined_at or row.left_at or row.stayed_to_end:
            start = max(row.joined_at or session.starts_at, session.starts_at)
            end = min(row.left_at or until, session.ends_at)
            within = max(0.0, (end - start).total_seconds())
            loose += min(float(row.duration_seconds or 0), within)
        else:
            loose += float(row.duration_seconds or 0)
    return merge_spans(spans), int(loose)


def merge_spans(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def minutes_of(session: CourseSession, spans: list[Span], loose_seconds: int) -> int:
    seconds = sum((end - start).total_seconds() for start, end in spans) + loose_seconds
    return min(int(seconds // 60), attendance.session_minutes(session))


def person_minutes(session: CourseSession, rows: list[ReportRow]) -> int:
    """The minutes a person's rows add up to inside the session."""
    return minutes_of(session, *person_time(session, rows))


def stored_spans(entries: list[dict[str, Any]]) -> tuple[list[Span], int]:
    """The intervals and loose seconds of stored entries (one learner's), merged."""
    spans = [
        (datetime.fromisoformat(start), datetime.fromisoformat(end))
        for entry in entries
        for start, end in entry.get("spans") or []
    ]
    loose = sum(int(entry.get("loose_seconds") or 0) for entry in entries)
    return merge_spans(spans), loose


def _base(row: ReportRow) -> dict[str, Any]:
    return {
        "row": row.number,
        "rows": [row.number],
        "name": row.name,
        "phone": row.phone,
        "email": row.email,
        "minutes": None,
        "outcome": "invalid",
        "reason": row.reason,
        "value": row.value,
        "user_id": None,
        "learner_name": None,
        "candidates": [],
        "via": None,
        "pickable": False,
        "spans": [],
        "loose_seconds": 0,
        "aliases": [],
    }


def _entry(
    session: CourseSession, report: ParsedReport, person: Person, found: Directory
) -> dict[str, Any]:
    rows = sorted(person.rows, key=lambda row: row.number)
    spans, loose = person_time(session, rows, report.meeting_ended_at)
    phones = sorted(person.phones) or [f"****{tail}" for tail in sorted(person.tails)]
    entry = _base(rows[0])
    entry.update(
        rows=[row.number for row in rows],
        name=" / ".join(person.names[:3]),
        phone=", ".join(phones) or None,
        email=", ".join(sorted(person.emails)) or None,
        minutes=minutes_of(session, spans, loose),
        reason=person.reason,
        via=person.via,
        pickable=person.pickable,
        spans=[[start.isoformat(), end.isoformat()] for start, end in spans],
        loose_seconds=loose,
        aliases=alias_keys(person, report.layout),
        value="",
        upper_bound=report.summary,  # first join / last leave / a total: at most this
    )
    if len(person.user_ids) == 1 and person.reason is None:
        learner = found.learners[next(iter(person.user_ids))]
        entry.update(outcome="matched", user_id=learner.user_id, learner_name=learner.name)
    else:
        entry["outcome"] = "ambiguous" if person.user_ids else "unmatched"
        entry["candidates"] = [
            {"user_id": uid, "name": found.learners[uid].name} for uid in sorted(person.user_ids)
        ]
    return entry


def evaluate(session: CourseSession, report: ParsedReport) -> list[dict[str, Any]]:
    """The report's rows as stored on the import: one entry per person (matched,
    ambiguous or unmatched) and one per invalid row, in the order of the file."""
    found_people = people([row for row in report.rows if row.valid])
    keys = [key for person in found_people for key in alias_keys(person, report.layout)]
    found = directory(session, keys)
    for person in found_people:
        resolve(person, found, report.layout, report.host_email)
    entries = [_entry(session, report, p, found) for p in merge_same_learner(found_people)]
    entries.extend(_base(row) for row in report.rows if not row.valid)
    entries.sort(key=lambda entry: entry["row"])
    return entries
