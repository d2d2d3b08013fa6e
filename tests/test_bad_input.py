"""Hostile input never gets a 500: every value below answers a clear 4xx (the API's
``{"error": {"code", "message"}}``, or a page), or is refused by the service before it
is stored. Run on SQLite and PostgreSQL alike: the answers are the same on both."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.models import Course, CourseSession, SessionMode
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
from tests.test_course_management_api import course_body, session_body

HUGE_PAGE = "4611686018427387904"  # 2**62
BEYOND_INT32 = 2**31
NUL = "\x00"


def assert_api_error(response, status: int | tuple[int, ...], code: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["message"] and isinstance(error["message"], str)
    if code is not None:
        assert error["code"] == code, error
    return error


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def admin(app_ctx):  # type: ignore[no-untyped-def]
    return make_admin(name="管理员")


@pytest.fixture
def admin_auth(admin) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_token(admin))


@pytest.fixture
def trainer(app_ctx):  # type: ignore[no-untyped-def]
    return make_trainer(name="李讲师")


@pytest.fixture
def trainer_auth(trainer) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_token(trainer))


@pytest.fixture
def course(trainer) -> Course:  # type: ignore[no-untyped-def]
    return make_course("社区治理基础", trainers=[trainer], sessions=1)


# --- dates far away: refused when stored, harmless when shown ----------------------------------


@pytest.mark.parametrize(
    ("starts_at", "ends_at"),
    [
        ("9999-12-31T20:00:00+00:00", "9999-12-31T22:00:00+00:00"),
        ("0001-01-01T00:00:00+14:00", "0001-01-01T02:00:00+14:00"),
        ("1999-12-31T09:00:00+08:00", "1999-12-31T11:00:00+08:00"),
        ("2101-01-01T09:00:00+08:00", "2101-01-01T11:00:00+08:00"),
    ],
)
def test_the_api_refuses_a_session_outside_the_years_the_academy_plans(
    client, course, trainer_auth, starts_at, ends_at
):
    response = client.post(
        f"/api/v1/courses/{course.id}/sessions",
        json=session_body(starts_at=starts_at, ends_at=ends_at),
        headers=trainer_auth,
    )
    error = assert_api_error(response, 422, "date_out_of_range")
    assert "starts_at" in error["fields"]
    assert count(CourseSession) == 1


def test_moving_a_session_to_year_9999_is_refused(client, course, trainer_auth):
    session_id = course.sessions[0].id
    response = client.patch(
        f"/api/v1/sessions/{session_id}",
        json={"ends_at": "9999-12-31T23:59:00+00:00"},
        headers=trainer_auth,
    )
    error = assert_api_error(response, 422, "date_out_of_range")
    assert "ends_at" in error["fields"]


def test_the_session_page_refuses_year_9999_with_a_field_message(login_as, trainer, course):
    client = login_as(trainer)
    response = client.post(
        f"/manage/courses/{course.id}/sessions",
        data={
            "starts_at": "9999-12-31T20:00",
            "ends_at": "9999-12-31T22:00",
            "mode": "offline",
            "venue": "会议室",
        },
    )
    assert response.status_code in (200, 422)
    page = response.get_data(as_text=True)
    assert "2000" in page and "2100" in page
    assert count(CourseSession) == 1


@pytest.mark.parametrize("name", ["enrol_opens_at", "enrol_closes_at", "cancel_deadline"])
@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "1970-01-01T00:00:00+00:00"]
)
def test_the_api_refuses_a_course_window_outside_the_years(client, trainer_auth, name, value):
    response = client.post(
        "/api/v1/courses", json=course_body(**{name: value}), headers=trainer_auth
    )
    error = assert_api_error(response, 422, "date_out_of_range")
    assert name in error["fields"]
    assert count(Course) == 0


def test_a_session_stored_in_year_9999_breaks_no_page(client, app_ctx, admin):
    """Stored before the rule existed (or written by hand): every page still renders."""
    course = make_course("遥远的课程", trainers=[make_trainer()])
    make_session(course, starts_at=datetime(9999, 12, 31, 20, 0, tzinfo=UTC))
    make_session(course, starts_at=datetime(1, 1, 1, 0, 0, tzinfo=UTC), duration=timedelta(hours=1))
    learner = make_user()
    make_enrolment(course, learner)
    for url in (
        "/",
        "/courses",
        f"/courses/{course.id}",
        f"/calendar/course/{course.id}.ics",
        "/api/v1/courses",
        f"/api/v1/courses/{course.id}",
    ):
        response = client.get(url)
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:500])
    calendar = client.get(f"/calendar/course/{course.id}.ics").get_data(as_text=True)
    assert "BEGIN:VEVENT" in calendar
    detail = client.get(f"/api/v1/courses/{course.id}").get_json()
    assert len(detail["sessions"]) == 2


def test_a_session_stored_in_year_9999_breaks_no_page_of_its_learner_or_trainer(app, app_ctx):
    from courses.services import calendar as calendar_service

    trainer = make_trainer()
    course = make_course("遥远的课程", trainers=[trainer])
    far = make_session(course, starts_at=datetime(9999, 12, 31, 20, 0, tzinfo=UTC))
    early = make_session(
        course, starts_at=datetime(1, 1, 1, 0, 0, tzinfo=UTC), duration=timedelta(hours=1)
    )
    learner = make_user()
    make_enrolment(course, learner)
    token = calendar_service.issue_calendar_token(learner)
    db.session.commit()
    pages = {
        learner: ["/me/courses", "/me/hours", f"/sessions/{far.id}", f"/sessions/{early.id}"],
        trainer: [
            "/manage/",
            f"/manage/courses/{course.id}",
            f"/manage/courses/{course.id}/sessions",
            f"/manage/sessions/{far.id}",
            f"/manage/courses/{course.id}/enrolments",
        ],
    }
    for user, urls in pages.items():
        client = app.test_client()
        client.post("/login", data={"login": user.email, "password": "correct-horse-9"})
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
    api = bearer(make_token(learner))
    for url in ("/api/v1/me/enrolments", "/api/v1/me/hours"):
        response = app.test_client().get(url, headers=api)
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
    assert app.test_client().get(f"/calendar/u/{token}.ics").status_code == 200


# --- pages, months and other query values ------------------------------------------------------


def _list_routes(course_id: int, user_id: int) -> list[str]:
    return [
        "/courses",
        "/programmes",
        "/me/courses",
        "/me/hours",
        "/admin/users",
        "/admin/organisations",
        "/manage/",
        "/manage/programmes",
        "/manage/feedback",
        f"/manage/courses/{course_id}/enrolments",
        f"/manage/courses/{course_id}/feedback",
        "/api/v1/courses",
        "/api/v1/users",
        "/api/v1/organisations",
        "/api/v1/programmes",
        "/api/v1/me/enrolments",
        "/api/v1/me/hours",
        f"/api/v1/courses/{course_id}/enrolments",
        f"/api/v1/courses/{course_id}/feedback",
        f"/api/v1/users/{user_id}/external-hours",
        "/api/v1/feedback/trainers",
    ]


HOSTILE_QUERIES = [
    {"page": HUGE_PAGE},
    {"page": str(BEYOND_INT32)},
    {"page": "-" + HUGE_PAGE},
    {"per_page": HUGE_PAGE},
    {"q": "社工" + NUL},
    {"q": NUL},
    {"status": NUL},
    {"month": "9999-12"},
    {"month": "0000-01"},
    "topic=%ED%A0%80&q=%ED%A0%80",  # a lone surrogate, percent-encoded as UTF-8 would
    "q=%FF%FE",  # not UTF-8 at all
    {"year": HUGE_PAGE},
]


@pytest.mark.parametrize(
    "query",
    HOSTILE_QUERIES,
    ids=lambda q: q if isinstance(q, str) else ",".join(f"{k}={v!r}" for k, v in q.items()),
)
def test_no_list_answers_500_to_a_hostile_query(app, app_ctx, admin, admin_auth, query):
    course = make_course(trainers=[make_trainer()], sessions=1)
    client = app.test_client()
    client.post("/login", data={"login": admin.email, "password": "correct-horse-9"})
    for url in _list_routes(course.id, admin.id):
        api = url.startswith("/api/")
        response = client.get(url, query_string=query, headers=admin_auth if api else {})
        assert response.status_code < 500, (url, response.status_code)
        if api and response.status_code >= 400:
            assert_api_error(response, (400, 422))
        if not api:
            assert response.mimetype == "text/html", url


def test_a_page_number_beyond_the_range_is_a_clear_error(client, admin_auth):
    response = client.get("/api/v1/courses", query_string={"page": HUGE_PAGE})
    error = assert_api_error(response, (400, 422))
    assert "page" in error.get("fields", {}) or "page" in error["message"]
    response = client.get("/api/v1/users", query_string={"page": BEYOND_INT32}, headers=admin_auth)
    assert_api_error(response, (400, 422))
    page = client.get("/courses", query_string={"page": HUGE_PAGE})
    assert page.status_code in (200, 400, 422)
    assert page.mimetype == "text/html"


@pytest.mark.parametrize("month", ["9999-12", "0000-01", "1999-12", "2101-01"])
def test_a_month_outside_the_years_is_refused_by_the_api_and_ignored_by_the_page(
    client, app_ctx, month
):
    make_course("社区治理", sessions=1)
    response = client.get("/api/v1/courses", query_string={"month": month})
    error = assert_api_error(response, 422)
    assert "month" in error["fields"]
    page = client.get("/courses", query_string={"month": month})
    assert page.status_code == 200
    assert "社区治理" in page.get_data(as_text=True)


# --- JSON bodies -------------------------------------------------------------------------------


def test_a_json_body_nested_100000_deep_is_a_400(client, app_ctx, trainer_auth):
    body = "[" * 100_000 + "]" * 100_000
    for url, headers in (("/api/v1/tokens", {}), ("/api/v1/checkin", trainer_auth)):
        response = client.post(url, data=body, content_type="application/json", headers=headers)
        assert_api_error(response, 400)
    nested = '{"login": ' + "[" * 100 + "]" * 100 + ', "password": "x"}'
    response = client.post("/api/v1/tokens", data=nested, content_type="application/json")
    assert_api_error(response, (400, 422))


@pytest.mark.parametrize("text", ['"\\ud800"', '"a\\udfffb"', '"\\u0000"', '"社工\\u0000"'])
def test_a_lone_surrogate_or_nul_in_a_json_string_is_a_400(
    client, app_ctx, trainer_auth, admin_auth, text
):
    for url, template, headers in (
        ("/api/v1/tokens", '{"login": %s, "password": "x"}', {}),
        (
            "/api/v1/courses",
            '{"title": %s, "topic": "t", "level": "beginner", "mode": "online"}',
            trainer_auth,
        ),
        ("/api/v1/organisations", '{"name": "机构", "contact_name": %s}', admin_auth),
    ):
        response = client.post(
            url, data=template % text, content_type="application/json", headers=headers
        )
        error = assert_api_error(response, 400, "invalid_text")
        assert error["message"]
    response = client.post(
        "/api/v1/courses",
        data=json.dumps(
            {"title": "x", "topic": "t", "level": "beginner", "mode": "online", json.loads(text): 1}
        ),
        content_type="application/json",
        headers=trainer_auth,
    )
    assert_api_error(response, 400)
    assert count(Course) == 0


def test_invalid_utf8_in_a_json_body_is_a_400(client, app_ctx):
    response = client.post(
        "/api/v1/tokens",
        data=b'{"login": "\xff\xfe", "password": "x"}',
        content_type="application/json",
    )
    assert_api_error(response, 400)


# --- NUL in text: the same 400 on both databases -----------------------------------------------


def test_a_nul_in_a_login_is_a_400_not_a_500(client, app_ctx):
    make_user(email="wang@example.org")
    page = client.post("/login", data={"login": "wang@example.org" + NUL, "password": "x"})
    assert page.status_code == 400
    assert page.mimetype == "text/html"
    response = client.post("/api/v1/tokens", json={"login": NUL + "wang", "password": "x"})
    assert_api_error(response, 400, "invalid_text")


def test_a_nul_in_a_search_is_a_400(client, app_ctx, admin_auth):
    assert client.get("/courses", query_string={"q": "社工" + NUL}).status_code == 400
    assert_api_error(client.get("/api/v1/courses", query_string={"q": NUL}), 400, "invalid_text")
    assert_api_error(
        client.get("/api/v1/users", query_string={"q": NUL}, headers=admin_auth),
        400,
        "invalid_text",
    )


def test_a_nul_in_a_form_field_is_a_400_and_changes_nothing(login_as, trainer, course):
    client = login_as(trainer)
    response = client.post(
        f"/manage/courses/{course.id}",
        data={"title": "新标题" + NUL, "topic": "社区", "level": "beginner", "mode": "offline"},
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Course, course.id).title == "社区治理基础"


def test_a_nul_in_a_path_value_is_a_400(client, app_ctx):
    assert client.get("/calendar/u/abc%00def.ics").status_code in (400, 404)


# --- integers beyond the database's columns ----------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("capacity", BEYOND_INT32),
        ("capacity", 2**64),
        ("trainer_ids", [BEYOND_INT32]),
        ("trainer_ids", [2**64]),
        ("prerequisite_ids", [BEYOND_INT32]),
        ("prerequisite_ids", [-(2**63) - 1]),
        ("programme_id", BEYOND_INT32),
        ("programme_id", 2**70),
    ],
)
def test_integers_beyond_the_columns_are_refused_for_courses(
    client, admin_auth, course, field, value
):
    response = client.post(
        "/api/v1/courses", json=course_body(**{field: value}), headers=admin_auth
    )
    error = assert_api_error(response, 422)
    assert field in error["fields"], error
    response = client.patch(f"/api/v1/courses/{course.id}", json={field: value}, headers=admin_auth)
    error = assert_api_error(response, 422)
    assert field in error["fields"], error
    assert count(Course) == 1


def test_a_session_capacity_beyond_the_column_is_refused(client, course, trainer_auth):
    response = client.post(
        f"/api/v1/courses/{course.id}/sessions",
        json=session_body(capacity=BEYOND_INT32),
        headers=trainer_auth,
    )
    assert "capacity" in assert_api_error(response, 422)["fields"]


def test_the_course_page_refuses_a_capacity_beyond_the_column(login_as, trainer, course):
    client = login_as(trainer)
    response = client.post(
        f"/manage/courses/{course.id}",
        data={
            "title": "社区治理基础",
            "topic": "社区",
            "level": "beginner",
            "mode": "offline",
            "capacity": str(2**40),
        },
    )
    assert response.status_code in (200, 422)
    db.session.expire_all()
    assert db.session.get(Course, course.id).capacity == 30


@pytest.mark.parametrize("user_id", [BEYOND_INT32, 2**64, 0, -1])
def test_a_user_id_beyond_the_column_is_refused(client, course, admin_auth, user_id):
    response = client.post(
        f"/api/v1/courses/{course.id}/enrolments", json={"user_id": user_id}, headers=admin_auth
    )
    error = assert_api_error(response, 422)
    assert "user_id" in error["fields"]
    response = client.post(
        f"/api/v1/sessions/{course.sessions[0].id}/attendance",
        json=[{"user_id": user_id, "status": "present"}],
        headers=admin_auth,
    )
    assert_api_error(response, 422)


def test_ids_in_a_programme_and_a_filter_beyond_the_column_are_refused(client, admin_auth):
    response = client.post(
        "/api/v1/programmes",
        json={"title": "计划", "course_ids": [BEYOND_INT32]},
        headers=admin_auth,
    )
    assert "course_ids" in assert_api_error(response, 422)["fields"]
    response = client.get(
        "/api/v1/users", query_string={"organisation_id": 2**64}, headers=admin_auth
    )
    assert "organisation_id" in assert_api_error(response, 422)["fields"]


def test_a_material_session_id_beyond_the_column_is_refused(client, course, trainer_auth):
    response = client.post(
        f"/api/v1/courses/{course.id}/materials",
        data={"file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "讲义.pdf"), "session_id": str(2**64)},
        content_type="multipart/form-data",
        headers=trainer_auth,
    )
    assert_api_error(response, 422)


# --- meeting reports ---------------------------------------------------------------------------


def test_a_meeting_report_duration_of_23_digits_is_no_500(client, app_ctx):
    trainer = make_trainer()
    course = make_course(trainers=[trainer])
    session = make_session(
        course,
        starts_at=datetime(2026, 1, 5, 2, 0, tzinfo=UTC),
        mode=SessionMode.ONLINE,
        venue=None,
        meeting_url="https://meeting.tencent.com/dm/x",
    )
    learner = make_user(phone="13800000001")
    make_enrolment(course, learner)
    report = (
        "name,phone,email,joined_at,left_at,minutes\r\n"
        f"学员,13800000001,,2026-01-05 10:00,2026-01-05 11:00,{'9' * 23}\r\n"
    ).encode()
    response = client.post(
        f"/api/v1/sessions/{session.id}/attendance-reports",
        data={"file": (io.BytesIO(report), "report.csv")},
        content_type="multipart/form-data",
        headers=bearer(make_token(trainer)),
    )
    assert response.status_code in (201, 422), response.get_data(as_text=True)
    if response.status_code == 201:  # the file is read; that row is refused with a reason
        (row,) = response.get_json()["rows"]
        assert row["outcome"] == "invalid" and row["reason"]


# --- bodies larger than the route needs --------------------------------------------------------


def test_a_json_body_larger_than_the_limit_is_refused_early_with_413(client, app_ctx):
    body = json.dumps({"login": "x" * (2 * 1024 * 1024), "password": "x"})
    response = client.post("/api/v1/tokens", data=body, content_type="application/json")
    assert_api_error(response, 413, "too_large")
    page = client.post("/login", data={"login": "x" * (2 * 1024 * 1024), "password": "x"})
    assert page.status_code == 413


def test_the_json_limit_is_configurable(app_ctx):
    from tests.conftest import make_app

    small = make_app(ACADEMY_MAX_REQUEST_KB="1").test_client()
    body = {"login": "x" * 2000, "password": "x"}
    assert_api_error(small.post("/api/v1/tokens", json=body), 413, "too_large")


def test_uploads_keep_their_own_larger_limit(app_ctx, course, trainer, trainer_auth, tmp_path):
    """With a 100 KB limit for other requests, a 300 KB file still uploads (page and API)."""
    from tests.conftest import make_app

    small = make_app(ACADEMY_MAX_REQUEST_KB="100", UPLOAD_ROOT=str(tmp_path))
    client = small.test_client()
    assert_api_error(
        client.post("/api/v1/tokens", json={"login": "x" * 200_000, "password": "x"}),
        413,
        "too_large",
    )
    data = b"%PDF-1.4\n" + b"0" * 300_000 + b"\n%%EOF\n"
    response = client.post(
        f"/api/v1/courses/{course.id}/materials",
        data={"file": (io.BytesIO(data), "讲义.pdf"), "title": "讲义"},
        content_type="multipart/form-data",
        headers=trainer_auth,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    client.post("/login", data={"login": trainer.email, "password": "correct-horse-9"})
    page = client.post(
        f"/courses/{course.id}/materials",
        data={"file": (io.BytesIO(data), "讲义二.pdf"), "title": "讲义二"},
        content_type="multipart/form-data",
    )
    assert page.status_code == 302
    assert (
        len(
            client.get(f"/api/v1/courses/{course.id}/materials", headers=trainer_auth).get_json()[
                "items"
            ]
        )
        == 2
    )


@pytest.mark.parametrize("earned_on", ["9999-12-31", "0001-01-01"])
def test_external_hours_on_a_far_date_are_no_500(client, app_ctx, admin, admin_auth, earned_on):
    learner = make_user()
    response = client.post(
        f"/api/v1/users/{learner.id}/external-hours",
        json={"title": "外部培训", "hours": 2, "earned_on": earned_on},
        headers=admin_auth,
    )
    assert response.status_code < 500, response.get_data(as_text=True)
    assert client.get("/api/v1/me/hours", headers=bearer(make_token(learner))).status_code == 200
    for year in ("9999", "0", HUGE_PAGE):
        response = client.get("/api/v1/me/hours", query_string={"year": year}, headers=admin_auth)
        assert response.status_code in (200, 422)


@pytest.mark.parametrize("number", [2**31, 2**64, 1e308, -(2**63) - 1])
def test_other_numbers_beyond_any_column_are_no_500(client, app_ctx, admin_auth, number):
    """Minutes, scores, hours, positions and durations: each far too large."""
    trainer = make_trainer()
    course = make_course(trainers=[trainer], sessions=1)
    session_id = course.sessions[0].id
    learner = make_user()
    make_enrolment(course, learner)
    learner_auth = bearer(make_token(learner))
    requests = [
        (
            "POST",
            f"/api/v1/sessions/{session_id}/attendance",
            [{"user_id": learner.id, "status": "present", "minutes": number}],
            admin_auth,
        ),
        (
            "POST",
            f"/api/v1/courses/{course.id}/feedback",
            {"content_score": number, "trainer_score": 5, "organisation_score": 5},
            learner_auth,
        ),
        (
            "POST",
            f"/api/v1/sessions/{session_id}/video-progress",
            {"ranges": [[0, number]], "duration": number},
            learner_auth,
        ),
        (
            "POST",
            f"/api/v1/users/{learner.id}/external-hours",
            {"title": "外部", "hours": number, "earned_on": "2026-01-05"},
            admin_auth,
        ),
        (
            "PUT",
            "/api/v1/qualification-requirements/assistant",
            {"required_hours": number, "cycle_years": number},
            admin_auth,
        ),
        (
            "POST",
            f"/api/v1/courses/{course.id}/sessions",
            session_body(class_hours=number),
            admin_auth,
        ),
        ("PATCH", f"/api/v1/courses/{course.id}", {"completion_threshold": number}, admin_auth),
        ("POST", f"/api/v1/courses/{course.id}/clone", {"shift_days": number}, admin_auth),
        (
            "POST",
            "/api/v1/programmes",
            {"title": "计划", "required_course_count": number, "required_hours": number},
            admin_auth,
        ),
        ("POST", f"/api/v1/sessions/{session_id}/checkin-window", {"minutes": number}, admin_auth),
    ]
    for method, url, body, headers in requests:
        response = client.open(url, method=method, json=body, headers=headers)
        assert response.status_code < 500, (url, response.get_data(as_text=True)[:300])


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "1970-01-01T00:00:00Z"]
)
def test_other_far_dates_are_no_500(client, app_ctx, admin_auth, moment):
    course = make_course(trainers=[make_trainer()], sessions=1)
    session_id = course.sessions[0].id
    programme = make_programme()
    course.programme_id = programme.id
    db.session.commit()
    for method, url, body in (
        ("POST", f"/api/v1/sessions/{session_id}/checkin-window", {"opens_at": moment}),
        ("POST", f"/api/v1/sessions/{session_id}/checkin-window", {"closes_at": moment}),
        ("POST", f"/api/v1/courses/{course.id}/clone", {"first_session_at": moment}),
        ("POST", f"/api/v1/programmes/{programme.id}/clone", {"first_session_at": moment}),
    ):
        response = client.open(url, method=method, json=body, headers=admin_auth)
        assert response.status_code < 500, (url, response.get_data(as_text=True)[:300])
