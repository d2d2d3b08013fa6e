"""Issuing, revoking and re-issuing certificates: the rules every caller goes through.

Issuing is idempotent: the enrolment (or learner × programme) is locked, an existing
valid certificate is returned as it is, and the partial unique indexes of
``certificates`` stop a second one whatever happens around them. Each new certificate
writes the outbox event ``certificate.issued``, whose consumer draws its PDF; the
issuing transaction itself stays short, because it holds the year's serial counter.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import orm

from courses.db import db, utcnow
from courses.errors import Conflict, ValidationFailed
from courses.models import (
    Certificate,
    CertificateKind,
    CertificateStatus,
    Course,
    Enrolment,
    EnrolmentStatus,
    OutboxEvent,
    Programme,
    User,
)
from courses.services import audit, outbox
from courses.services.certificates import facts as snapshot
from courses.services.certificates.serials import Serial, next_serial
from courses.services.permissions import require_admin
from courses.settings import to_local

ISSUED_TOPIC = "certificate.issued"
WITHDRAWN_REASON = "结业条件不再满足（考勤或评估已更正），证书自动撤销"
PROGRAMME_WITHDRAWN_REASON = "培育计划结业条件不再满足（课程结业已撤回），证书自动撤销"
REASON_LENGTH = 500
AUTOMATIC_REASONS = (WITHDRAWN_REASON, PROGRAMME_WITHDRAWN_REASON)


def _valid_for_enrolment(enrolment_id: int) -> Certificate | None:
    return db.session.scalar(
        sa.select(Certificate).where(
            Certificate.enrolment_id == enrolment_id,
            Certificate.status == CertificateStatus.VALID,
        )
    )


def _valid_for_programme(user_id: int, programme_id: int) -> Certificate | None:
    return db.session.scalar(
        sa.select(Certificate).where(
            Certificate.kind == CertificateKind.PROGRAMME,
            Certificate.user_id == user_id,
            Certificate.programme_id == programme_id,
            Certificate.status == CertificateStatus.VALID,
        )
    )


def standing_revocation(*where: sa.ColumnElement[bool]) -> sa.Exists:
    """A certificate an admin revoked (not one revoked because its completion was
    withdrawn): it stands, and nothing issues a new one in its place."""
    return (
        sa.select(Certificate.id)
        .where(
            *where,
            Certificate.status == CertificateStatus.REVOKED,
            Certificate.revoked_reason.not_in(AUTOMATIC_REASONS),
        )
        .exists()
    )


def store(certificate: Certificate) -> Certificate | None:
    """Insert ``certificate`` and its rendering event; the savepoint lets a lost race
    with another issuer (the unique index) end as "already issued", not as an error."""
    try:
        with db.session.begin_nested():
            db.session.add(certificate)
            db.session.flush()
    except sa.exc.IntegrityError:
        return None
    outbox.emit(
        OutboxEvent(
            topic=ISSUED_TOPIC,
            payload={"certificate_id": certificate.id},
            dedup_key=f"{ISSUED_TOPIC}:{certificate.id}",
        )
    )
    return certificate


def build(
    kind: CertificateKind, user: User, serial: Serial, facts: dict, **refs: object
) -> Certificate:
    return Certificate(
        serial=str(serial),
        sequence=serial.sequence,
        version=serial.version,
        kind=kind,
        status=CertificateStatus.VALID,
        user_id=user.id,
        holder_name=user.name,
        title=facts["course_title"] or facts["title"],
        class_hours=float(facts["class_hours"]),
        facts=facts,
        **refs,
    )


def issue_for_enrolment(enrolment_id: int, now: datetime | None = None) -> Certificate | None:
    """The course certificate of a completed enrolment: the existing valid one, a new
    one, or None when the enrolment is not (or no longer) completed."""
    # The enrolment's row alone is locked (not its course's: learners of one course are
    # issued in parallel); the course and the learner come in the same statement.
    enrolment = db.session.scalar(
        sa.select(Enrolment)
        .where(Enrolment.id == enrolment_id)
        .options(
            orm.joinedload(Enrolment.course, innerjoin=True)
            .selectinload(Course.trainers)
            .lazyload(User.role_rows),
            orm.joinedload(Enrolment.user, innerjoin=True).lazyload(User.role_rows),
        )
        .with_for_update(of=Enrolment)
    )
    if enrolment is None or enrolment.status != EnrolmentStatus.COMPLETED:
        return None
    existing = _valid_for_enrolment(enrolment.id)
    if existing is not None:
        return existing
    if db.session.scalar(sa.select(standing_revocation(Certificate.enrolment_id == enrolment.id))):
        return None
    now = now or utcnow()
    serial = next_serial(to_local(now).year)
    facts = snapshot.course_facts(enrolment, str(serial), now)
    certificate = build(
        CertificateKind.COURSE,
        enrolment.user,
        serial,
        facts,
        enrolment_id=enrolment.id,
        course_id=enrolment.course_id,
        programme_id=enrolment.course.programme_id,
        issued_at=now,
    )
    return store(certificate) or _valid_for_enrolment(enrolment.id)


def programme_completions(programme: Programme, user_id: int) -> list[Enrolment] | None:
    """The learner's completed enrolments in the programme when they meet its rule
    (``required_course_count`` of its courses, all when NULL, and ``required_hours``
    credited, when set); None while they do not."""
    courses = db.session.scalars(
        sa.select(Course.id).where(Course.programme_id == programme.id, Course.status != "draft")
    ).all()
    completed = db.session.scalars(
        sa.select(Enrolment).where(
            Enrolment.user_id == user_id,
            Enrolment.course_id.in_(courses),
            Enrolment.status == EnrolmentStatus.COMPLETED,
        )
    ).all()
    needed = programme.required_course_count or len(courses)
    if not courses or len(completed) < needed:
        return None
    hours = sum(float(enrolment.credited_hours or 0) for enrolment in completed)
    if programme.required_hours and hours + 1e-9 < float(programme.required_hours):
        return None
    return list(completed)


def issue_for_programme(
    programme_id: int, user_id: int, now: datetime | None = None
) -> Certificate | None:
    """The programme certificate when the learner has met the programme's rule."""
    programme = db.session.get(Programme, programme_id, with_for_update=True)
    if programme is None:
        return None
    existing = _valid_for_programme(user_id, programme_id)
    if existing is not None:
        return existing
    revoked = standing_revocation(
        Certificate.kind == CertificateKind.PROGRAMME,
        Certificate.user_id == user_id,
        Certificate.programme_id == programme_id,
    )
    if db.session.scalar(sa.select(revoked)):
        return None
    completed = programme_completions(programme, user_id)
    if completed is None:
        return None
    user = db.session.get(User, user_id)
    now = now or utcnow()
    serial = next_serial(to_local(now).year)
    facts = snapshot.programme_facts(programme, user, completed, str(serial), now)
    certificate = build(
        CertificateKind.PROGRAMME, user, serial, facts, programme_id=programme.id, issued_at=now
    )
    return store(certificate) or _valid_for_programme(user_id, programme_id)


