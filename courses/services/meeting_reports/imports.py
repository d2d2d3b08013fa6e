"""Imports: a report uploaded for a session is stored with its preview and changes
nothing else; applying it — with the learners the trainer chose for doubtful rows —
sets the learners' imported minutes, remembers the choices, and is idempotent."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from courses.db import db, utcnow
from courses.errors import NotFound, ValidationFailed
from courses.models import (
    AttendanceImport,
    AttendanceMethod,
    CourseSession,
    Enrolment,
    ImportStatus,
    MeetingAlias,
    User,
)
from courses.services import attendance, audit, lookups
from courses.services.meeting_reports.headers import LAYOUT_LABELS
from courses.services.meeting_reports.matching import (
    VIA_LABELS,
    enrolled_learners,
    reason_message,
)
from courses.services.meeting_reports.parse import MAX_REPORT_BYTES, parse_report, too_large
from courses.services.meeting_reports.preview import evaluate, minutes_of, stored_spans
from courses.settings import to_local

OUTCOMES = ("matched", "ambiguous", "unmatched", "invalid")


def _require_manager(actor: User | None, session: CourseSession) -> None:
    attendance.require_session_manager(actor, session)


def _require_online(session: CourseSession) -> None:
    attendance._online_session(session)  # the one "held online" rule


def require_ended(session: CourseSession, now: datetime) -> None:
    """A report tells what happened: none for a session that has not ended."""
    if session.ends_at > now:
        raise ValidationFailed(
            _l(
                "This session has not ended yet (it ends at %(when)s): import its meeting "
                "report after it ends.",
                when=to_local(session.ends_at).strftime("%Y-%m-%d %H:%M"),
            ),
            code="session_not_ended",
        )


def _find(session_id: int, digest: str) -> AttendanceImport | None:
    return db.session.scalars(
        sa.select(AttendanceImport).where(
            AttendanceImport.session_id == session_id, AttendanceImport.digest == digest
        )
    ).first()


@dataclass(frozen=True)
class Uploaded:
    report_import: AttendanceImport
    created: bool  # False: this very file was uploaded for the session before


def upload_report(
    actor: User | None,
    session: CourseSession,
    filename: str,
    data: bytes,
    now: datetime | None = None,
) -> Uploaded:
    """Read the file and store its preview (nothing else changes); the same file again
    is the same import, returned unchanged (applied or not)."""
    now = now or utcnow()
    _require_manager(actor, session)
    _require_online(session)
    require_ended(session, now)
    if len(data) > MAX_REPORT_BYTES:
        raise too_large()
    digest = hashlib.sha256(data).hexdigest()
    existing = _find(session.id, digest)
    if existing is not None:
        return Uploaded(existing, False)
    report = parse_report(filename, data)
    report_import = AttendanceImport(
        session_id=session.id,
        uploaded_by_id=actor.id if actor is not None else None,
        filename=_safe_filename(filename),
        digest=digest,
        layout=report.layout,
        status=ImportStatus.PREVIEW,
        rows=evaluate(session, report),
        created_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(report_import)
            db.session.flush()
    except IntegrityError:
        # The same file, uploaded at the same moment by another request.
        existing = _find(session.id, digest)
        if existing is None:
            raise
        return Uploaded(existing, False)
    return Uploaded(report_import, True)


def preview_report(
    actor: User | None,
    session: CourseSession,
    filename: str,
    data: bytes,
    now: datetime | None = None,
) -> AttendanceImport:
    """``upload_report`` for callers that need only the import."""
    return upload_report(actor, session, filename, data, now).report_import


def _safe_filename(filename: str) -> str:
    name = re.split(r"[\\/]", filename or "")[-1].strip()
    return (name or "report")[:255]


def get_import(actor: User | None, import_id: int) -> AttendanceImport:
    """An import, to the session's trainers and admins."""
    report_import = db.session.get(AttendanceImport, import_id)
    if report_import is None:
        raise NotFound(_l("No such attendance report."))
    _require_manager(actor, session_of(report_import))
    return report_import


def session_of(report_import: AttendanceImport) -> CourseSession:
    return lookups.get_session(report_import.session_id)


