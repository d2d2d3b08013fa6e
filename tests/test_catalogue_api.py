"""GET /api/v1/courses and GET /api/v1/courses/{id}: shapes, filters, 404s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from courses.db import db
from courses.models import CourseLevel, CourseMode, PublicationStatus, SessionMode
from tests.factories import (
    bearer,
    make_admin,
    make_course,
    make_programme,
    make_session,
    make_token,
    make_trainer,
    make_user,
)
from tests.test_catalogue import SEES, course_with_viewers

MARCH = datetime(2030, 3, 4, 1, 30, tzinfo=UTC)
SUMMARY_FIELDS = {
    "id",
    "title",
    "summary",
    "topic",
    "level",
    "mode",
    "capacity",
    "enrol_opens_at",
    "enrol_closes_at",
    "cancel_deadline",
    "completion_threshold",
    "feedback_required",
    "approval_required",
    "prerequisite_ids",
    "trainer_ids",
    "programme_id",
    "status",
    "class_hours",
    "seats_left",
    "next_session_at",
    "trainers",
}


def test_list_shape_and_card_fields(app_ctx, client) -> None:
    trainer = make_trainer(name="陈老师")
    programme = make_programme()
    first = make_course(
        "心理健康服务",
        summary="长者心理支持",
        trainers=[trainer],
        capacity=30,
        seats_taken=3,
        sessions=2,
        first_session_at=MARCH,
        programme_id=programme.id,
    )
    second = make_course("通讯员培训", capacity=None)
    second.prerequisites = [first]
    make_course("草稿", status=PublicationStatus.DRAFT)
    db.session.commit()

    response = client.get("/api/v1/courses")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"items", "total", "page", "per_page"}
    assert (body["total"], body["page"], body["per_page"]) == (2, 1, 20)
    item, other = body["items"]
    assert set(item) == SUMMARY_FIELDS
    assert item["id"] == first.id
    assert item["class_hours"] == pytest.approx(5.34)
    assert item["seats_left"] == 27
    assert item["next_session_at"] == "2030-03-04T01:30:00+00:00"
    assert item["trainers"] == [{"id": trainer.id, "name": "陈老师"}]
    assert item["trainer_ids"] == [trainer.id]
    assert item["programme_id"] == programme.id
    assert (item["level"], item["mode"], item["status"]) == ("beginner", "offline", "published")
    assert other["seats_left"] is None and other["next_session_at"] is None
    assert other["class_hours"] == 0
    assert other["prerequisite_ids"] == [first.id]


def test_list_filters_and_search(app_ctx, client) -> None:
    now = datetime.now(UTC)
    a = make_course(
        "心理健康服务",
        topic="心理健康",
        level=CourseLevel.INTERMEDIATE,
        mode=CourseMode.ONLINE,
        sessions=1,
        first_session_at=datetime(2030, 3, 31, 16, 30, tzinfo=UTC),  # April in Shanghai
    )
    b = make_course(
        "社区心理援助",
        topic="心理健康",
        level=CourseLevel.BEGINNER,
        capacity=1,
        seats_taken=1,
        sessions=1,
        first_session_at=MARCH,
    )
    c = make_course("50%折扣_说明", enrol_closes_at=now - timedelta(days=1))

    def found(query: str) -> list[int]:
        response = client.get("/api/v1/courses?" + query)
        assert response.status_code == 200, response.get_json()
        return [item["id"] for item in response.get_json()["items"]]

    assert found("q=心理") == [b.id, a.id]
    assert found("topic=心理健康&level=intermediate") == [a.id]
    assert found("mode=online") == [a.id]
    assert found("month=2030-04") == [a.id]
    assert found("month=2030-03") == [b.id]
    assert found("available=1") == [a.id]
    assert found("q=%25") == [c.id]
    assert found("q=_") == [c.id]
    body = client.get("/api/v1/courses?per_page=1&page=2").get_json()
    assert (body["total"], body["page"], body["per_page"]) == (3, 2, 1)
    assert [item["id"] for item in body["items"]] == [a.id]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("month=2030-13", "month"),
        ("month=March", "month"),
        ("level=expert", "level"),
        ("mode=radio", "mode"),
        ("per_page=500", "per_page"),
    ],
)
def test_bad_query_values_are_422_with_the_error_shape(
    app_ctx, client, query: str, field: str
) -> None:
    make_course("公开课")
    response = client.get("/api/v1/courses?" + query)
    assert response.status_code == 422
    error = response.get_json()["error"]
    # The one field at fault is named, with a message; nothing is listed.
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == [field]
    assert all(isinstance(m, str) and m for m in error["fields"][field])
    assert isinstance(error["message"], str) and error["message"]
    assert "items" not in response.get_json()


def test_course_detail_with_sessions(app_ctx, client) -> None:
    trainer = make_trainer()
    course = make_course("夜间线上课", trainers=[trainer], capacity=10, seats_taken=4)
    make_session(
        course,
        starts_at=datetime(2030, 3, 5, 15, 30, tzinfo=UTC),
        mode=SessionMode.ONLINE,
        venue=None,
        meeting_url="https://meeting.example.org/j/1",
        class_hours=1,
    )
    make_session(course, starts_at=MARCH, class_hours=2)

    response = client.get(f"/api/v1/courses/{course.id}")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) >= SUMMARY_FIELDS | {"description", "sessions"}
    assert body["seats_left"] == 6
    assert body["class_hours"] == 3
    assert body["trainer_ids"] == [trainer.id]
    assert [s["starts_at"] for s in body["sessions"]] == [
        "2030-03-04T01:30:00+00:00",
        "2030-03-05T15:30:00+00:00",
    ]
    online = body["sessions"][1]
    # An anonymous reader is not told how to join (permissions.can_see_meeting).
    assert online["mode"] == "online" and online["meeting_url"] is None
    assert set(online) >= {
        "id",
        "course_id",
        "title",
        "starts_at",
        "ends_at",
        "mode",
        "venue",
        "address",
        "meeting_url",
        "video_url",
        "class_hours",
        "capacity",
    }


def test_unknown_and_unpublished_courses_are_404_json(app_ctx, client) -> None:
    owner = make_trainer()
    draft = make_course(status=PublicationStatus.DRAFT, trainers=[owner])
    archived = make_course(status=PublicationStatus.ARCHIVED, trainers=[owner])

    for course_id in (draft.id, archived.id, 999_999):
        response = client.get(f"/api/v1/courses/{course_id}")
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
    for outsider in (make_user(), make_trainer()):
        response = client.get(f"/api/v1/courses/{draft.id}", headers=bearer(make_token(outsider)))
        assert response.status_code == 404

    for manager in (owner, make_admin()):
        response = client.get(f"/api/v1/courses/{draft.id}", headers=bearer(make_token(manager)))
        assert response.status_code == 200
        assert response.get_json()["status"] == "draft"
    assert [item["id"] for item in client.get("/api/v1/courses").get_json()["items"]] == []


def test_catalogue_routes_are_in_the_openapi_document(client) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/courses"]
    assert "get" in paths["/api/v1/courses/{course_id}"]


@pytest.mark.parametrize("status", list(SEES))
def test_course_and_materials_api_follow_the_pages_view_rule(app_ctx, client, status) -> None:
    """Issue 12 item 4: GET /api/v1/courses/{id} and its materials answer as the pages do."""
    course, users = course_with_viewers(status)
    for viewer, user in users.items():
        headers = bearer(make_token(user)) if user is not None else {}
        expected = 200 if viewer in SEES[status] else 404
        response = client.get(f"/api/v1/courses/{course.id}", headers=headers)
        assert response.status_code == expected, viewer
        if expected == 200:
            assert response.get_json()["status"] == status.value
        else:
            assert response.get_json()["error"]["code"] == "not_found"
        materials = client.get(f"/api/v1/courses/{course.id}/materials", headers=headers)
        assert materials.status_code == expected, viewer
        listed = client.get("/api/v1/courses", headers=headers).get_json()["items"]
        assert [item["id"] for item in listed] == (
            [course.id] if status == PublicationStatus.PUBLISHED else []
        )
