"""The hours ledger through the JSON API: GET /api/v1/me/hours, outside hours and
qualification requirements (admins), with the same rules as the pages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.models import (
    AttendanceMethod,
    AttendanceRecord,
    AttendanceStatus,
    ExternalHoursRecord,
    QualificationLevel,
    User,
)
from courses.services import hours
from tests.factories import bearer, make_admin, make_course, make_session, make_token, make_user
from tests.hours_steps import _keep_default_requirements  # noqa: F401 (autouse fixture)


def auth(user: User) -> dict[str, str]:
    return bearer(make_token(user))


def assert_error(response, status: int, code: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code, error
    return error


def _attend(user: User, session, credited: float) -> None:  # type: ignore[no-untyped-def]
    db.session.add(
        AttendanceRecord(
            session_id=session.id,
            user_id=user.id,
            status=AttendanceStatus.PRESENT,
            method=AttendanceMethod.QR,
            minutes=90,
            credited_hours=credited,
        )
    )
    db.session.commit()


def _learner(year: int) -> User:
    user = make_user(qualification_level=QualificationLevel.ASSISTANT)
    user.cycle_starts_on = date(year - 1, 1, 1)
    db.session.commit()
    return user


def test_my_hours_lists_courses_sessions_and_outside_hours(app_ctx, client):
    year = hours.local_today().year
    learner = _learner(year)
    course = make_course("个案管理")
    session = make_session(course, starts_at=datetime(year, 1, 8, 1, 0, tzinfo=UTC), title="第一讲")
    earlier = make_session(course, starts_at=datetime(year - 1, 11, 1, 1, 0, tzinfo=UTC))
    _attend(learner, session, 2.67)
    _attend(learner, earlier, 1.33)
    _attend(make_user(), session, 2.67)
    record = hours.add_external_hours(
        make_admin(), learner, "区社工站培训", 4, date(year, 1, 1), "纸质证明已存档"
    )
    db.session.commit()

    response = client.get(f"/api/v1/me/hours?year={year}", headers=auth(learner))
    assert response.status_code == 200
    body = response.get_json()
    assert body["year"] == year
    assert body["year_hours"] == pytest.approx(6.67)
    assert body["qualification_level"] == "assistant_social_worker"
    assert body["cycle"]["starts_on"] == f"{year - 1}-01-01"
    assert body["cycle"]["ends_on"] == f"{year + 1}-12-31"
    assert body["cycle"]["hours"] == pytest.approx(8.0)
    assert body["cycle"]["required_hours"] == 72
    assert body["cycle"]["progress"] == pytest.approx(8 / 72, abs=1e-4)
    assert body["courses"] == [
        {
            "course_id": course.id,
            "title": "个案管理",
            "hours": 2.67,
            "sessions": [
                {
                    "session_id": session.id,
                    "title": "第一讲",
                    "starts_at": session.starts_at.isoformat(),
                    "credited_hours": 2.67,
                    "status": "present",
                }
            ],
        }
    ]
    assert body["external"] == [
        {
            "id": record.id,
            "title": "区社工站培训",
            "hours": 4.0,
            "earned_on": f"{year}-01-01",
            "note": "纸质证明已存档",
            "external": True,
        }
    ]
    previous = client.get(f"/api/v1/me/hours?year={year - 1}", headers=auth(learner)).get_json()
    assert previous["year_hours"] == pytest.approx(1.33) and previous["external"] == []
    assert client.get("/api/v1/me/hours", headers=auth(learner)).get_json()["year"] == year
    assert_error(
        client.get("/api/v1/me/hours?year=abc", headers=auth(learner)), 422, "validation_error"
    )
    assert_error(client.get("/api/v1/me/hours"), 401, "unauthorized")


def test_a_learner_without_a_qualification_has_no_cycle(app_ctx, client):
    body = client.get("/api/v1/me/hours", headers=auth(make_user())).get_json()
    assert body["cycle"] is None and body["qualification_level"] == "none"
    assert body["year_hours"] == 0 and body["courses"] == [] and body["external"] == []


def test_admins_manage_outside_hours_and_learners_cannot(app_ctx, client):
    admin, learner = make_admin(), make_user()
    url = f"/api/v1/users/{learner.id}/external-hours"
    payload = {"title": "省级研修", "hours": 12.5, "earned_on": "2024-05-01", "note": "证书编号 A1"}

    assert_error(client.post(url, json=payload, headers=auth(learner)), 403, "forbidden")
    assert_error(client.get(url, headers=auth(learner)), 403, "forbidden")
    assert db.session.scalar(sa.select(sa.func.count(ExternalHoursRecord.id))) == 0

    created = client.post(url, json=payload, headers=auth(admin))
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert {k: body[k] for k in ("title", "hours", "earned_on", "note", "external")} == {
        **payload,
        "external": True,
    }
    assert_error(
        client.post(url, json={**payload, "hours": 250}, headers=auth(admin)), 422, "invalid_hours"
    )
    assert_error(
        client.post(url, json={**payload, "title": " "}, headers=auth(admin)), 422, "title_required"
    )
    assert_error(
        client.post("/api/v1/users/9999/external-hours", json=payload, headers=auth(admin)),
        404,
        "not_found",
    )

    listed = client.get(url, headers=auth(admin)).get_json()
    assert listed["total"] == 1 and [i["id"] for i in listed["items"]] == [body["id"]]

    assert_error(
        client.delete(f"/api/v1/external-hours/{body['id']}", headers=auth(learner)),
        403,
        "forbidden",
    )
    assert (
        client.delete(f"/api/v1/external-hours/{body['id']}", headers=auth(admin)).status_code
        == 204
    )
    assert_error(
        client.delete(f"/api/v1/external-hours/{body['id']}", headers=auth(admin)), 404, "not_found"
    )
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(ExternalHoursRecord.id))) == 0


def test_admins_change_requirements_and_the_ledger_follows(app_ctx, client):
    admin = make_admin()
    learner = _learner(hours.local_today().year)
    listed = client.get("/api/v1/qualification-requirements", headers=auth(learner)).get_json()
    assert listed == [
        {"level": "assistant_social_worker", "required_hours": 72.0, "cycle_years": 3},
        {"level": "social_worker", "required_hours": 90.0, "cycle_years": 3},
        {"level": "senior_social_worker", "required_hours": 90.0, "cycle_years": 3},
    ]
    url = "/api/v1/qualification-requirements/assistant_social_worker"
    change = {"required_hours": 60, "cycle_years": 2}
    assert_error(client.put(url, json=change, headers=auth(learner)), 403, "forbidden")
    assert_error(
        client.put(url, json={**change, "cycle_years": 0}, headers=auth(admin)),
        422,
        "invalid_cycle_years",
    )
    assert_error(
        client.put("/api/v1/qualification-requirements/none", json=change, headers=auth(admin)),
        422,
        "invalid_level",
    )
    response = client.put(url, json=change, headers=auth(admin))
    assert response.status_code == 200
    assert response.get_json() == {
        "level": "assistant_social_worker",
        "required_hours": 60.0,
        "cycle_years": 2,
    }
    cycle = client.get("/api/v1/me/hours", headers=auth(learner)).get_json()["cycle"]
    assert cycle["required_hours"] == 60
    year = hours.local_today().year
    assert cycle["starts_on"] == f"{year - 1}-01-01" and cycle["ends_on"] == f"{year}-12-31"


def test_the_openapi_document_describes_the_hours_routes(app_ctx, client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/me/hours"]
    assert {"get", "post"} <= set(paths["/api/v1/users/{user_id}/external-hours"])
    assert "delete" in paths["/api/v1/external-hours/{record_id}"]
    assert "get" in paths["/api/v1/qualification-requirements"]
    assert "put" in paths["/api/v1/qualification-requirements/{level}"]