def imports_for_session(actor: User | None, session: CourseSession) -> list[AttendanceImport]:
    """The session's imports, newest first."""
    _require_manager(actor, session)
    return list(
        db.session.scalars(
            sa.select(AttendanceImport)
            .where(AttendanceImport.session_id == session.id)
            .order_by(AttendanceImport.created_at.desc(), AttendanceImport.id.desc())
        )
    )


def counts(report_import: AttendanceImport) -> dict[str, int]:
    found = dict.fromkeys(OUTCOMES, 0)
    for row in report_import.rows:
        outcome = row.get("outcome")
        if outcome in found:
            found[outcome] += 1
    return found


def _invalid_choice(row: Any) -> ValidationFailed:
    return ValidationFailed(
        _l("Row %(row)s: choose one of the learners enrolled in this course.", row=row),
        code="invalid_choice",
    )


def _choose(
    rows: list[dict[str, Any]], choices: Mapping[int, int | None], session: CourseSession
) -> list[dict[str, Any]]:
    """Apply the trainer's choices (first row of a person → learner, or none) to the
    entries; every choice is checked before any is used."""
    if not choices:
        return []
    learners = enrolled_learners(session.course_id)
    by_row = {row["row"]: row for row in rows}
    chosen: list[dict[str, Any]] = []
    for number, user_id in choices.items():
        entry = by_row.get(number)
        if entry is None or not entry.get("pickable") or entry.get("outcome") == "matched":
            raise _invalid_choice(number)
        if user_id is None:
            continue
        if user_id not in learners:
            raise _invalid_choice(number)
        chosen.append(entry)
        entry.update(
            outcome="matched",
            user_id=user_id,
            learner_name=learners[user_id].name,
            via="chosen",
            reason=None,
        )
    return chosen


def _learner_minutes(session: CourseSession, entries: list[dict[str, Any]]) -> int:
    if all("spans" in entry for entry in entries):
        return minutes_of(session, *stored_spans(entries))
    # Imports stored before intervals were kept: their minutes, added up.
    total = sum(int(entry.get("minutes") or 0) for entry in entries)
    return min(total, attendance.session_minutes(session))


