"""Attendance pages: the QR landing page with log-in and straight back, the fallback code,
the trainer's check-in screen, roll-call, and the learner's session page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.models import AttendanceMethod, AttendanceRecord, AttendanceStatus, SessionMode
from courses.services.attendance import checkin, settle_finished_courses
from tests.factories import (
    DEFAULT_PASSWORD,
    make_course,
    make_enrolment,
    make_session,
    make_trainer,
    make_user,
)


def _now() -> datetime:
    return datetime.now(UTC)


def _records() -> list[AttendanceRecord]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AttendanceRecord).order_by(AttendanceRecord.user_id)))


@pytest.fixture
def room(app_ctx):  # type: ignore[no-untyped-def]
    trainer = make_trainer()
    course = make_course(trainers=[trainer])
    session = make_session(course, starts_at=_now().replace(microsecond=0) + timedelta(minutes=5))
    learner = make_user()
    make_enrolment(course, learner)
    checkin.open_checkin(trainer, session)
    db.session.commit()
    return trainer, course, session, learner


def test_scanning_the_qr_code_logs_in_and_comes_straight_back(client, login_as, room):  # type: ignore[no-untyped-def]
    _trainer, _course, session, learner = room
    token = checkin.token_for(session, checkin.step_of(_now()))
    landed = client.get(f"/checkin/{session.id}?t={token}")
    assert landed.status_code == 302
    assert "/login" in landed.headers["Location"]
    from urllib.parse import unquote

    assert f"next=/checkin/{session.id}" in unquote(landed.headers["Location"])
    logged_in = client.post(
        landed.headers["Location"],
        data={"login": learner.email or learner.phone, "password": DEFAULT_PASSWORD},
    )
    assert logged_in.status_code == 302
    assert logged_in.headers["Location"].endswith(f"/checkin/{session.id}")
    page = client.get(logged_in.headers["Location"])
    assert page.status_code == 200
    assert "已扫描二维码，点击完成签到。" in page.get_data(as_text=True)
    done = client.post(f"/checkin/{session.id}", data={"action": "checkin"})
    assert done.status_code == 302
    (record,) = _records()
    assert record.user_id == learner.id and record.method == AttendanceMethod.QR
    assert record.status == AttendanceStatus.PRESENT


def test_a_check_in_before_the_start_shows_no_credit_in_advance(client, login_as, room):  # type: ignore[no-untyped-def]
    _trainer, _course, session, learner = room
    login_as(learner)
    done = client.post(
        f"/checkin/{session.id}", data={"action": "checkin", "code": session.checkin_code}
    )
    assert done.status_code == 302
    (record,) = _records()
    assert (record.status, record.minutes, record.credited_hours) == (
        AttendanceStatus.PRESENT,
        0,
        0.0,
    )
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "0 分钟" in page and "课次尚未结束，课时将在课次结束时结算。" in page
    assert "120 分钟" not in page
    landing = client.get(f"/checkin/{session.id}").get_data(as_text=True)
    assert "计至课次结束" in landing


def test_without_a_scan_the_code_is_needed(client, login_as, room):  # type: ignore[no-untyped-def]
    _trainer, _course, session, learner = room
    login_as(learner)
    wrong = f"{(int(session.checkin_code) + 1) % 1_000_000:06d}"
    refused = client.post(f"/checkin/{session.id}", data={"action": "checkin"})
    assert refused.status_code == 422
    refused = client.post(f"/checkin/{session.id}", data={"action": "checkin", "code": wrong})
    assert refused.status_code == 422
    assert _records() == []
    done = client.post(
        f"/checkin/{session.id}", data={"action": "checkin", "code": session.checkin_code}
    )
    assert done.status_code == 302
    assert _records()[0].method == AttendanceMethod.CODE
    out = client.post(
        f"/checkin/{session.id}", data={"action": "checkout", "code": session.checkin_code}
    )
    assert out.status_code == 302
    assert _records()[0].checked_out_at is not None


def test_an_old_photo_of_the_qr_code_does_not_count(client, login_as, room):  # type: ignore[no-untyped-def]
    _trainer, _course, session, learner = room
    login_as(learner)
    old = checkin.token_for(session, checkin.step_of(_now()) - 3)
    page = client.get(f"/checkin/{session.id}?t={old}")
    assert page.status_code == 200
    assert client.post(f"/checkin/{session.id}", data={"action": "checkin"}).status_code == 422
    assert _records() == []


def test_a_learner_not_enrolled_gets_a_clear_message(client, login_as, room):  # type: ignore[no-untyped-def]
    _trainer, _course, session, _learner = room
    login_as(make_user())
    refused = client.post(
        f"/checkin/{session.id}", data={"action": "checkin", "code": session.checkin_code}
    )
    assert refused.status_code == 403
    assert _records() == []


def test_the_check_in_screen_shows_a_qr_code_that_refreshes(client, login_as, room):  # type: ignore[no-untyped-def]
    trainer, _course, session, learner = room
    login_as(trainer)
    screen = client.get(f"/manage/sessions/{session.id}/checkin")
    assert screen.status_code == 200
    html = screen.get_data(as_text=True)
    assert "<svg" in html and session.checkin_code in html
    polled = client.get(f"/manage/sessions/{session.id}/checkin/token.json").get_json()
    assert polled["svg"].startswith("<svg") and polled["code"] == session.checkin_code
    assert checkin.token_is_valid(session, polled["token"], _now())
    assert polled["checked_in"] == 0
    client.post("/logout")
    login_as(learner)
    assert client.get(f"/manage/sessions/{session.id}/checkin").status_code == 403
    assert client.get(f"/manage/sessions/{session.id}/checkin/token.json").status_code == 403


def test_opening_check_in_from_the_roll_call_page(client, login_as, app_ctx):  # type: ignore[no-untyped-def]
    trainer = make_trainer()
    course = make_course(trainers=[trainer])
    session = make_session(course, starts_at=_now() + timedelta(hours=1))
    login_as(trainer)
    opened = client.post(f"/manage/sessions/{session.id}/checkin/open", data={})
    assert opened.status_code == 302 and opened.headers["Location"].endswith(
        f"/manage/sessions/{session.id}/checkin"
    )
    db.session.expire_all()
    assert len(db.session.get(type(session), session.id).checkin_code) == 6


def test_roll_call_saves_only_what_changed(client, login_as, room, count_queries):  # type: ignore[no-untyped-def]
    trainer, course, session, learner = room
    others = [make_user() for _ in range(3)]
    for other in others:
        make_enrolment(course, other)
    checkin.check(learner, session, code=session.checkin_code)
    db.session.commit()
    login_as(trainer)
    page = client.get(f"/manage/sessions/{session.id}/attendance")
    assert page.status_code == 200
    for user in [learner, *others]:
        assert user.name in page.get_data(as_text=True)
    form = {
        f"status-{learner.id}": "present",  # unchanged: stays as measured
        f"status-{others[0].id}": "late",
        f"minutes-{others[0].id}": "90",
        f"status-{others[1].id}": "excused",
        "rest": "present",  # others[2] was not marked
    }
    saved = client.post(f"/manage/sessions/{session.id}/attendance", data=form)
    assert saved.status_code == 302
    # The session starts in five minutes: nothing is credited yet.
    assert {r.minutes for r in _records()} == {0}
    settle_finished_courses(now=session.ends_at)
    db.session.commit()
    got = {r.user_id: (r.status, r.minutes, r.manual) for r in _records()}
    assert got == {
        learner.id: (AttendanceStatus.PRESENT, 120, False),
        others[0].id: (AttendanceStatus.LATE, 90, True),
        others[1].id: (AttendanceStatus.EXCUSED, 0, True),
        others[2].id: (AttendanceStatus.PRESENT, 120, True),
    }
    with count_queries() as few:
        client.get(f"/manage/sessions/{session.id}/attendance")
    for _ in range(10):
        make_enrolment(course, make_user())
    with count_queries() as many:
        client.get(f"/manage/sessions/{session.id}/attendance")

    def selects(statements):  # type: ignore[no-untyped-def]
        return [s for s in statements if s.lstrip().upper().startswith("SELECT")]

    assert len(selects(many)) == len(selects(few))


def test_the_session_page_joins_the_meeting_and_counts_heartbeats(client, login_as, app_ctx):  # type: ignore[no-untyped-def]
    course = make_course(mode="online")
    session = make_session(
        course,
        starts_at=_now() - timedelta(minutes=10),
        mode=SessionMode.ONLINE,
        meeting_url="https://meeting.tencent.com/dm/5",
    )
    learner = make_user()
    make_enrolment(course, learner)
    login_as(learner)
    page = client.get(f"/sessions/{session.id}")
    assert page.status_code == 200
    assert f"/sessions/{session.id}/join" in page.get_data(as_text=True)
    joined = client.post(f"/sessions/{session.id}/join")
    assert (
        joined.status_code == 302
        and joined.headers["Location"] == "https://meeting.tencent.com/dm/5"
    )
    beat = client.post(
        f"/sessions/{session.id}/heartbeat", json={}, headers={"Accept": "application/json"}
    )
    assert beat.status_code == 200 and beat.get_json()["online_minutes"] >= 1
    (record,) = _records()
    assert record.method == AttendanceMethod.ONLINE_JOIN and record.online_minutes >= 1


def test_the_session_page_reports_video_ranges(client, login_as, app_ctx):  # type: ignore[no-untyped-def]
    course = make_course(mode="online")
    session = make_session(
        course,
        starts_at=_now() - timedelta(days=2),
        mode=SessionMode.RECORDED,
        video_url="https://video.example.org/3.mp4",
    )
    learner = make_user()
    make_enrolment(course, learner)
    login_as(learner)
    page = client.get(f"/sessions/{session.id}")
    assert "<video" in page.get_data(as_text=True)
    reply = client.post(
        f"/sessions/{session.id}/video-progress", json={"ranges": [[0, 50]], "duration": 7200}
    )
    assert reply.status_code == 200
    assert reply.get_json()["watched_seconds"] == 50
    refused = client.post(
        f"/sessions/{session.id}/video-progress", json={"ranges": "x", "duration": 7200}
    )
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "invalid_ranges"


# ---- bad input gets a clear answer, never a 500 ------------------------------------------------


def test_odd_tokens_and_codes_are_refused_clearly(client, login_as, room):  # type: ignore[no-untyped-def]
    _trainer, _course, session, learner = room
    assert client.get(f"/checkin/{session.id}?t=%C3%A9").status_code == 302  # to log in
    login_as(learner)
    shown = client.get(f"/checkin/{session.id}?t=OLDPHOTO")
    assert shown.status_code == 200
    assert "该二维码已过期或不属于本课次" in shown.get_data(as_text=True)
    assert client.post(f"/checkin/{session.id}", data={"code": "一二三四五六"}).status_code == 422
    assert client.get("/checkin/100000000000000000000").status_code == 404
    assert _records() == []
    # Full-width digits, as Chinese phone keyboards type them, are the code.
    wide = "".join(chr(ord("０") + int(d)) for d in session.checkin_code)
    assert client.post(f"/checkin/{session.id}", data={"code": wide}).status_code == 302
    assert _records()[0].method == AttendanceMethod.CODE


def test_a_learner_marked_absent_who_then_checks_in_is_late(client, login_as, room):  # type: ignore[no-untyped-def]
    from courses.models import AuditLogEntry
    from courses.services import attendance

    trainer, _course, session, learner = room
    attendance.mark(trainer, session, [{"user_id": learner.id, "status": "absent"}])
    db.session.commit()
    late = session.starts_at + timedelta(minutes=15)
    checkin.check(learner, session, code=session.checkin_code, now=late)
    db.session.commit()
    (record,) = _records()
    assert (record.status, record.manual) == (AttendanceStatus.LATE, False)
    assert record.minutes == 0  # arrived just now
    settle_finished_courses(now=session.ends_at)
    db.session.commit()
    (record,) = _records()
    assert record.minutes == 105
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditLogEntry)
            .where(AuditLogEntry.action == "attendance.checked_in_after_mark")
        )
        == 1
    )


def test_a_json_array_is_not_a_progress_report(client, login_as, app_ctx):  # type: ignore[no-untyped-def]
    course = make_course(mode="online")
    session = make_session(
        course,
        starts_at=_now() - timedelta(days=2),
        mode=SessionMode.RECORDED,
        video_url="https://video.example.org/4.mp4",
    )
    learner = make_user()
    make_enrolment(course, learner)
    login_as(learner)
    refused = client.post(f"/sessions/{session.id}/video-progress", json=[1, 2])
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "invalid_ranges"


def test_a_draft_courses_session_page_is_hidden_from_learners(client, login_as, app_ctx):  # type: ignore[no-untyped-def]
    from courses.models import PublicationStatus

    trainer = make_trainer()
    course = make_course(trainers=[trainer], status=PublicationStatus.DRAFT)
    session = make_session(course, starts_at=_now() + timedelta(days=3))
    login_as(make_user())
    assert client.get(f"/sessions/{session.id}").status_code == 404
    client.post("/logout")
    login_as(trainer)
    assert client.get(f"/sessions/{session.id}").status_code == 200
