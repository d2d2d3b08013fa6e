"""The trainer's roll-call (点名) and corrections, and the roll-call's pages.

Rules
-----

* A roll-call or correction (``mark``) sets each listed learner's status and, optionally,
  minutes by hand (``manual``): the automatic ways of attending keep measuring but no
  longer change them, until ``unmark`` hands the record back to what was measured.
* Entries are checked as a whole (``parse_marks``): any bad entry, or any learner not
  enrolled in the course, refuses them all and nothing is recorded.
* *Present* means the whole session (minutes no fewer than its length less the grace);
  absent and excused learners have no minutes.
* Minutes a mark gives count as far as the session's time has passed
  (``records.derive``); every change is written to the audit log and completion is
  evaluated for each learner whose record changed.
* The roll-call lists the session's attending learners by name, one page at a time,
  searched by name, phone and e-mail (``courses.services.search``) and filtered by status
  or by "no record yet" (``UNMARKED``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.db import db, utcnow
from courses.errors import NotFound, ValidationFailed
from courses.models import (
    AttendanceMethod,
    AttendanceRecord,
    AttendanceStatus,
    CourseSession,
    Enrolment,
    User,
)
from courses.services import audit
from courses.services.attendance.completion import changed, evaluate_enrolments
from courses.services.attendance.records import (
    ATTENDING_STATUSES,
    derive,
    lock_attending,
    measure,
    record_for,
    require_session_manager,
    session_minutes,
)
from courses.services.pagination import Page, paginate_rows
from courses.services.search import person_matches

#: The statuses a trainer may give by hand.
MANUAL_STATUSES = tuple(AttendanceStatus)


# ---- marking -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    user_id: int
    status: AttendanceStatus
    minutes: int | None = None


def parse_marks(session: CourseSession, raw: list[dict[str, Any]]) -> list[Mark]:
    """Roll-call entries checked as a whole: any bad entry refuses them all, with the
    problems by row (``invalid_marks``)."""
    problems: dict[str, Any] = {}
    marks: list[Mark] = []
    seen: set[int] = set()
    full = session_minutes(session)
    for index, entry in enumerate(raw):
        try:
            user_id = int(entry.get("user_id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            problems[str(index)] = _l("No such learner.")
            continue
        try:
            status = AttendanceStatus(entry.get("status"))
        except ValueError:
            problems[str(index)] = _l("Unknown attendance status.")
            continue
        minutes = entry.get("minutes")
        if minutes is not None:
            try:
                minutes = int(minutes)
            except (TypeError, ValueError):
                minutes = -1
            if not 0 <= minutes <= full:
                problems[str(index)] = _l("Minutes must be between 0 and %(full)s.", full=full)
                continue
            if minutes > 0 and status in (AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED):
                problems[str(index)] = _l("An absent or excused learner has no minutes.")
                continue
            if status == AttendanceStatus.PRESENT and minutes < full - session.late_after_minutes:
                problems[str(index)] = _l(
                    "Present means the whole session: for %(n)s minutes choose late or "
                    "partly attended.",
                    n=minutes,
                )
                continue
        if user_id in seen:
            problems[str(index)] = _l("This learner is marked twice.")
            continue
        seen.add(user_id)
        marks.append(Mark(user_id, status, minutes))
    if problems:
        raise ValidationFailed(
            _l("Some of the marks are not valid; nothing was recorded."),
            code="invalid_marks",
            fields=problems,
        )
    return marks


def _manual_minutes(
    mark: Mark, record: AttendanceRecord, session: CourseSession, now: datetime
) -> int:
    """The minutes a mark gives: as typed, none for absent or excused, the whole
    session for present, and what was measured (or, if nothing, the whole session for
    late) otherwise. ``derive`` credits only the part that has passed."""
    if mark.minutes is not None:
        return mark.minutes
    if mark.status in (AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED):
        return 0
    if mark.status == AttendanceStatus.PRESENT:
        return session_minutes(session)
    measured = measure(record, session, now).minutes
    if mark.status == AttendanceStatus.LATE:
        return measured or session_minutes(session)
    return measured


def mark(
    actor: User, session: CourseSession, raw: list[dict[str, Any]], now: datetime | None = None
) -> list[AttendanceRecord]:
    """Roll-call (点名) and corrections by the session's trainer or an admin: set each
    listed learner's status (and, optionally, minutes) by hand. All or nothing: every
    learner must be enrolled in the course. Every change is written to the audit log;
    completion is evaluated for each learner whose record changed."""
    now = now or utcnow()
    require_session_manager(actor, session)
    marks = parse_marks(session, raw)
    if not marks:
        return []
    user_ids = [m.user_id for m in marks]
    enrolments = {e.user_id: e for e in lock_attending(session.course_id, user_ids)}
    missing = [str(i) for i, m in enumerate(marks) if m.user_id not in enrolments]
    if missing:
        raise ValidationFailed(
            _l("Some of the learners are not enrolled in this course; nothing was recorded."),
            code="not_enrolled",
            fields={index: _l("Not enrolled in this course.") for index in missing},
        )
    records = []
    touched = []
    # Changes are written together at the end (batched), not row by row.
    with db.session.no_autoflush:
        for entry in marks:
            enrolment = enrolments[entry.user_id]
            record = record_for(session, entry.user_id, enrolment)
            given = record.manual_minutes if record.manual else record.minutes
            before = (record.status.value, given, record.manual)
            minutes = _manual_minutes(entry, record, session, now)
            after = (entry.status.value, minutes, True)
            records.append(record)
            if before == after:
                continue
            corrected = record.manual or record.checked_in_at is not None or record.minutes > 0
            record.status = entry.status
            record.manual_minutes = minutes
            record.manual = True
            record.method = AttendanceMethod.ROLL_CALL
            record.recorded_by_id = actor.id
            derive(record, session, now)
            audit.record(
                actor,
                "attendance.corrected" if corrected else "attendance.marked",
                "attendance_record",
                record.id,
                session_id=session.id,
                user_id=entry.user_id,
                before={"status": before[0], "minutes": before[1]},
                after={"status": after[0], "minutes": after[1]},
            )
            touched.append(enrolment)
    db.session.flush()
    evaluate_enrolments(touched, now)
    return records


def unmark(
    actor: User, session: CourseSession, user_id: int, now: datetime | None = None
) -> AttendanceRecord:
    """Hand a record back to what was measured automatically (undo a roll-call mark)."""
    now = now or utcnow()
    require_session_manager(actor, session)
    locked = lock_attending(session.course_id, [user_id])
    enrolment = locked[0] if locked else None
    record = db.session.scalars(
        sa.select(AttendanceRecord)
        .where(AttendanceRecord.session_id == session.id, AttendanceRecord.user_id == user_id)
        .with_for_update()
    ).first()
    if record is None:
        raise NotFound(_l("No attendance is recorded for this learner."))
    if record.manual:
        before = {"status": record.status.value, "minutes": record.minutes}
        record.manual = False
        record.manual_minutes = None
        record.recorded_by_id = actor.id
        changed(record, session, enrolment, now)
        audit.record(
            actor,
            "attendance.unmarked",
            "attendance_record",
            record.id,
            session_id=session.id,
            user_id=user_id,
            before=before,
            after={"status": record.status.value, "minutes": record.minutes},
        )
    return record


# ---- pages -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterLine:
    user: User
    enrolment: Enrolment
    record: AttendanceRecord | None


#: The roll-call's filter for learners without any record yet.
UNMARKED = "unmarked"


def _roster_statement(session: CourseSession) -> sa.Select[Any]:
    """The session's attending learners with their records, by name."""
    return (
        sa.select(User, Enrolment, AttendanceRecord)
        .join(Enrolment, Enrolment.user_id == User.id)
        .outerjoin(
            AttendanceRecord,
            sa.and_(AttendanceRecord.session_id == session.id, AttendanceRecord.user_id == User.id),
        )
        .where(
            Enrolment.course_id == session.course_id,
            Enrolment.status.in_(ATTENDING_STATUSES),
        )
        .order_by(User.name, User.id)
    )


