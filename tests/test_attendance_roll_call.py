"""Roll-call and corrections (courses.services.attendance.roll_call): all or nothing,
audited, present means the whole session, unmark hands back what was measured."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.errors import PermissionDenied, ValidationFailed
from courses.models import (
    AttendanceRecord,
    AttendanceStatus,
    AuditLogEntry,
)
from courses.services import attendance
from courses.services.attendance import checkin
from tests.attendance_helpers import (
    END,
    START,
    _record,
    _records,
    make_open_session,
)
from tests.factories import make_enrolment, make_user


@pytest.fixture
def setup(app_ctx):  # type: ignore[no-untyped-def]
    return make_open_session()


def test_roll_call_marks_the_whole_roster_and_is_audited(setup):  # type: ignore[no-untyped-def]
    trainer, course, session, learner, _enrolment = setup
    others = [make_user() for _ in range(3)]
    for other in others:
        make_enrolment(course, other)
    marks = [
        {"user_id": learner.id, "status": "present"},
        {"user_id": others[0].id, "status": "late", "minutes": 90},
        {"user_id": others[1].id, "status": "absent"},
        {"user_id": others[2].id, "status": "excused"},
    ]
    attendance.mark(trainer, session, marks, now=END)
    db.session.commit()
    got = {
        r.user_id: (r.status, r.minutes, r.credited_hours)
        for r in db.session.scalars(sa.select(AttendanceRecord))
    }
    assert got == {
        learner.id: (AttendanceStatus.PRESENT, 120, 2.67),
        others[0].id: (AttendanceStatus.LATE, 90, 2.0),
        others[1].id: (AttendanceStatus.ABSENT, 0, 0.0),
        others[2].id: (AttendanceStatus.EXCUSED, 0, 0.0),
    }
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditLogEntry)
            .where(AuditLogEntry.action == "attendance.marked")
        )
        == 4
    )


def test_a_roll_call_with_a_bad_entry_changes_nothing(setup):  # type: ignore[no-untyped-def]
    trainer, _course, session, learner, _enrolment = setup
    stranger = make_user()
    for marks, code in (
        (
            [
                {"user_id": learner.id, "status": "present"},
                {"user_id": stranger.id, "status": "present"},
            ],
            "not_enrolled",
        ),
        ([{"user_id": learner.id, "status": "sleeping"}], "invalid_marks"),
        ([{"user_id": learner.id, "status": "late", "minutes": 500}], "invalid_marks"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            attendance.mark(trainer, session, marks, now=END)
        assert refused.value.code == code
        db.session.rollback()
    assert _records() == 0


def test_learners_cannot_take_roll_call(setup):  # type: ignore[no-untyped-def]
    _trainer, _course, session, learner, _enrolment = setup
    with pytest.raises(PermissionDenied):
        attendance.mark(learner, session, [{"user_id": learner.id, "status": "present"}])


def test_present_means_the_whole_session(setup):  # type: ignore[no-untyped-def]
    trainer, _course, session, learner, _enrolment = setup
    with pytest.raises(ValidationFailed) as refused:
        attendance.mark(
            trainer, session, [{"user_id": learner.id, "status": "present", "minutes": 30}]
        )
    assert refused.value.code == "invalid_marks"
    assert _records() == 0
    attendance.mark(
        trainer, session, [{"user_id": learner.id, "status": "present", "minutes": 115}], now=END
    )
    db.session.commit()
    assert _record(session, learner).minutes == 115


def test_unmark_hands_the_record_back_to_what_was_measured(setup):  # type: ignore[no-untyped-def]
    trainer, _course, session, learner, _enrolment = setup
    checkin.check(learner, session, code=session.checkin_code, now=START + timedelta(minutes=20))
    attendance.mark(trainer, session, [{"user_id": learner.id, "status": "present"}], now=END)
    db.session.commit()
    assert _record(session, learner).minutes == 120
    attendance.unmark(trainer, session, learner.id, now=END)
    db.session.commit()
    record = _record(session, learner)
    assert (record.status, record.minutes, record.manual) == (AttendanceStatus.LATE, 100, False)
