"""Issuing course and programme certificates from completions: once, from a snapshot,
revoked when the completion is withdrawn, re-issued as a new version."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from courses.db import db
from courses.models import AuditLogEntry, Certificate, CertificateStatus, EnrolmentStatus
from courses.services import certificates
from courses.services.certificates import facts as snapshot
from tests.certificate_helpers import (
    all_certificates,
    certificates_of,
    completed_course,
    mark_absent,
    pending_events,
)
from tests.factories import make_admin, make_programme
from workers import relay


def _drain(app) -> None:  # type: ignore[no-untyped-def]
    db.session.commit()
    relay.drain(app)
    db.session.expire_all()


def test_a_completion_issues_one_certificate_with_its_facts(app_ctx):
    _trainer, _course, _users, enrolments = completed_course(names=("周小健",))
    assert enrolments[0].status == EnrolmentStatus.COMPLETED
    _drain(app_ctx)
    (certificate,) = certificates_of(enrolments[0])
    assert certificate.status == CertificateStatus.VALID
    assert certificate.serial.startswith("GC-")
    facts = certificate.facts
    assert facts["holder_name"] == "周小健"
    assert facts["course_title"] == "社区营造实务"
    assert facts["trainers"] == ["王老师"]
    assert facts["first_date"] == "2025-03-03" and facts["last_date"] == "2025-03-10"
    assert facts["verify_url"].endswith(f"/verify/{certificate.serial}")
    assert certificate.pdf_key is not None  # the drawing event ran too
    assert not pending_events("enrolment.completed")


def test_the_same_event_twice_and_a_reconciler_issue_nothing_more(app_ctx):
    _, _, _, enrolments = completed_course(learners=2)
    for enrolment in enrolments:
        certificates.issue_for_enrolment(enrolment.id)
        certificates.issue_for_enrolment(enrolment.id)
    db.session.commit()
    certificates.on_enrolment_completed({"enrolment_id": enrolments[0].id})
    _drain(app_ctx)
    assert len(all_certificates()) == 2
    assert len({c.serial for c in all_certificates()}) == 2


def test_an_edit_after_issue_never_changes_the_certificate(app_ctx):
    _, course, users, enrolments = completed_course(names=("李明",))
    _drain(app_ctx)
    course.title = "改过的标题"
    users[0].name = "李明明"
    db.session.commit()
    (certificate,) = certificates_of(enrolments[0])
    assert certificate.facts["course_title"] == "社区营造实务"
    assert certificate.facts["holder_name"] == "李明"
    assert certificates.verify(certificate.serial).holder == "李*"


def test_a_withdrawn_completion_revokes_and_a_new_completion_issues_again(app_ctx):
    trainer, course, users, enrolments = completed_course()
    _drain(app_ctx)
    mark_absent(trainer, course, users[0])
    (revoked,) = certificates_of(enrolments[0])
    assert revoked.status == CertificateStatus.REVOKED
    assert revoked.revoked_reason and revoked.revoked_at is not None
    assert certificates.verify(revoked.serial).status == CertificateStatus.REVOKED
    from courses.services import attendance
    from tests.attendance_helpers import OVER

    later = OVER + timedelta(minutes=5)
    for session in course.sessions:
        attendance.mark(
            trainer, session, [{"user_id": users[0].id, "status": "present"}], now=later
        )
    db.session.commit()
    _drain(app_ctx)
    old, new = certificates_of(enrolments[0])
    assert (old.status, new.status) == (CertificateStatus.REVOKED, CertificateStatus.VALID)
    assert old.serial != new.serial


def test_a_withdrawal_before_the_worker_runs_issues_nothing(app_ctx):
    trainer, course, users, enrolments = completed_course()
    mark_absent(trainer, course, users[0])
    _drain(app_ctx)
    assert certificates_of(enrolments[0]) == []


def test_a_reissue_after_a_name_correction_supersedes_the_old_number(app_ctx):
    _, _, users, enrolments = completed_course(names=("周小建",))
    _drain(app_ctx)
    (old,) = certificates_of(enrolments[0])
    users[0].name = "周小健"
    admin = make_admin()
    new = certificates.reissue(old, admin)
    db.session.commit()
    assert new.serial.startswith(old.serial.rsplit("-", 1)[0] + "-V2-")
    assert new.facts["holder_name"] == "周小健" and new.replaces_id == old.id
    assert new.facts["course_title"] == old.facts["course_title"]
    superseded = certificates.verify(old.serial)
    assert superseded.status == CertificateStatus.SUPERSEDED
    assert superseded.holder is None and superseded.course_title is None
    assert [c.serial for c in certificates.history(new)] == [old.serial, new.serial]
    assert db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditLogEntry)
        .where(AuditLogEntry.action == "certificate.reissue")
    )


def test_an_admin_revokes_with_a_reason(app_ctx):
    import pytest

    from courses.errors import Conflict, PermissionDenied, ValidationFailed

    trainer, _, _, enrolments = completed_course()
    _drain(app_ctx)
    (certificate,) = certificates_of(enrolments[0])
    with pytest.raises(PermissionDenied):
        certificates.revoke(certificate, trainer, "错误")
    admin = make_admin()
    with pytest.raises(ValidationFailed):
        certificates.revoke(certificate, admin, "  ")
    certificates.revoke(certificate, admin, "冒名顶替")
    db.session.commit()
    assert certificate.status == CertificateStatus.REVOKED
    assert certificate.revoked_by_id == admin.id
    with pytest.raises(Conflict):
        certificates.revoke(certificate, admin, "again")


def test_a_programme_certificate_follows_its_last_course(app_ctx):
    programme = make_programme("桂城街道社工新人培育计划")
    _, _, _users, _first = completed_course(names=("欧阳小华",), programme_id=programme.id)
    _drain(app_ctx)
    programme_certificates = [c for c in all_certificates() if c.kind == "programme"]
    assert len(programme_certificates) == 1  # the only course of the programme
    (certificate,) = programme_certificates
    assert certificate.facts["courses"][0]["title"] == "社区营造实务"
    assert certificates.verify(certificate.serial).holder == "欧阳*华"


def test_a_programme_waits_for_every_required_course(app_ctx):
    programme = make_programme("关爱专员创智营")
    _, _, _, _ = completed_course(programme_id=programme.id)
    from tests.factories import make_course

    make_course("第二门课", programme_id=programme.id, sessions=1)
    _drain(app_ctx)
    assert [c.kind for c in all_certificates()] == ["course"]


def test_the_reconciler_finds_a_completion_without_certificate(app_ctx):
    from courses.db import utcnow
    from courses.models import OutboxEvent, OutboxStatus

    _, _, _, enrolments = completed_course()
    # The message was lost and the event given up: only the reconciler is left.
    db.session.execute(sa.update(OutboxEvent).values(status=OutboxStatus.DEAD))
    db.session.commit()
    later = utcnow() + timedelta(minutes=5)
    assert certificates.enrolments_without_certificate(now=later) == [enrolments[0].id]
    from workers.certificates import reconcile_once

    reconcile_once()
    _drain(app_ctx)
    assert len(certificates_of(enrolments[0])) == 1
    assert certificates.enrolments_without_certificate(now=later) == []


def test_hours_are_printed_plainly():
    assert snapshot.hours_text(12) == "12"
    assert snapshot.hours_text(12.5) == "12.5"
    assert snapshot.hours_text(5.335) == "5.34"


def test_masking_keeps_surname_and_last_character():
    assert certificates.mask_name("周小健") == "周*健"
    assert certificates.mask_name("欧阳小华") == "欧阳*华"
    assert certificates.mask_name("李明") == "李*"
    assert certificates.mask_name("𠮷野堃") == "𠮷*堃"
    assert "小" not in certificates.mask_name("张小小明")


def test_a_certificate_row_is_unique_per_enrolment_in_the_database(app_ctx):
    import pytest

    _, _, _, enrolments = completed_course()
    _drain(app_ctx)
    (existing,) = certificates_of(enrolments[0])
    twin = Certificate(
        serial="GC-2099-999999-0",
        sequence=999999,
        kind=existing.kind,
        status=CertificateStatus.VALID,
        user_id=existing.user_id,
        enrolment_id=existing.enrolment_id,
        course_id=existing.course_id,
        holder_name="x",
        title="x",
        class_hours=1,
        facts={},
    )
    db.session.add(twin)
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_the_issuing_task_draws_the_pdf_itself_right_after_its_commit(app_ctx):
    from courses.models import OutboxEvent, OutboxStatus
    from courses.services import outbox
    from workers.outbox import consume

    _, _, _, enrolments = completed_course()
    (event,) = pending_events("enrolment.completed")
    assert consume(event.id, certificates.on_enrolment_completed) == "done"
    db.session.expire_all()
    (certificate,) = certificates_of(enrolments[0])
    assert certificate.pdf_key is not None
    drawing = db.session.scalars(
        sa.select(OutboxEvent).where(OutboxEvent.topic == "certificate.issued")
    ).one()
    assert (drawing.status, drawing.attempts) == (OutboxStatus.DONE, 1)
    assert outbox.take_follow_ups() == []


def test_an_admins_revocation_stands_against_the_reconciler_and_a_late_event(app_ctx):
    from courses.db import utcnow
    from workers.certificates import reconcile_once

    _, _, _, enrolments = completed_course()
    _drain(app_ctx)
    (certificate,) = certificates_of(enrolments[0])
    certificates.revoke(certificate, make_admin(), "冒名顶替")
    db.session.commit()
    later = utcnow() + timedelta(minutes=5)
    assert certificates.enrolments_without_certificate(now=later) == []
    reconcile_once()
    certificates.on_enrolment_completed({"enrolment_id": enrolments[0].id})
    db.session.commit()
    assert [c.status for c in certificates_of(enrolments[0])] == [CertificateStatus.REVOKED]


def test_a_three_character_compound_surname_hides_the_given_name():
    assert certificates.mask_name("欧阳华") == "欧阳*"
    assert certificates.mask_name("周小健") == "周*健"