def session_roster_page(
    actor: User,
    session: CourseSession,
    *,
    q: str | None = None,
    show: AttendanceStatus | str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[RosterLine]:
    """One page of the session's roll-call (trainers and admins), by name, in two
    statements: ``q`` searches name, phone and e-mail; ``show`` keeps the learners with
    that status, or (``UNMARKED``) those without a record yet."""
    require_session_manager(actor, session)
    statement = _roster_statement(session)
    if show == UNMARKED:
        statement = statement.where(AttendanceRecord.id.is_(None))
    elif show:
        statement = statement.where(AttendanceRecord.status == AttendanceStatus(show))
    term = (q or "").strip()[:60]
    if term:
        statement = statement.where(person_matches(term))
    rows = paginate_rows(statement, page, per_page)
    lines = [RosterLine(user, enrolment, record) for user, enrolment, record in rows.items]
    return Page(items=lines, total=rows.total, page=rows.page, per_page=rows.per_page)


def session_roster_lines(
    actor: User, session: CourseSession, user_ids: list[int]
) -> list[RosterLine]:
    """The roll-call lines of the attending learners among ``user_ids``, in one statement
    (the rows a roll-call form sent)."""
    require_session_manager(actor, session)
    if not user_ids:
        return []
    rows = db.session.execute(_roster_statement(session).where(User.id.in_(user_ids))).all()
    return [RosterLine(user, enrolment, record) for user, enrolment, record in rows]


def unmarked_learner_ids(actor: User, session: CourseSession) -> list[int]:
    """The attending learners without any record for the session yet, by name."""
    require_session_manager(actor, session)
    statement = _roster_statement(session).where(AttendanceRecord.id.is_(None))
    return list(db.session.scalars(statement.with_only_columns(User.id)))


def roll_call_counts(session: CourseSession) -> dict[str, int]:
    """How many attending learners have each status, how many none yet (``UNMARKED``)
    and how many attend in all (``"all"``): two statements."""
    rows = db.session.execute(
        sa.select(AttendanceRecord.status, sa.func.count())
        .join(
            Enrolment,
            sa.and_(
                Enrolment.user_id == AttendanceRecord.user_id,
                Enrolment.course_id == session.course_id,
            ),
        )
        .where(
            AttendanceRecord.session_id == session.id,
            Enrolment.status.in_(ATTENDING_STATUSES),
        )
        .group_by(AttendanceRecord.status)
    ).all()
    counts: dict[str, int] = {status.value: 0 for status in AttendanceStatus}
    counts.update({status.value: int(n) for status, n in rows})
    attending = attending_count(session)
    counts["all"] = attending
    counts[UNMARKED] = max(attending - sum(int(n) for _status, n in rows), 0)
    return counts


def checked_in_count(session: CourseSession) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                AttendanceRecord.session_id == session.id,
                AttendanceRecord.checked_in_at.is_not(None),
            )
        )
        or 0
    )


def attending_count(session: CourseSession) -> int:
    """Learners who may attend the session (enrolled, completed or incomplete)."""
    return (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                Enrolment.course_id == session.course_id,
                Enrolment.status.in_(ATTENDING_STATUSES),
            )
        )
        or 0
    )
