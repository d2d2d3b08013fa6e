"""Recorded-video progress (courses.services.attendance.video): only what was played
counts, 90 % earns the session, and what the player says is bounded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from courses.db import db
from courses.errors import ValidationFailed
from courses.models import (
    AttendanceMethod,
    AttendanceStatus,
    SessionMode,
)
from courses.services import attendance
from tests.attendance_helpers import (
    START,
    _record,
)
from tests.factories import make_course, make_enrolment, make_session, make_user


@pytest.fixture
def recorded(app_ctx):  # type: ignore[no-untyped-def]
    course = make_course(mode="online")
    session = make_session(
        course,
        starts_at=START,
        mode=SessionMode.RECORDED,
        video_url="https://video.example.org/1.mp4",
    )
    learner = make_user()
    make_enrolment(course, learner)
    return course, session, learner


def test_skipping_to_the_end_earns_nothing(recorded):  # type: ignore[no-untyped-def]
    _course, session, learner = recorded
    now = START + timedelta(days=1)
    state = attendance.record_video_progress(
        learner, session, [[0, 20], [7180, 7200]], 7200, now=now
    )
    db.session.commit()
    assert not state.complete
    assert state.watched_seconds == 40
    assert _record(session, learner) is None


def test_video_credit_needs_ninety_percent_actually_watched(recorded):  # type: ignore[no-untyped-def]
    _course, session, learner = recorded
    now = START + timedelta(days=1)
    state = None
    for second in range(0, 6480, 60):  # reports every minute of the ranges played so far
        now += timedelta(seconds=60)
        state = attendance.record_video_progress(
            learner, session, [[second, second + 60]], 7200, now=now
        )
    db.session.commit()
    assert state is not None and state.complete
    assert state.watched_seconds == 6480  # exactly 90 %
    record = _record(session, learner)
    assert record.video_complete
    assert record.status == AttendanceStatus.PRESENT
    assert record.method == AttendanceMethod.VIDEO
    assert record.credited_hours == 2.67


def test_watched_time_cannot_grow_faster_than_playback(recorded):  # type: ignore[no-untyped-def]
    _course, session, learner = recorded
    now = START + timedelta(days=1)
    attendance.record_video_progress(learner, session, [[0, 30]], 7200, now=now)
    with pytest.raises(ValidationFailed) as refused:
        attendance.record_video_progress(
            learner, session, [[0, 7200]], 7200, now=now + timedelta(seconds=30)
        )
    assert refused.value.code == "implausible_progress"
    # Nor by waiting between two reports: 27 minutes allow 2 × 27 min + 1 min, not 1 h.
    with pytest.raises(ValidationFailed) as refused:
        attendance.record_video_progress(
            learner, session, [[0, 3600]], 7200, now=now + timedelta(minutes=27)
        )
    assert refused.value.code == "implausible_progress"


def test_a_video_too_short_for_its_class_hours_earns_nothing(recorded):  # type: ignore[no-untyped-def]
    _course, session, learner = recorded  # 2.67 class hours: at least an hour of video
    with pytest.raises(ValidationFailed) as refused:
        attendance.record_video_progress(
            learner, session, [[0, 10]], 10, now=START + timedelta(days=1)
        )
    assert refused.value.code == "implausible_duration"
    assert _record(session, learner) is None


def test_bad_ranges_are_refused(recorded):  # type: ignore[no-untyped-def]
    _course, session, learner = recorded
    for ranges, duration in (([[10, 5]], 100), ([["a", 3]], 100), ([[0, 5]], 0), ("x", 100)):
        with pytest.raises(ValidationFailed) as refused:
            attendance.record_video_progress(
                learner, session, ranges, duration, now=START + timedelta(days=1)
            )
        assert refused.value.code == "invalid_ranges"
