"""The continuing-education proof (继续教育证明): a learner asks for one for a year
or for their current registration cycle; it lists the courses and outside hours the
ledger credits in that period against their level's requirement, with its own serial
and QR code. It is what a social worker hands in for re-registration (再登记).

Asking again for the same period with nothing changed returns the proof already
issued rather than a new number.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.db import db, utcnow
from courses.errors import ValidationFailed
from courses.models import (
    Certificate,
    CertificateKind,
    CertificateStatus,
    QualificationLevel,
    User,
)
from courses.services import hours
from courses.services.certificates import facts as snapshot
from courses.services.certificates.issue import build, store
from courses.services.certificates.serials import next_serial
from courses.settings import to_local

LEVEL_LABELS = {
    QualificationLevel.ASSISTANT: "助理社会工作师",
    QualificationLevel.SOCIAL_WORKER: "社会工作师",
    QualificationLevel.SENIOR: "高级社会工作师",
}


def _period(user: User, year: int | None, cycle: bool) -> tuple[date, date, str]:
    """[first day, first day after) and the label printed for it."""
    if cycle:
        requirement = hours.requirement_for(user.qualification_level)
        if requirement is None:
            raise ValidationFailed(
                _l("Your qualification level has no registration cycle; ask for a year."),
                code="no_cycle",
            )
        start, end = hours.current_cycle(
            hours.cycle_anchor(user), requirement.cycle_years, hours.local_today()
        )
        last = end - timedelta(days=1)
        label = (
            f"{start.year}年{start.month}月{start.day}日至{last.year}年{last.month}月{last.day}日"
        )
        return start, end, label
    this_year = hours.local_today().year
    chosen = int(year or this_year)
    if not 2000 <= chosen <= this_year:
        raise ValidationFailed(_l("That year is not valid."), code="invalid_year")
    return date(chosen, 1, 1), date(chosen + 1, 1, 1), f"{chosen}年度"


def _rows(user: User, start: date, end: date) -> tuple[list[dict[str, Any]], float]:
    courses, external = hours.hours_between(user, start, end)
    rows: list[dict[str, Any]] = []
    for course in courses:
        days = [to_local(s.starts_at).date().isoformat() for s in course.sessions]
        rows.append(
            {
                "title": course.title,
                "first_date": min(days) if days else None,
                "last_date": max(days) if days else None,
                "class_hours": snapshot.hours_text(course.hours),
            }
        )
    for record in external:
        day = record.earned_on.isoformat()
        rows.append(
            {
                "title": f"{record.title}（院外）",
                "first_date": day,
                "last_date": day,
                "class_hours": snapshot.hours_text(record.hours),
            }
        )
    total = sum(course.hours for course in courses) + sum(r.hours for r in external)
    return rows, round(total, 2)


def _same_proof(user: User, start: date, end: date, total: float) -> Certificate | None:
    for certificate in db.session.scalars(
        sa.select(Certificate).where(
            Certificate.user_id == user.id,
            Certificate.kind == CertificateKind.TRANSCRIPT,
            Certificate.status == CertificateStatus.VALID,
            Certificate.year == start.year,
        )
    ):
        facts = certificate.facts
        if (
            facts.get("first_date") == start.isoformat()
            and facts.get("last_date") == (end - timedelta(days=1)).isoformat()
            and float(certificate.class_hours) == total
            and facts.get("holder_name") == user.name
        ):
            return certificate
    return None


def request_transcript(
    user: User, *, year: int | None = None, cycle: bool = False, now: datetime | None = None
) -> Certificate:
    """A proof of the learner's credited hours for ``year`` or their current cycle."""
    # One request at a time per learner: a double tap gives one proof, not two.
    db.session.execute(sa.select(User.id).where(User.id == user.id).with_for_update())
    start, end, label = _period(user, year, cycle)
    rows, total = _rows(user, start, end)
    if total <= 0:
        raise ValidationFailed(
            _l("No class hours are credited to you in that period yet."), code="no_hours"
        )
    existing = _same_proof(user, start, end, total)
    if existing is not None:
        return existing
    now = now or utcnow()
    serial = next_serial(to_local(now).year)
    requirement = hours.requirement_for(user.qualification_level)
    facts = snapshot.transcript_facts(
        user,
        str(serial),
        now,
        period=(start, end - timedelta(days=1)),
        period_label=label,
        qualification_label=LEVEL_LABELS.get(user.qualification_level),
        required_hours=requirement.required_hours if requirement and cycle else None,
        courses=rows,
        credited_hours=total,
    )
    certificate = build(
        CertificateKind.TRANSCRIPT, user, serial, facts, year=start.year, issued_at=now
    )
    certificate.title = facts["title"]
    return store(certificate) or certificate
