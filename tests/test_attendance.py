"""Attendance rules (courses.services.attendance and courses.services.checkin): rotating
tokens, the check-in window, late and partial, heartbeats, video ranges, roll-call,
credit and completion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.errors import PermissionDenied, ValidationFailed
from courses.models import (
    AttendanceHeartbeat,
    AttendanceMethod,
    AttendanceRecord,
    AttendanceStatus,
    AuditLogEntry,
    Certificate,
    CertificateKind,
    Enrolment,
    EnrolmentStatus,
    OutboxEvent,
    SessionMode,
)
from courses.services import attendance, checkin
from tests.factories import make_course, make_enrolment, make_session, make_trainer, make_user

START = datetime(2030, 3, 4, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai; 2 h = 120 min
END = START + timedelta(hours=2)
#: A course held in the past (so that edits made now find it over), a week apart.
PAST = datetime(2025, 3, 3, 1, 30, tzinfo=UTC)
OVER = PAST + timedelta(weeks=1, hours=2, minutes=1)  # its second session has ended


@pytest.fixture
def setup(app_ctx):  # type: ignore[no-untyped-def]
    trainer = make_trainer()
    course = make_course(trainers=[trainer], sessions=1, first_session_at=START)
    session = course.sessions[0]
    learner = make_user()
    enrolment = make_enrolment(course, learner)
    checkin.open_checkin(trainer, session, now=START - timedelta(hours=1))
    db.session.commit()
    return trainer, course, session, learner, enrolment


def _record(session, user):  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.scalars(
        sa.select(AttendanceRecord).where(
            AttendanceRecord.session_id == session.id, AttendanceRecord.user_id == user.id
        )
    ).one_or_none()


def _records() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceRecord)) or 0


def _settle(now):  # type: ignore[no-untyped-def]
    """What the periodic job does once sessions have ended."""
    settled = attendance.settle_finished_courses(now=now)
    db.session.commit()
    return settled


# ---- tokens -----------------------------------------------------------------------------------


def test_the_current_and_previous_token_are_accepted_nothing_older(setup):  # type: ignore[no-untyped-def]
    trainer, _course, session, _learner, _enrolment = setup
    shown = checkin.current_token(trainer, session, now=START).token
    assert checkin.token_is_valid(session, shown, START)
    assert checkin.token_is_valid(session, shown.lower(), START + timedelta(seconds=29))
    assert checkin.token_is_valid(session, shown, START + timedelta(seconds=30 + 29))
    assert not checkin.token_is_valid(session, shown, START + timedelta(seconds=60))
    assert not checkin.token_is_valid(session, shown, START - timedelta(seconds=30))


def test_tokens_rotate_every_step_and_differ_between_sessions(setup):  # type: ignore[no-untyped-def]
    trainer, course, session, _learner, _enrolment = setup
    other = make_session(course, starts_at=START + timedelta(days=7))
    checkin.open_checkin(trainer, other, now=START)
    first = checkin.current_token(trainer, session, now=START).token
    second = checkin.current_token(trainer, session, now=START + timedelta(seconds=30)).token
    assert first != second
    assert not checkin.token_is_valid(other, first, START)


def test_only_the_courses_trainers_see_the_token(setup):  # type: ignore[no-untyped-def]
    _trainer, _course, session, learner, _enrolment = setup
    with pytest.raises(PermissionDenied):
        checkin.current_token(learner, session, now=START)
    with pytest.raises(PermissionDenied):
        checkin.current_token(make_trainer(), session, now=START)


# ---- check-in ---------------------------------------------------------------------------------


def _token(session, now):  # type: ignore[no-untyped-def]
    return checkin.token_for(session, checkin.step_of(now))


def test_check_in_on_time_then_twice_is_harmless(setup):  # type: ignore[no-untyped-def]
    _trainer, _course, session, learner, _enrolment = setup
    now = START - timedelta(minutes=5)
    result = checkin.check(learner, session, token=_token(session, now), now=now)
    db.session.commit()
    assert not result.already
    later = now + timedelta(minutes=3)
    again = checkin.check(learner, session, token=_token(session, later), now=later)
    db.session.commit()
    assert again.already
    record = _record(session, learner)
    assert record.checked_in_at == now
    assert record.status == AttendanceStatus.PRESENT
    assert record.method == AttendanceMethod.QR
    assert _records() == 1
    # Nothing is credited in advance: the session has not begun.
    assert (record.minutes, record.credited_hours) == (0, 0.0)
    # Once it has ended, the learner who never checked out is credited to the end.
    assert _settle(END + timedelta(minutes=1)).sessions == 1
    record = _record(session, learner)
    assert record.minutes == 120
    assert record.credited_hours == 2.67  # 120 / 45, capped at the session's 2.67
    assert _settle(END + timedelta(minutes=2)).sessions == 0  # settled once


def test_check_in_credit_grows_only_with_the_time_that_has_passed(setup):  # type: ignore[no-untyped-def]
    _trainer, _course, session, learner, enrolment = setup
    arrived = START - timedelta(minutes=5)
    checkin.check(learner, session, code=session.checkin_code, now=arrived)
    db.session.commit()
    assert _record(session, learner).credited_hours == 0.0
    # Checking out 45 minutes into the session credits those 45 minutes, no more.
    left = START + timedelta(minutes=45)
    checkin.check(learner, session, code=session.checkin_code, action="checkout", now=left)
    db.session.commit()
    record = _record(session, learner)
    assert (record.status, record.minutes, record.credited_hours) == (
        AttendanceStatus.PARTIAL,
        45,
        1.0,
    )
    assert _enrolment(enrolment.id).status == EnrolmentStatus.ENROLLED


def test_expired_replayed_and_foreign_tokens_are_refused_without_a_record(setup):  # type: ignore[no-untyped-def]
    trainer, course, session, learner, _enrolment = setup
    photo = _token(session, START - timedelta(minutes=10))
    with pytest.raises(ValidationFailed) as refused:
        checkin.check(learner, session, token=photo, now=START - timedelta(minutes=9))
    assert refused.value.code == "invalid_token"
    other = make_session(course, starts_at=START + timedelta(days=7))
    checkin.open_checkin(trainer, other, now=START)
    with pytest.raises(ValidationFailed) as refused:
        checkin.check(learner, session, token=_token(other, START), now=START)
    assert refused.value.code == "invalid_token"
    db.session.rollback()
    assert _records() == 0


def test_a_learner_not_enrolled_is_refused(setup):  # type: ignore[no-untyped-def]
    _trainer, course, session, _learner, _enrolment = setup
    stranger = make_user()
    waiting = make_user()
    make_enrolment(course, waiting, EnrolmentStatus.WAITLISTED, waitlist_position=1)
    for user in (stranger, waiting):
        with pytest.raises(PermissionDenied) as refused:
            checkin.check(user, session, token=_token(session, START), now=START)
        assert refused.value.code == "not_enrolled"
    db.session.rollback()
    assert _records() == 0


def test_before_the_window_the_message_says_when_it_opens(setup):  # type: ignore[no-untyped-def]
    _trainer, _course, session, learner, _enrolment = setup
    now = START - timedelta(minutes=45)
    with pytest.raises(ValidationFailed) as refused:
        checkin.check(learner, session, token=_token(session, now), now=now)
    assert refused.value.code == "checkin_not_open"
    assert "09:00" in str(refused.value.message)  # 30 min before 09:30 Shanghai time
    after = START + timedelta(minutes=31)
    with pytest.raises(ValidationFailed) as refused:
        checkin.check(learner, session, token=_token(session, after), now=after)
    assert refused.value.code == "checkin_closed"


def test_check_in_needs_the_trainer_to_open_it(app_ctx):  # type: ignore[no-untyped-def]
    course = make_course(sessions=1, first_session_at=START)
    learner = make_user()
    make_enrolment(course, learner)
    with pytest.raises(ValidationFailed) as refused:
        checkin.check(learner, course.sessions[0], code="123456", now=START)
    assert refused.value.code == "checkin_not_open"


def test_the_fallback_code_works_and_a_wrong_one_is_refused(setup):  # type: ignore[no-untyped-def]
    _trainer, _course, session, learner, _enrolment = setup
    assert session.checkin_code is not None and len(session.checkin_code) == 6
    wrong = f"{(int(session.checkin_code) + 1) % 1_000_000:06d}"
    with pytest.raises(ValidationFailed) as refused:
        checkin.check(learner, session, code=wrong, now=START)
    assert refused.value.code == "invalid_code"
    checkin.check(learner, session, code=session.checkin_code, now=START)
    db.session.commit()
    assert _record(session, learner).method == AttendanceMethod.CODE


def test_reopening_replaces_the_code(setup):  # type: ignore[no-untyped-def]
    trainer, _course, session, learner, _enrolment = setup
    old = session.checkin_code
    checkin.open_checkin(trainer, session, now=START)
    while session.checkin_code == old:  # one chance in a million
        checkin.open_checkin(trainer, session, now=START)
    with pytest.raises(ValidationFailed):
        checkin.check(learner, session, code=old, now=START)


@pytest.mark.parametrize(
    ("arrival", "status", "minutes"),
    [
        (timedelta(minutes=10), AttendanceStatus.PRESENT, 120),  # at the end of the grace
        (timedelta(minutes=10, seconds=1), AttendanceStatus.LATE, 109),  # just after it
        (timedelta(minutes=30), AttendanceStatus.LATE, 90),
    ],
)
def test_late_marking_at_the_boundary(setup, arrival, status, minutes):  # type: ignore[no-untyped-def]
    _trainer, _course, session, learner, _enrolment = setup
    now = START + arrival
    checkin.check(learner, session, token=_token(session, now), now=now)
    db.session.commit()
    # Only the minutes that have passed count (an on-time arrival counts from the start).
    assert _record(session, learner).minutes == (10 if status == AttendanceStatus.PRESENT else 0)
    _settle(END)
    record = _record(session, learner)
    assert (record.status, record.minutes) == (status, minutes)


def test_late_arrival_and_early_leave_credit_proportionally_fewer_minutes(setup):  # type: ignore[no-untyped-def]
    _trainer, _course, session, learner, _enrolment = setup
    arrived = START + timedelta(minutes=20)
    checkin.check(learner, session, token=_token(session, arrived), now=arrived)
    left = END - timedelta(minutes=40)
    checkin.check(learner, session, token=_token(session, left), action=checkin.CHECK_OUT, now=left)
    db.session.commit()
    record = _record(session, learner)
    assert record.checked_out_at == left
    assert record.status == AttendanceStatus.PARTIAL
    assert record.minutes == 60
    assert record.credited_hours == 1.33  # 60 / 45 rounded half up


def test_check_out_needs_a_check_in_and_twice_keeps_the_first(setup):  # type: ignore[no-untyped-def]
    _trainer, _course, session, learner, _enrolment = setup
    with pytest.raises(ValidationFailed) as refused:
        checkin.check(learner, session, code=session.checkin_code, action="checkout", now=START)
    assert refused.value.code == "not_checked_in"
    checkin.check(learner, session, code=session.checkin_code, now=START)
    checkin.check(learner, session, code=session.checkin_code, action="checkout", now=END)
    again = checkin.check(
        learner,
        session,
        code=session.checkin_code,
        action="checkout",
        now=END + timedelta(minutes=5),
    )
    assert again.already
    db.session.commit()
    assert _record(session, learner).checked_out_at == END


def test_a_presence_pass_lets_a_learner_finish_logging_in(setup):  # type: ignore[no-untyped-def]
    _trainer, _course, session, learner, _enrolment = setup
    seen = START - timedelta(minutes=2)
    checkin.check(learner, session, presence_seen_at=seen, now=seen + timedelta(minutes=1))
    db.session.commit()
    assert _record(session, learner).checked_in_at is not None
    other = make_user()
    make_enrolment(session.course, other)
    with pytest.raises(ValidationFailed):
        checkin.check(other, session, presence_seen_at=seen, now=seen + timedelta(minutes=3))


def test_online_sessions_have_no_on_site_check_in(app_ctx):  # type: ignore[no-untyped-def]
    trainer = make_trainer()
    course = make_course(trainers=[trainer])
    session = make_session(
        course,
        starts_at=START,
        mode=SessionMode.ONLINE,
        meeting_url="https://meeting.tencent.com/dm/1",
    )
    with pytest.raises(ValidationFailed) as refused:
        checkin.open_checkin(trainer, session, now=START)
    assert refused.value.code == "not_onsite"


# ---- online presence ----------------------------------------------------------------------------


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


# ---- video -------------------------------------------------------------------------------------


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


# ---- roll-call and completion -----------------------------------------------------------------


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


def _two_session_course(trainer, threshold=0.8, start=PAST):  # type: ignore[no-untyped-def]
    course = make_course(
        trainers=[trainer], sessions=2, first_session_at=start, completion_threshold=threshold
    )
    learner = make_user()
    enrolment = make_enrolment(course, learner)
    return course, learner, enrolment


def _enrolment(enrolment_id):  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.get(Enrolment, enrolment_id)


def _events(topic):  # type: ignore[no-untyped-def]
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(OutboxEvent).where(OutboxEvent.topic == topic)
    )


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


def test_completion_stands_once_a_certificate_exists(app_ctx):  # type: ignore[no-untyped-def]
    trainer = make_trainer()
    course, learner, enrolment = _two_session_course(trainer)
    for session in course.sessions:
        attendance.mark(trainer, session, [{"user_id": learner.id, "status": "present"}], now=OVER)
    db.session.add(
        Certificate(
            serial="SWA-2030-000001",
            kind=CertificateKind.COURSE,
            user_id=learner.id,
            enrolment_id=enrolment.id,
            course_id=course.id,
            holder_name=learner.name,
            title=course.title,
            class_hours=5.34,
        )
    )
    db.session.commit()
    attendance.mark(
        trainer, course.sessions[1], [{"user_id": learner.id, "status": "absent"}], now=OVER
    )
    db.session.commit()
    assert _enrolment(enrolment.id).status == EnrolmentStatus.COMPLETED


def test_after_the_last_session_an_enrolment_short_of_the_threshold_is_incomplete(app_ctx):  # type: ignore[no-untyped-def]
    trainer = make_trainer()
    course, learner, enrolment = _two_session_course(trainer)
    keen = make_user()
    keen_enrolment = make_enrolment(course, keen)
    between = PAST + timedelta(days=1)  # the first session is over, the second to come
    for session in course.sessions:
        attendance.mark(trainer, session, [{"user_id": keen.id, "status": "present"}], now=between)
    attendance.mark(
        trainer, course.sessions[0], [{"user_id": learner.id, "status": "present"}], now=between
    )
    db.session.commit()
    assert _enrolment(keen_enrolment.id).status == EnrolmentStatus.ENROLLED
    last_end = course.sessions[1].ends_at
    assert _settle(last_end - timedelta(minutes=1)) == attendance.Settlement(1, 0)
    assert _enrolment(enrolment.id).status == EnrolmentStatus.ENROLLED
    assert _settle(last_end + timedelta(minutes=1)) == attendance.Settlement(1, 0)
    assert _enrolment(enrolment.id).status == EnrolmentStatus.INCOMPLETE
    assert _enrolment(keen_enrolment.id).status == EnrolmentStatus.COMPLETED
    assert _settle(last_end + timedelta(minutes=2)) == attendance.Settlement(0, 0)
    # A later correction can still complete it.
    attendance.mark(
        trainer,
        course.sessions[1],
        [{"user_id": learner.id, "status": "present"}],
        now=last_end + timedelta(days=1),
    )
    db.session.commit()
    assert _enrolment(enrolment.id).status == EnrolmentStatus.COMPLETED


def test_a_finished_course_whose_sessions_were_settled_still_settles(app_ctx):  # type: ignore[no-untyped-def]
    trainer = make_trainer()
    course, _learner, enrolment = _two_session_course(trainer)
    for session in course.sessions:
        session.settled_at = session.ends_at
    db.session.commit()
    assert _settle(OVER) == attendance.Settlement(0, 1)
    assert _enrolment(enrolment.id).status == EnrolmentStatus.INCOMPLETE


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


def test_credited_hours_rounding(app_ctx):  # type: ignore[no-untyped-def]
    assert attendance.credited_hours(0, 2) == 0.0
    assert attendance.credited_hours(45, 2) == 1.0
    assert attendance.credited_hours(1, 2) == 0.02  # 0.0222… rounds to 0.02
    assert attendance.credited_hours(50, 3) == 1.11
    assert attendance.credited_hours(500, 3) == 3.0  # capped at the session's hours


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
