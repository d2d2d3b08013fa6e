"""Course management through the JSON API: the same service rules as the pages, answered
as 201/200, 403, 404 and 422 ``{"error": {"code", "message", "fields"}}`` (SPEC §5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.models import AuditLogEntry, Course, CourseSession, PublicationStatus
from tests.factories import (
    bearer,
    make_admin,
    make_course,
    make_enrolment,
    make_programme,
    make_session,
    make_token,
    make_trainer,
    make_user,
)


def course_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "社工考前培训",
        "summary": "社会工作师考试辅导",
        "topic": "考前培训",
        "level": "intermediate",
        "mode": "hybrid",
        "capacity": 50,
    }
    body.update(overrides)
    return body


def session_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "starts_at": "2030-05-06T23:30:00+08:00",
        "ends_at": "2030-05-07T01:00:00+08:00",
        "mode": "hybrid",
        "venue": "桂城街道社会工作服务中心",
        "room": "301",
        "meeting_url": "https://meeting.tencent.com/dm/xyz",
        "meeting_number": "123 456 789",
    }
    body.update(overrides)
    return body


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code, error
    assert error["message"]
    if field is not None:
        assert field in error["fields"], error
        assert all(isinstance(m, str) and m for m in error["fields"][field])
    return error


@pytest.fixture
def trainer(app_ctx):  # type: ignore[no-untyped-def]
    return make_trainer(name="李讲师")


@pytest.fixture
def auth(trainer) -> dict[str, str]:
    return bearer(make_token(trainer))


@pytest.fixture
def draft(trainer) -> Course:
    return make_course("草稿课程", trainers=[trainer], status=PublicationStatus.DRAFT)


# --- permissions -----------------------------------------------------------------------------


def test_creating_needs_a_token_and_a_trainer_or_admin(client, app_ctx):
    assert_error(client.post("/api/v1/courses", json=course_body()), 401, "unauthorized")
    learner = bearer(make_token(make_user()))
    assert_error(
        client.post("/api/v1/courses", json=course_body(), headers=learner), 403, "forbidden"
    )
    assert count(Course) == 0


def test_a_trainer_creates_a_course_and_gets_the_full_course(client, trainer, auth):
    response = client.post("/api/v1/courses", json=course_body(), headers=auth)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["title"] == "社工考前培训"
    assert body["status"] == "draft"
    assert body["trainer_ids"] == [trainer.id]
    assert body["trainers"] == [{"id": trainer.id, "name": "李讲师"}]
    assert body["sessions"] == []
    assert body["class_hours"] == 0
    assert body["seats_left"] == 50
    assert body["completion_threshold"] == 0.8
    assert body["prerequisite_ids"] == []
    course = db.session.get(Course, body["id"])
    assert course is not None and course.created_by_id == trainer.id


def test_a_trainer_cannot_edit_another_trainers_course_but_an_admin_can(client, auth, app_ctx):
    other = make_course("别人的课程", trainers=[make_trainer()], sessions=1)
    session_id = other.sessions[0].id
    response = client.patch(f"/api/v1/courses/{other.id}", json={"title": "改"}, headers=auth)
    assert_error(response, 403, "forbidden")
    assert_error(
        client.post(f"/api/v1/courses/{other.id}/sessions", json=session_body(), headers=auth),
        403,
        "forbidden",
    )
    assert_error(
        client.patch(f"/api/v1/sessions/{session_id}", json={"title": "改"}, headers=auth),
        403,
        "forbidden",
    )
    assert_error(
        client.post(f"/api/v1/courses/{other.id}/clone", json={}, headers=auth), 403, "forbidden"
    )
    assert_error(client.delete(f"/api/v1/sessions/{session_id}", headers=auth), 403, "forbidden")
    db.session.expire_all()
    assert db.session.get(Course, other.id).title == "别人的课程"
    assert count(Course) == 1 and count(CourseSession) == 1

    admin = bearer(make_token(make_admin()))
    response = client.patch(
        f"/api/v1/courses/{other.id}", json={"title": "管理员改名"}, headers=admin
    )
    assert response.status_code == 200
    assert response.get_json()["title"] == "管理员改名"


def test_unknown_ids_answer_404(client, auth):
    assert_error(
        client.patch("/api/v1/courses/999999", json={"title": "x"}, headers=auth), 404, "not_found"
    )
    assert_error(
        client.post("/api/v1/courses/999999/sessions", json=session_body(), headers=auth),
        404,
        "not_found",
    )
    assert_error(client.patch("/api/v1/sessions/999999", json={}, headers=auth), 404, "not_found")
    assert_error(
        client.post("/api/v1/courses/999999/clone", json={}, headers=auth), 404, "not_found"
    )


# --- rules ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"capacity": 0}, "invalid_capacity", "capacity"),
        ({"capacity": -1}, "invalid_capacity", "capacity"),
        (
            {
                "enrol_opens_at": "2030-04-02T08:00:00+08:00",
                "enrol_closes_at": "2030-04-01T08:00:00+08:00",
            },
            "enrol_window_order",
            "enrol_closes_at",
        ),
        ({"completion_threshold": 0}, "invalid_threshold", "completion_threshold"),
        ({"completion_threshold": 1.5}, "invalid_threshold", "completion_threshold"),
        ({"programme_id": 999999}, "invalid_programme", "programme_id"),
        ({"prerequisite_ids": [999999]}, "invalid_prerequisite", "prerequisite_ids"),
        ({"status": "published"}, "no_sessions", "status"),
    ],
)
def test_each_course_rule_answers_422_with_its_code_and_saves_nothing(
    client, auth, changes, code, field
):
    response = client.post("/api/v1/courses", json=course_body(**changes), headers=auth)
    assert_error(response, 422, code, field)
    assert count(Course) == 0
    assert count(AuditLogEntry) == 1  # only the trainer's own account


def test_a_learner_named_as_trainer_is_refused(client, app_ctx):
    learner = make_user()
    admin = bearer(make_token(make_admin()))
    response = client.post(
        "/api/v1/courses", json=course_body(trainer_ids=[learner.id]), headers=admin
    )
    assert_error(response, 422, "invalid_trainer", "trainer_ids")
    response = client.post("/api/v1/courses", json=course_body(trainer_ids=[999999]), headers=admin)
    assert_error(response, 422, "invalid_trainer", "trainer_ids")
    assert count(Course) == 0


def test_prerequisite_cycles_are_refused(client, trainer, auth, draft):
    base = make_course("基础", trainers=[trainer], status=PublicationStatus.DRAFT)
    response = client.patch(
        f"/api/v1/courses/{draft.id}", json={"prerequisite_ids": [draft.id]}, headers=auth
    )
    assert_error(response, 422, "prerequisite_cycle", "prerequisite_ids")
    assert (
        client.patch(
            f"/api/v1/courses/{base.id}", json={"prerequisite_ids": [draft.id]}, headers=auth
        ).status_code
        == 200
    )
    response = client.patch(
        f"/api/v1/courses/{draft.id}", json={"prerequisite_ids": [base.id]}, headers=auth
    )
    assert_error(response, 422, "prerequisite_cycle", "prerequisite_ids")
    db.session.expire_all()
    assert db.session.get(Course, draft.id).prerequisites == []


def test_capacity_below_the_enrolled_is_refused(client, auth, draft):
    make_enrolment(draft, make_user())
    make_enrolment(draft, make_user())
    response = client.patch(f"/api/v1/courses/{draft.id}", json={"capacity": 1}, headers=auth)
    assert_error(response, 422, "capacity_below_enrolled", "capacity")
    db.session.expire_all()
    assert db.session.get(Course, draft.id).capacity == 30


def test_publish_and_archive_through_status(client, auth, draft):
    response = client.patch(
        f"/api/v1/courses/{draft.id}", json={"status": "published"}, headers=auth
    )
    assert_error(response, 422, "no_sessions", "status")
    make_session(draft)
    response = client.patch(
        f"/api/v1/courses/{draft.id}", json={"status": "published"}, headers=auth
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "published"
    response = client.patch(
        f"/api/v1/courses/{draft.id}", json={"status": "archived"}, headers=auth
    )
    assert response.get_json()["status"] == "archived"


def test_a_patch_changes_only_what_is_sent(client, auth, draft):
    response = client.patch(
        f"/api/v1/courses/{draft.id}",
        json={"summary": "新的简介", "approval_required": True},
        headers=auth,
    )
    body = response.get_json()
    assert (body["title"], body["summary"], body["approval_required"], body["capacity"]) == (
        "草稿课程",
        "新的简介",
        True,
        30,
    )


# --- sessions ------------------------------------------------------------------------------------


def test_adding_a_session_stores_utc_and_answers_with_an_offset(client, auth, draft):
    response = client.post(
        f"/api/v1/courses/{draft.id}/sessions", json=session_body(), headers=auth
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["course_id"] == draft.id
    assert body["class_hours"] == 2.0  # 90 minutes / 45
    assert datetime.fromisoformat(body["starts_at"]) == datetime(2030, 5, 6, 15, 30, tzinfo=UTC)
    session = db.session.get(CourseSession, body["id"])
    assert session.starts_at == datetime(2030, 5, 6, 15, 30, tzinfo=UTC)

    course = client.patch(f"/api/v1/courses/{draft.id}", json={}, headers=auth).get_json()
    assert course["class_hours"] == 2.0
    assert [s["id"] for s in course["sessions"]] == [body["id"]]


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"ends_at": "2030-05-06T23:00:00+08:00"}, "ends_before_start", "ends_at"),
        ({"ends_at": "2030-05-06T23:30:00+08:00"}, "ends_before_start", "ends_at"),
        ({"class_hours": 0}, "invalid_hours", "class_hours"),
        ({"class_hours": -1.5}, "invalid_hours", "class_hours"),
        ({"capacity": 0}, "invalid_capacity", "capacity"),
        ({"meeting_url": "ftp://meeting.example.org"}, "invalid_url", "meeting_url"),
        ({"venue": None}, "missing_location", "venue"),
        ({"mode": "recorded"}, "missing_location", "video_url"),
    ],
)
def test_each_session_rule_answers_422_and_saves_nothing(client, auth, draft, changes, code, field):
    response = client.post(
        f"/api/v1/courses/{draft.id}/sessions", json=session_body(**changes), headers=auth
    )
    assert_error(response, 422, code, field)
    assert count(CourseSession) == 0


def test_overlapping_sessions_answer_422(client, auth, draft):
    assert (
        client.post(
            f"/api/v1/courses/{draft.id}/sessions", json=session_body(), headers=auth
        ).status_code
        == 201
    )
    response = client.post(
        f"/api/v1/courses/{draft.id}/sessions",
        json=session_body(
            starts_at="2030-05-07T00:00:00+08:00", ends_at="2030-05-07T02:00:00+08:00"
        ),
        headers=auth,
    )
    assert_error(response, 422, "sessions_overlap", "starts_at")
    assert count(CourseSession) == 1


def test_editing_a_session(client, auth, draft):
    session = make_session(draft)
    response = client.patch(
        f"/api/v1/sessions/{session.id}",
        json={"mode": "online", "meeting_url": "https://meeting.tencent.com/dm/1", "capacity": 20},
        headers=auth,
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["mode"], body["venue"], body["capacity"]) == ("online", None, 20)
    response = client.patch(f"/api/v1/sessions/{session.id}", json={"class_hours": 0}, headers=auth)
    assert_error(response, 422, "invalid_hours", "class_hours")
    db.session.expire_all()
    assert db.session.get(CourseSession, session.id).class_hours == pytest.approx(2.67)


def test_deleting_a_session(client, auth, draft):
    session = make_session(draft)
    assert client.delete(f"/api/v1/sessions/{session.id}", headers=auth).status_code == 204
    assert count(CourseSession) == 0


# --- cloning -------------------------------------------------------------------------------------


def test_cloning_through_the_api(client, trainer, auth):
    course = make_course("个案工作", trainers=[trainer], sessions=2)
    response = client.post(
        f"/api/v1/courses/{course.id}/clone",
        json={"first_session_at": "2031-03-03T09:30:00+08:00", "title": "个案工作（第二期）"},
        headers=auth,
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "draft"
    assert body["title"] == "个案工作（第二期）"
    assert body["trainer_ids"] == [trainer.id]
    starts = [datetime.fromisoformat(s["starts_at"]) for s in body["sessions"]]
    first = datetime(2031, 3, 3, 1, 30, tzinfo=UTC)
    assert starts == [first, first + timedelta(weeks=1)]
    copy = db.session.get(Course, body["id"])
    assert copy.cloned_from_id == course.id

    shifted = client.post(
        f"/api/v1/courses/{course.id}/clone", json={"shift_days": 7}, headers=auth
    )
    starts = [datetime.fromisoformat(s["starts_at"]) for s in shifted.get_json()["sessions"]]
    assert starts[0] == datetime(2030, 3, 11, 1, 30, tzinfo=UTC)


def test_the_routes_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "post" in paths["/api/v1/courses"]
    assert "patch" in paths["/api/v1/courses/{course_id}"]
    assert "post" in paths["/api/v1/courses/{course_id}/sessions"]
    assert "post" in paths["/api/v1/courses/{course_id}/clone"]
    assert "patch" in paths["/api/v1/sessions/{session_id}"]
    assert {"get", "post"} <= set(paths["/api/v1/programmes"])


def test_programme_ids_are_accepted(client, auth, trainer):
    programme = make_programme(created_by_id=trainer.id)
    response = client.post(
        "/api/v1/courses", json=course_body(programme_id=programme.id), headers=auth
    )
    assert response.status_code == 201
    assert response.get_json()["programme_id"] == programme.id


# --- the same rules as the pages (issue 12 item 4) -----------------------------------------


def trainer_ids_of(course: Course) -> set[int]:
    db.session.expire_all()
    return {t.id for t in db.session.get(Course, course.id).trainers}


def test_a_trainer_cannot_choose_trainers_but_an_admin_can(client, trainer, auth, draft):
    colleague, outsider = make_trainer(), make_trainer()
    draft.trainers = [trainer, colleague]
    db.session.commit()
    for wanted in ([outsider.id], [trainer.id, colleague.id, outsider.id], [trainer.id]):
        response = client.patch(
            f"/api/v1/courses/{draft.id}",
            json={"trainer_ids": wanted, "title": "不该保存"},
            headers=auth,
        )
        assert_error(response, 403, "trainer_choice_not_allowed")
        assert trainer_ids_of(draft) == {trainer.id, colleague.id}
        assert db.session.get(Course, draft.id).title == "草稿课程"
    created = client.post(
        "/api/v1/courses", json=course_body(trainer_ids=[outsider.id]), headers=auth
    )
    assert_error(created, 403, "trainer_choice_not_allowed")
    assert count(Course) == 1

    # What the API returned may be sent back unchanged.
    body = client.get(f"/api/v1/courses/{draft.id}", headers=auth).get_json()
    response = client.patch(
        f"/api/v1/courses/{draft.id}",
        json={"trainer_ids": body["trainer_ids"], "title": "新标题"},
        headers=auth,
    )
    assert response.status_code == 200, response.get_json()
    assert sorted(response.get_json()["trainer_ids"]) == sorted([trainer.id, colleague.id])

    admin = bearer(make_token(make_admin()))
    response = client.patch(
        f"/api/v1/courses/{draft.id}", json={"trainer_ids": [outsider.id]}, headers=admin
    )
    assert response.status_code == 200, response.get_json()
    assert trainer_ids_of(draft) == {outsider.id}


def test_programme_choices_are_the_pages_choices(client, trainer, auth, draft):
    mine = make_programme(created_by_id=trainer.id, status=PublicationStatus.DRAFT)
    archived = make_programme(created_by_id=trainer.id, status=PublicationStatus.ARCHIVED)
    theirs = make_programme(created_by_id=make_trainer().id)
    for programme in (archived, theirs):
        response = client.patch(
            f"/api/v1/courses/{draft.id}", json={"programme_id": programme.id}, headers=auth
        )
        assert_error(response, 422, "invalid_programme", "programme_id")
        created = client.post(
            "/api/v1/courses", json=course_body(programme_id=programme.id), headers=auth
        )
        assert_error(created, 422, "invalid_programme", "programme_id")
    admin = bearer(make_token(make_admin()))
    response = client.patch(
        f"/api/v1/courses/{draft.id}", json={"programme_id": archived.id}, headers=admin
    )
    assert_error(response, 422, "invalid_programme", "programme_id")
    assert db.session.get(Course, draft.id).programme_id is None
    assert count(Course) == 1
    response = client.patch(
        f"/api/v1/courses/{draft.id}", json={"programme_id": mine.id}, headers=auth
    )
    assert response.status_code == 200
    assert response.get_json()["programme_id"] == mine.id


def test_cloning_to_a_date_keeps_the_time_of_day_as_on_the_page(client, trainer, auth):
    course = make_course("个案工作", trainers=[trainer], sessions=2)  # Mondays 09:30 Shanghai
    response = client.post(
        f"/api/v1/courses/{course.id}/clone", json={"first_session_on": "2031-03-03"}, headers=auth
    )
    assert response.status_code == 201, response.get_json()
    starts = [datetime.fromisoformat(s["starts_at"]) for s in response.get_json()["sessions"]]
    first = datetime(2031, 3, 3, 1, 30, tzinfo=UTC)
    assert starts == [first, first + timedelta(weeks=1)]


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        (
            {"shift_days": 7, "first_session_at": "2031-03-03T09:30:00+08:00"},
            "conflicting_clone_dates",
            "first_session_at",
        ),
        (
            {"shift_days": 7, "first_session_on": "2031-03-03"},
            "conflicting_clone_dates",
            "first_session_on",
        ),
        ({"first_session_on": "9999-12-31"}, "date_out_of_range", "first_session_on"),
    ],
)
def test_clone_date_rules_refuse_and_copy_nothing(client, trainer, auth, body, code, field):
    course = make_course(trainers=[trainer], sessions=2)
    response = client.post(f"/api/v1/courses/{course.id}/clone", json=body, headers=auth)
    assert_error(response, 422, code, field)
    assert count(Course) == 1
    assert count(CourseSession) == 2


def test_a_date_for_a_course_without_sessions_is_refused(client, trainer, auth, draft):
    for body in ({"first_session_on": "2031-03-03"}, {"first_session_at": "2031-03-03T09:30:00Z"}):
        response = client.post(f"/api/v1/courses/{draft.id}/clone", json=body, headers=auth)
        assert_error(response, 422, "no_sessions")
    assert count(Course) == 1
    # Without a date it is copied as it is.
    response = client.post(f"/api/v1/courses/{draft.id}/clone", json={}, headers=auth)
    assert response.status_code == 201
    assert count(Course) == 2


def test_programme_clone_dates_follow_the_same_rules(client, trainer, auth):
    programme = make_programme(created_by_id=trainer.id)
    make_course(trainers=[trainer], sessions=2, programme_id=programme.id)
    url = f"/api/v1/programmes/{programme.id}/clone"
    response = client.post(
        url, json={"shift_days": 7, "first_session_on": "2031-03-03"}, headers=auth
    )
    assert_error(response, 422, "conflicting_clone_dates", "first_session_on")
    assert count(Course) == 1
    response = client.post(url, json={"first_session_on": "2031-03-03"}, headers=auth)
    assert response.status_code == 201, response.get_json()
    copy = db.session.scalar(sa.select(Course).where(Course.cloned_from_id.is_not(None)))
    assert sorted(s.starts_at for s in copy.sessions)[0] == datetime(2031, 3, 3, 1, 30, tzinfo=UTC)
