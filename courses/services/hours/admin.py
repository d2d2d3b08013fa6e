"""What admins keep: hours a learner earned outside the academy (院外课时, added and
deleted with an audit entry) and each qualification level's requirement (hours per
cycle, cycle length).

Codes: ``title_required``, ``invalid_hours``, ``invalid_date``, ``note_too_long`` for
outside hours; ``invalid_level``, ``invalid_required_hours``, ``invalid_cycle_years``
for requirements (``ValidationFailed``, with the field named).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.db import db
from courses.errors import NotFound, ValidationFailed
from courses.models import (
    ExternalHoursRecord,
    QualificationLevel,
    QualificationRequirement,
    User,
)
from courses.services import audit, permissions
from courses.services.class_hours import round_hours
from courses.services.hours.cycles import Requirement, local_today
from courses.services.pagination import Page, paginate

MAX_EXTERNAL_HOURS = Decimal("200")
MAX_TITLE_LENGTH = 200
MAX_NOTE_LENGTH = 2000
MAX_REQUIRED_HOURS = Decimal("1000")
MAX_CYCLE_YEARS = 10


# ---- outside hours --------------------------------------------------------------------------


def _field_error(field: str, message: Any, code: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={field: [message]})


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def get_external_record(record_id: int) -> ExternalHoursRecord:
    record = db.session.get(ExternalHoursRecord, record_id)
    if record is None:
        raise NotFound(_l("No such record of outside hours."))
    return record


def external_records(
    actor: User, user: User, *, page: int = 1, per_page: int = 50
) -> Page[ExternalHoursRecord]:
    """All the learner's outside hours, newest first: for admins (and the learner)."""
    if actor.id != user.id:
        permissions.require_admin(actor)
    return paginate(
        sa.select(ExternalHoursRecord)
        .where(ExternalHoursRecord.user_id == user.id)
        .order_by(ExternalHoursRecord.earned_on.desc(), ExternalHoursRecord.id.desc()),
        page=page,
        per_page=per_page,
    )


def add_external_hours(
    admin: User,
    user: User,
    title: Any,
    hours: Any,
    earned_on: Any,
    note: Any = "",
    today: date | None = None,
) -> ExternalHoursRecord:
    """Record hours the learner earned outside the academy (admins only; audited).

    Codes: ``title_required``, ``invalid_hours`` (more than 0, at most 200, two
    decimals), ``invalid_date`` (a date, not in the future), ``note_too_long``."""
    permissions.require_admin(admin)
    clean_title = _external_title(title)
    amount = _external_amount(hours)
    _check_earned_on(earned_on, today or local_today())
    clean_note = _limited_text(
        "note",
        note,
        MAX_NOTE_LENGTH,
        _l("The note may have at most %(n)s characters.", n=MAX_NOTE_LENGTH),
        "note_too_long",
    )
    record = ExternalHoursRecord(
        user_id=user.id,
        title=clean_title,
        hours=float(amount),
        earned_on=earned_on,
        note=clean_note,
        added_by_id=admin.id,
    )
    db.session.add(record)
    db.session.flush()
    audit.record(
        admin,
        "external_hours.added",
        "external_hours_record",
        record.id,
        user_id=user.id,
        title=clean_title,
        hours=float(amount),
        earned_on=earned_on.isoformat(),
        note=clean_note,
    )
    return record


def _external_title(title: Any) -> str:
    """What the training was: required, at most ``MAX_TITLE_LENGTH`` characters."""
    clean_title = _limited_text(
        "title",
        title,
        MAX_TITLE_LENGTH,
        _l("The title may have at most %(n)s characters.", n=MAX_TITLE_LENGTH),
        "title_required",
    )
    if not clean_title:
        raise _field_error("title", _l("Enter what the training was."), "title_required")
    return clean_title