def apply_report(
    actor: User | None,
    report_import: AttendanceImport,
    now: datetime | None = None,
    choices: Mapping[int, int | None] | None = None,
) -> AttendanceImport:
    """Credit the matched rows, and the rows the trainer chose a learner for, in the
    caller's transaction (the other rows are left out); remember the choices for the
    learners' next reports. An applied import is returned unchanged."""
    now = now or utcnow()
    session = session_of(report_import)
    _require_manager(actor, session)
    locked = db.session.scalars(
        sa.select(AttendanceImport)
        .where(AttendanceImport.id == report_import.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if locked.status == ImportStatus.APPLIED:
        return locked
    require_ended(session, now)
    rows = [dict(row) for row in locked.rows]
    chosen = _choose(rows, choices or {}, session)
    by_user: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        if row.get("outcome") == "matched":
            by_user.setdefault(int(row["user_id"]), []).append(row)
    if not by_user:
        raise ValidationFailed(
            _l("Nothing in this report matched an enrolled learner: there is nothing to apply."),
            code="nothing_to_apply",
        )
    skipped = _credit(session, by_user, now)
    _remember(actor, session.course_id, chosen, now)
    locked.rows = rows
    locked.status = ImportStatus.APPLIED
    locked.applied_at = now
    locked.applied_by_id = actor.id if actor is not None else None
    found = counts(locked)
    audit.record(
        actor,
        "attendance.imported",
        "attendance_import",
        locked.id,
        session_id=session.id,
        layout=locked.layout,
        filename=locked.filename,
        applied=len(by_user) - len(skipped),
        chosen=len(chosen),
        skipped_no_longer_enrolled=skipped,
        **{outcome: found[outcome] for outcome in OUTCOMES},
    )
    db.session.flush()
    return locked


def _credit(
    session: CourseSession, by_user: dict[int, list[dict[str, Any]]], now: datetime
) -> list[int]:
    """Set each learner's imported minutes from their entries, then evaluate completion
    once for all; returns the learners no longer enrolled (skipped)."""
    user_ids = sorted(by_user)
    enrolments = {e.user_id: e for e in attendance.lock_attending(session.course_id, user_ids)}
    skipped: list[int] = []
    touched: list[Enrolment] = []
    for user_id in user_ids:
        enrolment = enrolments.get(user_id)
        if enrolment is None:
            skipped.append(user_id)
            continue
        minutes = _learner_minutes(session, by_user[user_id])
        if attendance.set_imported_minutes(session, enrolment, minutes, now, evaluate=False):
            touched.append(enrolment)
    attendance.evaluate_enrolments(touched, now)
    return skipped


def _remember(
    actor: User | None, course_id: int, chosen: list[dict[str, Any]], now: datetime
) -> None:
    """Each chosen entry's names and platform ids → its learner, for this course and for
    any course; a key chosen for two learners at once is not remembered."""
    wanted: dict[str, set[int]] = {}
    for entry in chosen:
        for key in entry.get("aliases") or []:
            wanted.setdefault(key, set()).add(int(entry["user_id"]))
    keys = {key: next(iter(users)) for key, users in wanted.items() if len(users) == 1}
    if not keys:
        return
    for attempt in range(2):
        try:
            with db.session.begin_nested():
                _upsert_aliases(actor, course_id, keys, now)
            return
        except IntegrityError:
            if attempt:  # inserted by another request twice over: give up remembering
                raise


def _upsert_aliases(
    actor: User | None, course_id: int, keys: dict[str, int], now: datetime
) -> None:
    for scope in (course_id, None):
        where = MeetingAlias.course_id == scope if scope else MeetingAlias.course_id.is_(None)
        existing = {
            alias.alias: alias
            for alias in db.session.scalars(
                sa.select(MeetingAlias).where(where, MeetingAlias.alias.in_(sorted(keys)))
            )
        }
        for key, user_id in keys.items():
            alias = existing.get(key) or MeetingAlias(course_id=scope, alias=key)
            alias.user_id = user_id
            alias.chosen_by_id = actor.id if actor is not None else None
            alias.chosen_at = now
            db.session.add(alias)
    db.session.flush()


# ---- what pages and the API show ------------------------------------------------------------


def would_credit(session: CourseSession, minutes: int | None) -> float:
    """The credited hours these imported minutes give the session's record on their own
    (reaching the session's length less the grace counts as the whole session)."""
    measured = attendance._remote(  # the same rule as the record's
        int(minutes or 0), session, AttendanceMethod.IMPORT, None
    )
    return attendance.credited_hours(measured.minutes if measured else 0, session.class_hours)


def view(report_import: AttendanceImport, session: CourseSession | None = None) -> dict[str, Any]:
    """The import as pages and the API show it: rows with their credit and reason, and
    the learners a trainer may choose from for the doubtful rows."""
    session = session or session_of(report_import)
    applied_by = (
        db.session.get(User, report_import.applied_by_id)
        if report_import.applied_by_id is not None
        else None
    )
    rows = []
    for row in report_import.rows:
        shown = dict(row)
        shown.setdefault("pickable", False)
        shown["credited_hours"] = (
            would_credit(session, row.get("minutes")) if row.get("outcome") == "matched" else None
        )
        shown["message"] = reason_message(row)
        via = row.get("via")
        shown["via_label"] = str(VIA_LABELS[via]) if via in VIA_LABELS else None
        rows.append(shown)
    choosing = report_import.status == ImportStatus.PREVIEW and any(r["pickable"] for r in rows)
    learners = enrolled_learners(session.course_id) if choosing else {}
    return {
        "id": report_import.id,
        "session_id": report_import.session_id,
        "filename": report_import.filename,
        "layout": report_import.layout,
        "layout_label": str(LAYOUT_LABELS.get(report_import.layout, report_import.layout)),
        "status": report_import.status,
        "created_at": report_import.created_at,
        "applied_at": report_import.applied_at,
        "applied_by_id": report_import.applied_by_id,
        "applied_by_name": applied_by.name if applied_by is not None else None,
        "counts": counts(report_import),
        "summary_only": any(row.get("upper_bound") for row in rows),
        "rows": rows,
        "learners": [
            {"user_id": learner.user_id, "name": learner.name}
            for learner in sorted(learners.values(), key=lambda item: (item.name, item.user_id))
        ],
    }
