"""Online presence (courses.services.attendance.online): heartbeats inside and outside
the session's time, filled gaps, a whole session counted in full."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.models import (
    AttendanceHeartbeat,
    AttendanceMethod,
    AttendanceStatus,
    SessionMode,
)
from courses.services import attendance
from tests.attendance_helpers import (
    END,
    START,
    _record,
    _settle,
)
from tests.factories import make_course, make_enrolment, make_session, make_trainer, make_user


@pytest.fixture
def online(app_ctx):  # type: ignore[no-untyped-def]
    trainer = make_trainer()
    course = make_course(trainers=[trainer], mode="online")
    session = make_session(
        course,
        starts_at=START,
        mode=SessionMode.ONLINE,
        meeting_url="https://meeting.tencent.com/dm/1",
    )
    learner = make_user()
    make_enrolment(course, learner)
    return trainer, course, session, learner


def test_heartbeats_outside_the_session_are_not_credited(online):  # type: ignore[no-untyped-def]
    _trainer, _course, session, learner = online
    before = attendance.record_heartbeat(learner, session, now=START - timedelta(minutes=3))
    after = attendance.record_heartbeat(learner, session, now=END + timedelta(seconds=1))
    db.session.commit()
    assert not before.counted and not after.counted
    assert _record(session, learner) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceHeartbeat)) == 0


def test_heartbeats_credit_the_minutes_inside_the_session(online):  # type: ignore[no-untyped-def]
    _trainer, _course, session, learner = online
    # Joins 15 minutes late and sends a heartbeat every minute for 30 minutes; one
    # report arrives twice and one comes 61 s after the previous one.
    now = START + timedelta(minutes=15, seconds=20)
    for _ in range(30):
        attendance.record_heartbeat(learner, session, now=now)
        now += timedelta(seconds=60)
    attendance.record_heartbeat(learner, session, now=now - timedelta(seconds=60))
    db.session.commit()
    record = _record(session, learner)
    assert record.online_minutes == 30
    assert record.status == AttendanceStatus.LATE
    assert record.method == AttendanceMethod.ONLINE_JOIN
    assert record.minutes == 30
    assert record.credited_hours == 0.67


def test_a_missed_report_between_two_close_heartbeats_is_filled(online):  # type: ignore[no-untyped-def]
    _trainer, _course, session, learner = online
    attendance.record_heartbeat(learner, session, now=START + timedelta(minutes=5, seconds=59))
    attendance.record_heartbeat(learner, session, now=START + timedelta(minutes=7, seconds=1))
    attendance.record_heartbeat(learner, session, now=START + timedelta(minutes=20))  # a gap
    db.session.commit()
    assert _record(session, learner).online_minutes == 4  # 5, 6, 7 and 20


def test_a_whole_online_session_counts_in_full(online):  # type: ignore[no-untyped-def]
    _trainer, _course, session, learner = online
    now = START + timedelta(minutes=3)
    while now < END - timedelta(minutes=5):
        attendance.record_heartbeat(learner, session, now=now)
        now += timedelta(seconds=60)
    db.session.commit()
    record = _record(session, learner)
    assert record.status == AttendanceStatus.PRESENT
    assert record.minutes == 114  # the time that has passed, not yet the whole session
    _settle(END)
    record = _record(session, learner)
    assert record.minutes == 120
    assert record.credited_hours == 2.67