def _external_amount(hours: Any) -> Decimal:
    """The hours: more than 0, at most ``MAX_EXTERNAL_HOURS``, two decimals at most."""
    amount = _decimal(hours)
    if amount is None or not Decimal(0) < amount <= MAX_EXTERNAL_HOURS:
        raise _field_error(
            "hours",
            _l("Enter the hours: more than 0 and at most %(n)s.", n=int(MAX_EXTERNAL_HOURS)),
            "invalid_hours",
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise _field_error(
            "hours", _l("Give the hours with at most two decimals."), "invalid_hours"
        )
    return amount


def _check_earned_on(earned_on: Any, today: date) -> None:
    """The day the hours were earned: a date (not a date-time), not after ``today``."""
    if isinstance(earned_on, datetime) or not isinstance(earned_on, date):
        raise _field_error("earned_on", _l("Enter the date the hours were earned."), "invalid_date")
    if earned_on > today:
        raise _field_error("earned_on", _l("The date cannot be in the future."), "invalid_date")


def _limited_text(field: str, value: Any, limit: int, too_long: Any, code: str) -> str:
    """``value`` stripped (empty unless it is a string); ``code`` on ``field`` with the
    message ``too_long`` if it has more than ``limit`` characters."""
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > limit:
        raise _field_error(field, too_long, code)
    return text


def delete_external_hours(admin: User, record: ExternalHoursRecord) -> None:
    """Delete a record of outside hours (admins only; audited with what it said)."""
    permissions.require_admin(admin)
    audit.record(
        admin,
        "external_hours.deleted",
        "external_hours_record",
        record.id,
        user_id=record.user_id,
        title=record.title,
        hours=round_hours(record.hours),
        earned_on=record.earned_on.isoformat(),
        note=record.note,
    )
    db.session.delete(record)
    db.session.flush()


# ---- requirements ---------------------------------------------------------------------------


#: The levels that carry a requirement (``none`` never does).
REQUIREMENT_LEVELS = (
    QualificationLevel.ASSISTANT,
    QualificationLevel.SOCIAL_WORKER,
    QualificationLevel.SENIOR,
)


def requirements() -> list[Requirement]:
    """Every level's requirement, in the order of the levels (one statement)."""
    rows = {row.level: row for row in db.session.scalars(sa.select(QualificationRequirement))}
    return [
        Requirement(level, round_hours(rows[level].required_hours), int(rows[level].cycle_years))
        for level in REQUIREMENT_LEVELS
        if level in rows
    ]


def parse_level(value: Any) -> QualificationLevel:
    try:
        level = QualificationLevel(value)
    except ValueError:
        level = None
    if level is None or level not in REQUIREMENT_LEVELS:
        raise ValidationFailed(
            _l("Requirements apply to qualified social workers only."), code="invalid_level"
        )
    return level


def set_requirement(
    admin: User, level: Any, required_hours: Any, cycle_years: Any
) -> QualificationRequirement:
    """Change a level's requirement (admins only; audited). Codes: ``invalid_level``,
    ``invalid_required_hours`` (0–1000, two decimals), ``invalid_cycle_years`` (1–10)."""
    permissions.require_admin(admin)
    level = parse_level(level)
    amount = _decimal(required_hours)
    if (
        amount is None
        or not Decimal(0) <= amount <= MAX_REQUIRED_HOURS
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise _field_error(
            "required_hours",
            _l("Enter the hours required: from 0 to %(n)s.", n=int(MAX_REQUIRED_HOURS)),
            "invalid_required_hours",
        )
    if (
        isinstance(cycle_years, bool)
        or not isinstance(cycle_years, int)
        or not 1 <= cycle_years <= MAX_CYCLE_YEARS
    ):
        raise _field_error(
            "cycle_years",
            _l("Enter the cycle length: from 1 to %(n)s years.", n=MAX_CYCLE_YEARS),
            "invalid_cycle_years",
        )
    row = db.session.get(QualificationRequirement, level)
    before = None
    if row is None:
        row = QualificationRequirement(level=level)
        db.session.add(row)
    else:
        before = {"required_hours": round_hours(row.required_hours), "cycle_years": row.cycle_years}
    row.required_hours = float(amount)
    row.cycle_years = cycle_years
    db.session.flush()
    audit.record(
        admin,
        "qualification_requirement.changed",
        "qualification_requirement",
        None,
        level=level.value,
        before=before,
        after={"required_hours": float(amount), "cycle_years": cycle_years},
    )
    return row