def _revoke(certificate: Certificate, reason: str, actor: User | None, now: datetime) -> None:
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = now
    certificate.revoked_reason = reason[:REASON_LENGTH]
    certificate.revoked_by_id = actor.id if actor is not None else None
    audit.record(actor, "certificate.revoke", "certificate", certificate.id, reason=reason)


def revoke_for_withdrawn(enrolment: Enrolment, now: datetime | None = None) -> None:
    """A completion was withdrawn (a corrected roll-call): its certificate, and the
    programme certificate that counted it when the programme is no longer complete,
    are revoked in the same transaction, with that reason."""
    now = now or utcnow()
    certificate = _valid_for_enrolment(enrolment.id)
    if certificate is not None:
        _revoke(certificate, WITHDRAWN_REASON, None, now)
    programme_id = enrolment.course.programme_id
    if programme_id is None:
        return
    programme_certificate = _valid_for_programme(enrolment.user_id, programme_id)
    if programme_certificate is None:
        return
    db.session.flush()
    if programme_completions(enrolment.course.programme, enrolment.user_id) is None:
        _revoke(programme_certificate, PROGRAMME_WITHDRAWN_REASON, None, now)


def revoke(certificate: Certificate, actor: User, reason: str) -> Certificate:
    """An admin revokes a valid certificate, with a reason (kept in the audit log)."""
    require_admin(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": _l("Say why the certificate is revoked.")})
    if len(reason) > REASON_LENGTH:
        raise ValidationFailed(fields={"reason": _l("At most %(n)d characters.", n=REASON_LENGTH)})
    db.session.refresh(certificate, with_for_update=True)  # against a racing re-issue
    if certificate.status != CertificateStatus.VALID:
        raise Conflict(_l("Only a valid certificate can be revoked."), code="not_valid")
    _revoke(certificate, reason, actor, utcnow())
    return certificate


def reissue(certificate: Certificate, actor: User, now: datetime | None = None) -> Certificate:
    """A new version of a valid certificate with today's holder name (after a name
    correction): the same number with the next version; the old one is superseded."""
    require_admin(actor)
    db.session.refresh(certificate, with_for_update=True)  # against a racing revocation
    if certificate.status != CertificateStatus.VALID:
        raise Conflict(_l("Only a valid certificate can be re-issued."), code="not_valid")
    now = now or utcnow()
    holder = db.session.get(User, certificate.user_id)
    serial = Serial(
        certificate.serial.split("-")[0],
        int(certificate.serial.split("-")[1]),
        certificate.sequence,
        certificate.version + 1,
    )
    certificate.status = CertificateStatus.SUPERSEDED
    certificate.superseded_at = now
    db.session.flush()
    facts = snapshot.reissued_facts(certificate, holder, str(serial), now)
    successor = build(
        CertificateKind(certificate.kind),
        holder,
        serial,
        facts,
        enrolment_id=certificate.enrolment_id,
        course_id=certificate.course_id,
        programme_id=certificate.programme_id,
        year=certificate.year,
        replaces_id=certificate.id,
        issued_at=now,
    )
    stored = store(successor)
    if stored is None:
        raise Conflict(_l("This certificate was re-issued a moment ago."), code="reissued")
    audit.record(
        actor, "certificate.reissue", "certificate", stored.id, replaces=certificate.serial
    )
    return stored
