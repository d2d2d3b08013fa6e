"""The attendance record (courses.services.attendance.records): one record per learner
and session whichever way they came, and the rounding of credited hours."""

from __future__ import annotations

from datetime import timedelta

from courses.db import db
from courses.models import (
    AttendanceStatus,
    SessionMode,
)
from courses.services import attendance
from courses.services.attendance import checkin
from tests.attendance_helpers import (
    END,
    START,
    _record,
    _records,
    _settle,
)
from tests.factories import make_course, make_enrolment, make_session, make_trainer, make_user


def test_hybrid_sessions_keep_one_record_whichever_way_the_learner_came(app_ctx):  # type: ignore[no-untyped-def]
    trainer = make_trainer()
    course = make_course(trainers=[trainer], mode="hybrid")
    session = make_session(
        course,
        starts_at=START,
        mode=SessionMode.HYBRID,
        meeting_url="https://meeting.tencent.com/dm/2",
    )
    learner = make_user()
    make_enrolment(course, learner)
    checkin.open_checkin(trainer, session, now=START - timedelta(hours=1))
    checkin.check(learner, session, code=session.checkin_code, now=START + timedelta(minutes=25))
    for minute in range(10):
        attendance.record_heartbeat(learner, session, now=START + timedelta(minutes=minute))
    db.session.commit()
    _settle(END)
    record = _record(session, learner)
    assert _records() == 1
    assert record.online_minutes == 10
    assert record.minutes == 95  # on site from 09:55 to the end counts most
    assert record.status == AttendanceStatus.LATE


def test_credited_hours_rounding(app_ctx):  # type: ignore[no-untyped-def]
    assert attendance.credited_hours(0, 2) == 0.0
    assert attendance.credited_hours(45, 2) == 1.0
    assert attendance.credited_hours(1, 2) == 0.02  # 0.0222… rounds to 0.02
    assert attendance.credited_hours(50, 3) == 1.11
    assert attendance.credited_hours(500, 3) == 3.0  # capped at the session's hours
