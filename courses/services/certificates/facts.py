"""What a certificate prints, taken once at issue (``Certificate.facts``).

The snapshot is plain JSON: strings, numbers as decimal strings, lists. Rendering,
verification and the learner's list read it, never the live course or user, so a
later edit of either leaves an issued certificate exactly as it was issued.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context

from courses.db import db
from courses.models import (
    Certificate,
    CertificateKind,
    CertificateSettings,
    Course,
    CourseSession,
    Enrolment,
    Programme,
    User,
)
from courses.services.class_hours import round_hours
from courses.settings import to_local

DEFAULT_ACADEMY_NAME = "关爱桂城社工学院"
#: The public page a certificate's QR code opens; the web app serves it at this path.
VERIFY_PATH = "/verify/{serial}"
TITLES = {
    CertificateKind.COURSE: "结业证书",
    CertificateKind.PROGRAMME: "培育计划结业证书",
    CertificateKind.TRANSCRIPT: "继续教育证明",
}


def hours_text(value: float | Decimal) -> str:
    """Class hours as printed: ``12``, ``12.5``, ``12.25``."""
    rounded = Decimal(str(round_hours(float(value)))).normalize()
    return format(rounded, "f")


def verify_url(serial: str) -> str:
    base = current_app.config.get("PUBLIC_URL", "") if has_app_context() else ""
    return f"{base.rstrip('/')}{VERIFY_PATH.format(serial=serial)}"


def certificate_settings() -> CertificateSettings:
    """The admins' settings, or the defaults while none are saved. Reading never writes
    (two workers issuing at once must not race to create the row); saving is
    ``settings.update_settings``'s."""
    settings = db.session.get(CertificateSettings, 1)
    if settings is None:
        return CertificateSettings(id=1, academy_name="", signatory="", seal_key=None)
    return settings


def _academy_name(settings: CertificateSettings) -> str:
    if settings.academy_name:
        return settings.academy_name
    configured = current_app.config.get("ACADEMY_NAME") if has_app_context() else None
    return configured or DEFAULT_ACADEMY_NAME


def _common(
    kind: CertificateKind, holder: User, serial: str, issued_at: datetime
) -> dict[str, Any]:
    settings = certificate_settings()
    return {
        "kind": str(kind),
        "serial": serial,
        "title": TITLES[kind],
        "holder_name": holder.name,
        "academy_name": _academy_name(settings),
        "signatory": settings.signatory or None,
        "seal_key": settings.seal_key,
        "issued_on": to_local(issued_at).date().isoformat(),
        "verify_url": verify_url(serial),
        "course_title": None,
        "programme_title": None,
        "first_date": None,
        "last_date": None,
        "trainers": [],
        "courses": [],
    }


def _session_dates(course_ids: list[int]) -> tuple[str | None, str | None, float]:
    first, last, hours = db.session.execute(
        sa.select(
            sa.func.min(CourseSession.starts_at),
            sa.func.max(CourseSession.starts_at),
            sa.func.coalesce(sa.func.sum(CourseSession.class_hours), 0),
        ).where(CourseSession.course_id.in_(course_ids))
    ).one()
    return _day(first), _day(last), float(hours)


def _day(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands aggregates back without the column's type
        value = value.replace(tzinfo=UTC)
    return to_local(value).date().isoformat()


def course_facts(enrolment: Enrolment, serial: str, issued_at: datetime) -> dict[str, Any]:
    course: Course = enrolment.course
    facts = _common(CertificateKind.COURSE, enrolment.user, serial, issued_at)
    first, last, hours = _session_dates([course.id])
    facts.update(
        course_title=course.title,
        programme_title=course.programme.title if course.programme else None,
        first_date=first,
        last_date=last,
        class_hours=hours_text(hours),
        credited_hours=hours_text(enrolment.credited_hours or 0),
        trainers=[trainer.name for trainer in course.trainers],
    )
    return facts


def programme_facts(
    programme: Programme, holder: User, completed: list[Enrolment], serial: str, issued_at: datetime
) -> dict[str, Any]:
    facts = _common(CertificateKind.PROGRAMME, holder, serial, issued_at)
    if programme.certificate_title:
        facts["title"] = programme.certificate_title
    course_ids = [enrolment.course_id for enrolment in completed]
    first, last, hours = _session_dates(course_ids)
    rows = []
    for enrolment in sorted(completed, key=lambda item: item.course_id):
        course_first, course_last, course_hours = _session_dates([enrolment.course_id])
        rows.append(
            {
                "title": enrolment.course.title,
                "first_date": course_first,
                "last_date": course_last,
                "class_hours": hours_text(course_hours),
            }
        )
    trainers = sorted({t.name for e in completed for t in e.course.trainers})
    facts.update(
        course_title=programme.title,
        programme_title=programme.title,
        first_date=first,
        last_date=last,
        class_hours=hours_text(hours),
        trainers=trainers,
        courses=rows,
    )
    return facts


def transcript_facts(
    holder: User,
    serial: str,
    issued_at: datetime,
    *,
    period: tuple[date, date],
    period_label: str,
    qualification_label: str | None,
    required_hours: float | None,
    courses: list[dict[str, Any]],
    credited_hours: float,
) -> dict[str, Any]:
    facts = _common(CertificateKind.TRANSCRIPT, holder, serial, issued_at)
    facts.update(
        first_date=period[0].isoformat(),
        last_date=period[1].isoformat(),
        period_label=period_label,
        qualification_label=qualification_label,
        required_hours=hours_text(required_hours) if required_hours else None,
        credited_hours=hours_text(credited_hours),
        class_hours=hours_text(credited_hours),
        courses=courses,
    )
    return facts


def reissued_facts(
    old: Certificate, holder: User, serial: str, issued_at: datetime
) -> dict[str, Any]:
    """A re-issue's snapshot: the old one's facts with today's holder name, serial,
    issue date, link and settings (what was true of the training does not change)."""
    fresh = _common(CertificateKind(old.kind), holder, serial, issued_at)
    kept = {key: value for key, value in old.facts.items() if key not in fresh or key in _TRAINING}
    return {**fresh, **kept}


_TRAINING = frozenset(
    {"title", "course_title", "programme_title", "first_date", "last_date", "trainers", "courses"}
)
