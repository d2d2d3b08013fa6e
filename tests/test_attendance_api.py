"""Attendance API (SPEC §5): check-in windows and tokens, check-in, roll-call, online
presence and video progress, with the same rules and codes as the pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.models import AttendanceRecord, AuditLogEntry, SessionMode, User
from courses.services.attendance import settle_finished_courses
from tests.factories import (
    bearer,
    make_admin,
    make_course,
    make_enrolment,
    make_session,
    make_token,
    make_trainer,
    make_user,
)


def auth(user: User) -> dict[str, str]:
    return bearer(make_token(user))


def error_code(response, status: int) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]["code"]


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def onsite(app_ctx):  # type: ignore[no-untyped-def]
    """A session starting in 5 minutes, a trainer, an enrolled learner."""
    trainer = make_trainer()
    course = make_course(trainers=[trainer])
    start = _now().replace(microsecond=0) + timedelta(minutes=5)
    session = make_session(course, starts_at=start)
    learner = make_user()
    make_enrolment(course, learner)
    return trainer, course, session, learner


def _open(client, session, trainer, **body: Any):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/sessions/{session.id}/checkin-window", json=body, headers=auth(trainer)
    )


def test_a_trainer_opens_check_in_and_reads_the_rotating_token(client, onsite):  # type: ignore[no-untyped-def]
    trainer, _course, session, learner = onsite
    opened = _open(client, session, trainer)
    assert opened.status_code == 200, opened.get_data(as_text=True)
    window = opened.get_json()
    assert len(window["code"]) == 6 and window["code"].isdigit()
    opens = datetime.fromisoformat(window["opens_at"])
    assert opens == session.starts_at - timedelta(minutes=30)
    token = client.get(f"/api/v1/sessions/{session.id}/checkin-token", headers=auth(trainer))
    assert token.status_code == 200
    body = token.get_json()
    assert f"/checkin/{session.id}?t={body['token']}" in body["url"]
    assert datetime.fromisoformat(body["expires_at"]) > _now()
    assert (
        error_code(
            client.get(f"/api/v1/sessions/{session.id}/checkin-token", headers=auth(learner)), 403
        )
        == "forbidden"
    )
    assert error_code(_open(client, session, learner), 403) == "forbidden"


def test_a_learner_checks_in_with_the_token_then_again_harmlessly(client, onsite):  # type: ignore[no-untyped-def]
    trainer, _course, session, learner = onsite
    _open(client, session, trainer)
    token = client.get(
        f"/api/v1/sessions/{session.id}/checkin-token", headers=auth(trainer)
    ).get_json()["token"]
    headers = auth(learner)
    first = client.post(
        "/api/v1/checkin", json={"session_id": session.id, "token": token}, headers=headers
    )
    assert first.status_code == 201, first.get_data(as_text=True)
    body = first.get_json()
    assert body["status"] == "present" and body["method"] == "qr" and body["already"] is False
    assert body["checked_in_at"] is not None and body["user_id"] == learner.id
    second = client.post(
        "/api/v1/checkin", json={"session_id": session.id, "token": token}, headers=headers
    )
    assert second.status_code == 200
    assert second.get_json()["already"] is True
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceRecord)) == 1


def test_bad_tokens_codes_and_strangers_are_refused_without_a_record(client, onsite):  # type: ignore[no-untyped-def]
    trainer, course, session, learner = onsite
    assert (
        error_code(
            client.post(
                "/api/v1/checkin",
                json={"session_id": session.id, "code": "000000"},
                headers=auth(learner),
            ),
            422,
        )
        == "checkin_not_open"
    )
    code = _open(client, session, trainer).get_json()["code"]
    other = make_session(course, starts_at=session.starts_at + timedelta(days=7))
    _open(client, other, trainer)
    foreign = client.get(
        f"/api/v1/sessions/{other.id}/checkin-token", headers=auth(trainer)
    ).get_json()["token"]
    headers = auth(learner)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert (
        error_code(
            client.post(
                "/api/v1/checkin",
                json={"session_id": session.id, "token": foreign},
                headers=headers,
            ),
            422,
        )
        == "invalid_token"
    )
    assert (
        error_code(
            client.post(
                "/api/v1/checkin",
                json={"session_id": session.id, "token": "AAAAAAAAAAAAAAAA"},
                headers=headers,
            ),
            422,
        )
        == "invalid_token"
    )
    assert (
        error_code(
            client.post(
                "/api/v1/checkin", json={"session_id": session.id, "code": wrong}, headers=headers
            ),
            422,
        )
        == "invalid_code"
    )
    stranger = auth(make_user())
    assert (
        error_code(
            client.post(
                "/api/v1/checkin", json={"session_id": session.id, "code": code}, headers=stranger
            ),
            403,
        )
        == "not_enrolled"
    )
    assert (
        error_code(
            client.post(
                "/api/v1/checkin", json={"session_id": 999999, "code": code}, headers=headers
            ),
            404,
        )
        == "not_found"
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceRecord)) == 0


def test_refused_code_attempts_are_rate_limited_per_learner(app_ctx):  # type: ignore[no-untyped-def]
    from tests.conftest import make_app

    app = make_app(RATELIMIT_ENABLED=True, CHECKIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        trainer = make_trainer()
        course = make_course(trainers=[trainer])
        session = make_session(course, starts_at=_now() + timedelta(minutes=5))
        learner, other = make_user(), make_user()
        make_enrolment(course, learner)
        make_enrolment(course, other)
        client = app.test_client()
        code = _open(client, session, trainer).get_json()["code"]
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        headers = auth(learner)
        for _ in range(3):
            assert (
                client.post(
                    "/api/v1/checkin",
                    json={"session_id": session.id, "code": wrong},
                    headers=headers,
                ).status_code
                == 422
            )
        limited = client.post(
            "/api/v1/checkin", json={"session_id": session.id, "code": code}, headers=headers
        )
        assert limited.status_code == 429
        # Another learner is not affected.
        assert (
            client.post(
                "/api/v1/checkin",
                json={"session_id": session.id, "code": code},
                headers=auth(other),
            ).status_code
            == 201
        )


def test_check_out_through_the_api(client, onsite):  # type: ignore[no-untyped-def]
    trainer, _course, session, learner = onsite
    code = _open(client, session, trainer).get_json()["code"]
    headers = auth(learner)
    assert (
        error_code(
            client.post(
                "/api/v1/checkin",
                json={"session_id": session.id, "code": code, "action": "checkout"},
                headers=headers,
            ),
            422,
        )
        == "not_checked_in"
    )
    client.post("/api/v1/checkin", json={"session_id": session.id, "code": code}, headers=headers)
    out = client.post(
        "/api/v1/checkin",
        json={"session_id": session.id, "code": code, "action": "checkout"},
        headers=headers,
    )
    assert out.status_code == 201
    body = out.get_json()
    assert body["action"] == "checkout" and body["checked_out_at"] is not None
    assert body["status"] == "partial"  # left long before the end


def test_roll_call_is_all_or_nothing_and_audited(client, onsite):  # type: ignore[no-untyped-def]
    trainer, course, session, learner = onsite
    second = make_user()
    make_enrolment(course, second)
    url = f"/api/v1/sessions/{session.id}/attendance"
    bad = [
        {"user_id": learner.id, "status": "present"},
        {"user_id": make_user().id, "status": "present"},
    ]
    assert error_code(client.post(url, json=bad, headers=auth(trainer)), 422) == "not_enrolled"
    assert (
        error_code(
            client.post(
                url, json=[{"user_id": learner.id, "status": "asleep"}], headers=auth(trainer)
            ),
            422,
        )
        == "validation_error"
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceRecord)) == 0
    marks = [
        {"user_id": learner.id, "status": "present"},
        {"user_id": second.id, "status": "late", "minutes": 60},
    ]
    done = client.post(url, json=marks, headers=auth(trainer))
    assert done.status_code == 200, done.get_data(as_text=True)
    got = {
        row["user_id"]: (row["status"], row["minutes"], row["credited_hours"], row["method"])
        for row in done.get_json()
    }
    # The session starts in five minutes: the marks are kept, nothing is credited yet.
    assert got == {
        learner.id: ("present", 0, 0.0, "roll_call"),
        second.id: ("late", 0, 0.0, "roll_call"),
    }
    listed = client.get(url, headers=auth(trainer)).get_json()
    assert [row["user_id"] for row in listed] == sorted([learner.id, second.id])
    assert error_code(client.post(url, json=marks, headers=auth(learner)), 403) == "forbidden"
    assert (
        error_code(client.post(url, json=marks, headers=auth(make_trainer())), 403) == "forbidden"
    )
    assert (
        client.post(
            url, json=[{"user_id": learner.id, "status": "absent"}], headers=auth(make_admin())
        ).status_code
        == 200
    )
    actions = db.session.scalars(sa.select(AuditLogEntry.action).order_by(AuditLogEntry.id)).all()
    assert actions.count("attendance.marked") == 2 and actions.count("attendance.corrected") == 1
    undone = client.delete(f"{url}/{learner.id}", headers=auth(trainer))
    assert undone.status_code == 200
    assert undone.get_json()["manual"] is False and undone.get_json()["status"] == "absent"
    # Once the session has ended, the trainer's marks count in full.
    settle_finished_courses(now=session.ends_at)
    db.session.commit()
    rows = {row["user_id"]: row for row in client.get(url, headers=auth(trainer)).get_json()}
    assert (rows[second.id]["minutes"], rows[second.id]["credited_hours"]) == (60, 1.33)
    assert rows[learner.id]["credited_hours"] == 0.0


@pytest.fixture
def live(app_ctx):  # type: ignore[no-untyped-def]
    course = make_course(mode="online")
    start = _now() - timedelta(minutes=30)
    session = make_session(
        course,
        starts_at=start,
        mode=SessionMode.ONLINE,
        meeting_url="https://meeting.tencent.com/dm/9",
    )
    learner = make_user()
    make_enrolment(course, learner)
    return course, session, learner


def test_join_and_heartbeats_count_minutes_inside_the_session(client, live):  # type: ignore[no-untyped-def]
    course, session, learner = live
    headers = auth(learner)
    joined = client.post(f"/api/v1/sessions/{session.id}/join", headers=headers)
    assert joined.status_code == 200, joined.get_data(as_text=True)
    body = joined.get_json()
    assert body["meeting_url"] == "https://meeting.tencent.com/dm/9"
    assert body["counted"] is True and body["attendance"]["online_minutes"] == 1
    again = client.post(f"/api/v1/sessions/{session.id}/heartbeat", headers=headers).get_json()
    assert again["attendance"]["online_minutes"] == 1  # the same minute
    later = make_session(
        course,
        starts_at=_now() + timedelta(days=1),
        mode=SessionMode.ONLINE,
        meeting_url="https://meeting.tencent.com/dm/10",
    )
    early = client.post(f"/api/v1/sessions/{later.id}/heartbeat", headers=headers).get_json()
    assert early["counted"] is False and early["attendance"] is None
    assert (
        error_code(
            client.post(f"/api/v1/sessions/{session.id}/heartbeat", headers=auth(make_user())), 403
        )
        == "not_enrolled"
    )


def test_video_progress_through_the_api(client, app_ctx):  # type: ignore[no-untyped-def]
    course = make_course(mode="online")
    session = make_session(
        course,
        starts_at=_now() - timedelta(days=1),
        mode=SessionMode.RECORDED,
        video_url="https://video.example.org/2.mp4",
    )
    learner = make_user()
    make_enrolment(course, learner)
    url = f"/api/v1/sessions/{session.id}/video-progress"
    skipped = client.post(
        url, json={"ranges": [[0, 10], [7190, 7200]], "duration": 7200}, headers=auth(learner)
    )
    assert skipped.status_code == 200, skipped.get_data(as_text=True)
    assert skipped.get_json() == {
        "watched_seconds": 20,
        "duration_seconds": 7200,
        "share": 0.0028,
        "complete": False,
    }
    assert (
        error_code(
            client.post(url, json={"ranges": [[0, 7200]], "duration": 7200}, headers=auth(learner)),
            422,
        )
        == "implausible_progress"
    )
    assert (
        error_code(
            client.post(url, json={"ranges": [[5, 1]], "duration": 7200}, headers=auth(learner)),
            422,
        )
        == "invalid_ranges"
    )


def test_the_openapi_document_covers_the_attendance_routes(client, app_ctx):  # type: ignore[no-untyped-def]
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    # Each route with its methods, and whether the call takes a JSON body.
    expected = {
        "/api/v1/sessions/{session_id}/checkin-window": {"post": True, "delete": False},
        "/api/v1/sessions/{session_id}/checkin-token": {"get": False},
        "/api/v1/checkin": {"post": True},
        "/api/v1/sessions/{session_id}/attendance": {"get": False, "post": True},
        "/api/v1/sessions/{session_id}/heartbeat": {"post": False},
        "/api/v1/sessions/{session_id}/join": {"post": False},
        "/api/v1/sessions/{session_id}/video-progress": {"post": True},
    }
    for path, methods in expected.items():
        assert path in paths, path
        operations = {m: op for m, op in paths[path].items() if m != "parameters"}
        assert set(operations) == set(methods), path
        for method, takes_body in methods.items():
            operation = operations[method]
            # Who may not call it and what does not exist are documented, with the answer.
            assert {"200", "403", "404"} <= set(operation["responses"]), (path, method)
            assert ("requestBody" in operation) is takes_body, (path, method)
            if takes_body:
                assert "application/json" in operation["requestBody"]["content"], (path, method)
        if "{session_id}" in path:
            parameters = {p["name"]: p for p in paths[path]["parameters"]}
            assert parameters["session_id"]["in"] == "path"
            assert parameters["session_id"]["schema"]["type"] == "integer"


def test_absent_or_excused_earn_no_minutes_and_huge_ids_are_refused(client, onsite):  # type: ignore[no-untyped-def]
    trainer, _course, session, learner = onsite
    url = f"/api/v1/sessions/{session.id}/attendance"
    for status in ("absent", "excused"):
        marks = [{"user_id": learner.id, "status": status, "minutes": 120}]
        assert (
            error_code(client.post(url, json=marks, headers=auth(trainer)), 422) == "invalid_marks"
        )
    huge = 10**20
    assert (
        error_code(
            client.post(url, json=[{"user_id": huge, "status": "present"}], headers=auth(trainer)),
            422,
        )
        == "validation_error"
    )
    assert (
        error_code(
            client.post(
                "/api/v1/checkin",
                json={"session_id": huge, "code": "123456"},
                headers=auth(learner),
            ),
            422,
        )
        == "validation_error"
    )
    assert (
        client.get(f"/api/v1/sessions/{huge}/attendance", headers=auth(trainer)).status_code == 404
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceRecord)) == 0
