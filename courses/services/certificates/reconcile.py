"""What should exist and does not: the reconciler's questions (SPEC §6 rule 6).

A broker can lose a queued message and a worker can die between two commits, so beat
asks these regularly; each answer is a short list of ids that the caller settles one
by one, each in its own transaction, with the same functions the events use. Whatever
is young enough to still be on its way (``grace``) is left to its event.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from courses.db import db, utcnow
from courses.models import (
    Certificate,
    CertificateKind,
    CertificateStatus,
    Course,
    Enrolment,
    EnrolmentStatus,
    OutboxEvent,
    OutboxStatus,
)
from courses.services.certificates.issue import standing_revocation

GRACE = timedelta(minutes=2)
BATCH = 200


def _valid_course_certificate() -> sa.Exists:
    return (
        sa.select(Certificate.id)
        .where(
            Certificate.enrolment_id == Enrolment.id,
            Certificate.status == CertificateStatus.VALID,
        )
        .exists()
    )


def enrolments_without_certificate(now: datetime | None = None, limit: int = BATCH) -> list[int]:
    """Completed enrolments (settled before the grace) that hold no valid certificate."""
    before = (now or utcnow()) - GRACE
    return list(
        db.session.scalars(
            sa.select(Enrolment.id)
            .where(
                Enrolment.status == EnrolmentStatus.COMPLETED,
                Enrolment.completed_at < before,
                ~_valid_course_certificate(),
                ~standing_revocation(Certificate.enrolment_id == Enrolment.id),
            )
            .order_by(Enrolment.id)
            .limit(limit)
        )
    )


def programmes_without_certificate(
    now: datetime | None = None, limit: int = BATCH
) -> list[tuple[int, int]]:
    """(programme id, learner id) pairs with a completed course of the programme and no
    valid programme certificate: candidates, which ``issue_for_programme`` decides."""
    before = (now or utcnow()) - GRACE
    has_certificate = (
        sa.select(Certificate.id)
        .where(
            Certificate.kind == CertificateKind.PROGRAMME,
            Certificate.user_id == Enrolment.user_id,
            Certificate.programme_id == Course.programme_id,
            Certificate.status == CertificateStatus.VALID,
        )
        .exists()
    )
    rows = db.session.execute(
        sa.select(Course.programme_id, Enrolment.user_id)
        .join(Course, Course.id == Enrolment.course_id)
        .where(
            Course.programme_id.is_not(None),
            Enrolment.status == EnrolmentStatus.COMPLETED,
            Enrolment.completed_at < before,
            ~has_certificate,
            ~standing_revocation(
                Certificate.kind == CertificateKind.PROGRAMME,
                Certificate.user_id == Enrolment.user_id,
                Certificate.programme_id == Course.programme_id,
            ),
        )
        .group_by(Course.programme_id, Enrolment.user_id)
        .order_by(Course.programme_id, Enrolment.user_id)
        .limit(limit)
    ).all()
    return [(programme_id, user_id) for programme_id, user_id in rows]


def certificates_without_pdf(now: datetime | None = None, limit: int = BATCH) -> list[int]:
    """Certificates issued before the grace whose PDF was never stored and whose
    drawing event is no longer on its way (done or dead)."""
    before = (now or utcnow()) - GRACE
    pending_event = (
        sa.select(OutboxEvent.id)
        .where(
            OutboxEvent.dedup_key
            == sa.literal("certificate.issued:") + sa.cast(Certificate.id, sa.String),
            OutboxEvent.status == OutboxStatus.PENDING,
        )
        .exists()
    )
    return list(
        db.session.scalars(
            sa.select(Certificate.id)
            .where(Certificate.pdf_key.is_(None), Certificate.issued_at < before, ~pending_event)
            .order_by(Certificate.id)
            .limit(limit)
        )
    )
