"""On-site check-in (courses.services.attendance.checkin): rotating tokens, the check-in window,
the fallback code, late and partial, check-out and the presence pass."""

from __future__ import annotations

from datetime import timedelta

import pytest

from courses.db import db
from courses.errors import PermissionDenied, ValidationFailed
from courses.models import (
    AttendanceMethod,
    AttendanceStatus,
    EnrolmentStatus,
    SessionMode,
)
from courses.services.attendance import checkin
from tests.attendance_helpers import (
    END,
    START,
    _enrolment,
    _record,
    _records,
    _settle,
    make_open_session,
)
from tests.factories import make_course, make_enrolment, make_session, make_trainer, make_user


@pytest.fixture
def setup(app_ctx):  # type: ignore[no-untyped-def]
    return make_open_session()


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
