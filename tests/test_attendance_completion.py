"""Completion (courses.services.attendance.completion): the threshold, withdrawal before
a certificate, nothing before the last session, re-evaluation after course edits."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from courses.db import db
from courses.models import (
    AuditLogEntry,
    Certificate,
    CertificateKind,
    CertificateStatus,
    EnrolmentStatus,
)
from courses.services import attendance
from tests.attendance_helpers import (
    END,
    OVER,
    START,
    _enrolment,
    _events,
    _record,
    _settle,
    _two_session_course,
)
from tests.factories import make_trainer


def test_completion_flips_exactly_when_the_threshold_is_crossed(app_ctx):  # type: ignore[no-untyped-def]
    trainer = make_trainer()
    course, learner, enrolment = _two_session_course(trainer)  # 2 × 2.67 h; needs 4.27 h
    first, second = course.sessions
    attendance.mark(trainer, first, [{"user_id": learner.id, "status": "present"}], now=OVER)
    db.session.commit()
    assert _enrolment(enrolment.id).status == EnrolmentStatus.INCOMPLETE  # over, and short
    # 71 minutes = 1.58 h: 2.67 + 1.58 = 4.25, short of 0.8 × 5.34 = 4.27
    attendance.mark(
        trainer, second, [{"user_id": learner.id, "status": "partial", "minutes": 71}], now=OVER
    )
    db.session.commit()
    short = _enrolment(enrolment.id)
    assert (short.status, short.credited_hours) == (EnrolmentStatus.INCOMPLETE, 4.25)
    assert _events("enrolment.completed") == 0
    # 72 minutes = 1.60 h: 4.27, exactly the threshold
    attendance.mark(
        trainer, second, [{"user_id": learner.id, "status": "partial", "minutes": 72}], now=OVER
    )
    db.session.commit()
    done = _enrolment(enrolment.id)
    assert done.status == EnrolmentStatus.COMPLETED
    assert done.credited_hours == 4.27
    assert done.completed_at is not None
    assert _events("enrolment.completed") == 1


def test_completion_unflips_when_a_trainer_corrects_before_a_certificate(app_ctx):  # type: ignore[no-untyped-def]
    trainer = make_trainer()
    course, learner, enrolment = _two_session_course(trainer)
    for session in course.sessions:
        attendance.mark(trainer, session, [{"user_id": learner.id, "status": "present"}], now=OVER)
    db.session.commit()
    assert _enrolment(enrolment.id).status == EnrolmentStatus.COMPLETED
    attendance.mark(
        trainer, course.sessions[1], [{"user_id": learner.id, "status": "absent"}], now=OVER
    )
    db.session.commit()
    withdrawn = _enrolment(enrolment.id)
    assert withdrawn.status == EnrolmentStatus.INCOMPLETE  # the course is over
    assert withdrawn.completed_at is None
    assert _events("enrolment.completion_withdrawn") == 1
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditLogEntry)
            .where(AuditLogEntry.action == "attendance.corrected")
        )
        == 1
    )
    # Completing again writes a second completion event (a new one, not a duplicate).
    attendance.mark(
        trainer,
        course.sessions[1],
        [{"user_id": learner.id, "status": "present"}],
        now=OVER + timedelta(minutes=1),
    )
    db.session.commit()
    assert _enrolment(enrolment.id).status == EnrolmentStatus.COMPLETED
    assert _events("enrolment.completed") == 2


def test_nothing_completes_before_the_last_session_has_ended(app_ctx):  # type: ignore[no-untyped-def]
    trainer = make_trainer()
    course, learner, enrolment = _two_session_course(trainer, threshold=0.5, start=START)
    first, second = course.sessions
    # The first session alone meets the threshold, but the course is not over.
    attendance.mark(trainer, first, [{"user_id": learner.id, "status": "present"}], now=END)
    db.session.commit()
    waiting = _enrolment(enrolment.id)
    assert (waiting.status, waiting.credited_hours) == (EnrolmentStatus.ENROLLED, 2.67)
    assert _events("enrolment.completed") == 0
    # A roll-call for the second session taken before it starts credits nothing yet.
    attendance.mark(
        trainer, second, [{"user_id": learner.id, "status": "present"}], now=second.starts_at
    )
    db.session.commit()
    assert _record(second, learner).credited_hours == 0.0
    assert _enrolment(enrolment.id).status == EnrolmentStatus.ENROLLED
    # When the last session ends, the course settles: the marks count in full.
    assert _settle(second.ends_at - timedelta(minutes=1)).sessions == 1  # the first only
    assert _enrolment(enrolment.id).status == EnrolmentStatus.ENROLLED
    assert _settle(second.ends_at).sessions == 1
    done = _enrolment(enrolment.id)
    assert (done.status, done.credited_hours) == (EnrolmentStatus.COMPLETED, 5.34)
    assert _events("enrolment.completed") == 1


def test_a_withdrawn_completion_revokes_its_certificate(app_ctx):  # type: ignore[no-untyped-def]
    trainer = make_trainer()
    course, learner, enrolment = _two_session_course(trainer)
    for session in course.sessions:
        attendance.mark(trainer, session, [{"user_id": learner.id, "status": "present"}], now=OVER)
    db.session.add(
        Certificate(
            serial="GC-2030-000001-0",
            sequence=1,
            kind=CertificateKind.COURSE,
            user_id=learner.id,
            enrolment_id=enrolment.id,
            course_id=course.id,
            holder_name=learner.name,
            title=course.title,
            class_hours=5.34,
            facts={},
        )
    )
    db.session.commit()
    attendance.mark(
        trainer, course.sessions[1], [{"user_id": learner.id, "status": "absent"}], now=OVER
    )
    db.session.commit()
    assert _enrolment(enrolment.id).status != EnrolmentStatus.COMPLETED
    certificate = db.session.scalars(sa.select(Certificate)).one()
    assert certificate.status == CertificateStatus.REVOKED
    assert certificate.revoked_reason


def test_changing_a_sessions_hours_or_the_threshold_re_evaluates_credit(app_ctx):  # type: ignore[no-untyped-def]
    from courses.services import courses as course_service

    trainer = make_trainer()
    course, learner, enrolment = _two_session_course(trainer)
    for session in course.sessions:
        attendance.mark(trainer, session, [{"user_id": learner.id, "status": "present"}], now=OVER)
    db.session.commit()
    assert _enrolment(enrolment.id).status == EnrolmentStatus.COMPLETED
    first = course.sessions[0]
    # Fewer class hours for the first session: its record is worth less at once.
    course_service.update_session(trainer, first, {"class_hours": 1})
    db.session.commit()
    assert (
        _record(
            first, db.session.get(type(_enrolment(enrolment.id).user), learner.id)
        ).credited_hours
        == 1.0
    )
    assert _enrolment(enrolment.id).credited_hours == 3.67
    assert _enrolment(enrolment.id).status == EnrolmentStatus.COMPLETED  # 3.67 ≥ 0.8 × 3.67
    # A stricter rule than the learner meets withdraws the completion (no certificate).
    partial = course.sessions[1]
    attendance.mark(
        trainer, partial, [{"user_id": learner.id, "status": "partial", "minutes": 90}], now=OVER
    )
    db.session.commit()
    assert _enrolment(enrolment.id).status == EnrolmentStatus.COMPLETED  # 1 + 2 = 3 ≥ 0.8 × 3.67
    course_service.update_course(
        trainer, db.session.get(type(course), course.id), {"completion_threshold": 0.9}
    )
    db.session.commit()
    assert _enrolment(enrolment.id).status == EnrolmentStatus.INCOMPLETE  # 3 < 0.9 × 3.67, over
