"""Feedback through the JSON API: POST /api/v1/courses/{id}/feedback (201, 403, 409,
422 with the codes of ``courses.services.feedback``) and the trainers' summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from courses.db import db
from courses.models import FeedbackResponse, User
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

SCORES = {"content_score": 5, "trainer_score": 4, "organisation_score": 4}


def auth(user: User) -> dict[str, str]:
    return bearer(make_token(user))


def assert_error(response, status: int, code: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    return error


def _course(**kwargs):  # type: ignore[no-untyped-def]
    kwargs.setdefault("trainers", [make_trainer()])
    return make_course(
        sessions=2, first_session_at=datetime.now(UTC) - timedelta(days=10), **kwargs
    )


def _count(course) -> int:  # type: ignore[no-untyped-def]
    db.session.rollback()
    return db.session.scalar(
        sa.select(sa.func.count(FeedbackResponse.id)).where(FeedbackResponse.course_id == course.id)
    )


def test_a_learner_rates_a_course_once(app_ctx, client):
    course = _course()
    learner = make_user()
    make_enrolment(course, learner)
    headers = auth(learner)
    url = f"/api/v1/courses/{course.id}/feedback"
    response = client.post(url, json={**SCORES, "comment": " 很有收获 "}, headers=headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["course_id"] == course.id and body["user_id"] == learner.id
    assert (body["content_score"], body["trainer_score"], body["organisation_score"]) == (5, 4, 4)
    assert body["comment"] == "很有收获"
    assert datetime.fromisoformat(body["created_at"]).utcoffset() is not None

    again = client.post(url, json={**SCORES, "content_score": 1}, headers=headers)
    assert_error(again, 409, "feedback_already_given")
    assert _count(course) == 1
    assert db.session.scalar(sa.select(FeedbackResponse.content_score)) == 5


def test_refusals_have_codes(app_ctx, client):
    course = _course()
    learner = make_user()
    make_enrolment(course, learner)
    url = f"/api/v1/courses/{course.id}/feedback"
    assert_error(
        client.post(url, json={**SCORES, "trainer_score": 6}, headers=auth(learner)),
        422,
        "invalid_score",
    )
    assert_error(
        client.post(url, json={**SCORES, "comment": "长" * 2001}, headers=auth(learner)),
        422,
        "comment_too_long",
    )
    assert_error(client.post(url, json=SCORES, headers=auth(make_user())), 403, "not_enrolled")
    assert_error(client.post(url, json=SCORES), 401, "unauthorized")
    assert_error(
        client.post("/api/v1/courses/9999/feedback", json=SCORES, headers=auth(learner)),
        404,
        "not_found",
    )

    make_session(course, starts_at=datetime.now(UTC) + timedelta(days=1))
    assert_error(client.post(url, json=SCORES, headers=auth(learner)), 422, "feedback_not_open")
    assert _count(course) == 0


def test_trainers_and_admins_read_the_summary(app_ctx, client):
    trainer = make_trainer()
    course = _course(trainers=[trainer])
    for scores, comment in (((5, 5, 4), "案例丰富"), ((4, 3, 4), ""), ((3, 4, 5), "时间太紧")):
        learner = make_user()
        make_enrolment(course, learner)
        body = dict(zip(SCORES, scores, strict=True))
        response = client.post(
            f"/api/v1/courses/{course.id}/feedback",
            json={**body, "comment": comment},
            headers=auth(learner),
        )
        assert response.status_code == 201
    url = f"/api/v1/courses/{course.id}/feedback"
    response = client.get(url, headers=auth(trainer))
    assert response.status_code == 200
    body = response.get_json()
    assert body["count"] == 3
    assert body["content_average"] == 4.0
    assert body["trainer_average"] == 4.0
    assert body["organisation_average"] == 4.33
    assert body["total"] == 2 and body["page"] == 1 and body["per_page"] == 20
    assert [item["comment"] for item in body["items"]] == ["时间太紧", "案例丰富"]
    assert set(body["items"][0]) == {
        "comment",
        "created_at",
        "content_score",
        "trainer_score",
        "organisation_score",
    }
    paged = client.get(url + "?per_page=1&page=2", headers=auth(trainer)).get_json()
    assert [item["comment"] for item in paged["items"]] == ["案例丰富"]

    assert client.get(url, headers=auth(make_admin())).status_code == 200
    assert_error(client.get(url, headers=auth(make_trainer())), 403, "forbidden")
    assert_error(client.get(url, headers=auth(make_user())), 403, "forbidden")


def test_the_openapi_document_describes_the_feedback_routes(app_ctx, client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    route = paths["/api/v1/courses/{course_id}/feedback"]
    assert {"get", "post"} <= set(route)
    assert {"201", "403", "409", "422"} <= set(route["post"]["responses"])


def test_satisfaction_by_trainer_through_the_api(app_ctx, client):
    trainer = make_trainer(name="周讲师")
    course = _course(trainers=[trainer])
    learner = make_user()
    make_enrolment(course, learner)
    client.post(f"/api/v1/courses/{course.id}/feedback", json=SCORES, headers=auth(learner))
    rows = client.get("/api/v1/feedback/trainers", headers=auth(make_admin())).get_json()
    assert rows == [
        {
            "trainer_id": trainer.id,
            "name": "周讲师",
            "courses": 1,
            "responses": 1,
            "content_average": 5.0,
            "trainer_average": 4.0,
            "organisation_average": 4.0,
        }
    ]
    assert client.get("/api/v1/feedback/trainers", headers=auth(trainer)).get_json() == rows
    assert_error(client.get("/api/v1/feedback/trainers", headers=auth(learner)), 403, "forbidden")
