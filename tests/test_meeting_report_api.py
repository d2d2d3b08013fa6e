"""Meeting-report API: upload (201, the same file again 200), read, apply (idempotent),
with the same rules and codes as the pages."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from openapi_spec_validator import validate

from courses.db import db
from courses.models import (
    AttendanceImport,
    AttendanceRecord,
    AuditLogEntry,
    Enrolment,
    SessionMode,
)
from tests import test_meeting_reports_parse as layouts
from tests.factories import bearer, make_admin, make_session, make_token, make_trainer
from tests.test_meeting_reports import (
    STARTS,
    csv_bytes,
    dt,
    wecom_lines,
    xlsx_bytes,
)
from tests.test_meeting_reports import setting as _setting

setting = _setting  # the fixture: an online session, its trainer and three learners
course_setting = layouts.course_setting  # the same with the people of the exports

IMPORT_KEYS = {
    "id",
    "session_id",
    "filename",
    "layout",
    "status",
    "created_at",
    "applied_at",
    "applied_by_id",
    "counts",
    "rows",
    "learners",
}


def auth(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_token(user))


def upload(client, session_id: int, data: bytes, headers: dict[str, str], name: str = "r.xlsx"):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/sessions/{session_id}/attendance-reports",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers=headers,
    )


def assert_error(response, status: int, code: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code, error
    assert error["message"]
    return error


WECOM = xlsx_bytes(
    wecom_lines(
        [
            ["李安娜", "13800000001", dt(10, 0), dt(11, 30), "01:30:00"],
            ["王博", "138-0000-0002", dt(10, 30), dt(11, 0), "00:30:00"],
            ["", "", dt(10, 0), dt(11, 0), "01:00:00"],
        ]
    )
)


def test_upload_read_and_apply(setting, client):  # type: ignore[no-untyped-def]
    headers = auth(setting["trainer"])
    session = setting["session"]
    response = upload(client, session.id, WECOM, headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == IMPORT_KEYS
    assert (body["layout"], body["status"], body["session_id"]) == ("wecom", "preview", session.id)
    assert body["counts"] == {"matched": 2, "ambiguous": 0, "unmatched": 0, "invalid": 1}
    matched = {row["user_id"]: row for row in body["rows"] if row["outcome"] == "matched"}
    assert matched[setting["ana"].id]["minutes"] == 90
    assert matched[setting["ana"].id]["credited_hours"] == 2.0
    assert matched[setting["bo"].id]["phone"] == "13800000002"
    (invalid,) = [row for row in body["rows"] if row["outcome"] == "invalid"]
    assert (invalid["row"], invalid["reason"]) == (5, "no_identifier")
    assert invalid["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceRecord)) == 0

    again = upload(client, session.id, WECOM, headers, name="same.xlsx")
    assert again.status_code == 200
    assert again.get_json()["id"] == body["id"]

    read = client.get(f"/api/v1/attendance-reports/{body['id']}", headers=headers)
    assert read.status_code == 200 and read.get_json()["rows"] == body["rows"]

    applied = client.post(f"/api/v1/attendance-reports/{body['id']}/apply", headers=headers)
    assert applied.status_code == 200
    result = applied.get_json()
    assert result["status"] == "applied"
    assert result["applied_by_id"] == setting["trainer"].id
    assert result["applied_at"].endswith("+00:00")
    db.session.rollback()
    found = {r.user_id: r for r in db.session.scalars(sa.select(AttendanceRecord))}
    assert (
        found[setting["ana"].id].imported_minutes,
        found[setting["bo"].id].imported_minutes,
    ) == (
        90,
        30,
    )
    ana_enrolment = db.session.get(Enrolment, setting["enrolments"][setting["ana"].id].id)
    assert ana_enrolment.credited_hours == 2.0

    twice = client.post(f"/api/v1/attendance-reports/{body['id']}/apply", headers=headers)
    assert twice.status_code == 200
    assert twice.get_json()["applied_at"] == result["applied_at"]
    db.session.rollback()
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(AuditLogEntry.action == "attendance.imported")
        )
        == 1
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceImport)) == 1


def test_rules_and_codes(setting, client):  # type: ignore[no-untyped-def]
    headers = auth(setting["trainer"])
    session = setting["session"]
    assert_error(upload(client, session.id, b"just some words", headers), 422, "invalid_report")
    big = csv_bytes([["手机号", "时长"], *[["13800000001", "1"]] * 5001])
    assert_error(upload(client, session.id, big, headers, name="big.csv"), 422, "report_too_large")
    offline = make_session(setting["course"], starts_at=STARTS + timedelta(days=7))
    good = csv_bytes([["手机号", "时长"], ["13800000001", "90"]])
    assert_error(upload(client, offline.id, good, headers, name="r.csv"), 422, "not_online")
    assert_error(upload(client, 999999, good, headers, name="r.csv"), 404, "not_found")
    missing = client.post(
        f"/api/v1/sessions/{session.id}/attendance-reports",
        data={},
        content_type="multipart/form-data",
        headers=headers,
    )
    assert missing.status_code == 422
    assert_error(client.get("/api/v1/attendance-reports/999999", headers=headers), 404, "not_found")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceImport)) == 0


def test_learners_and_other_trainers_get_403(setting, client):  # type: ignore[no-untyped-def]
    session = setting["session"]
    good = csv_bytes([["手机号", "时长"], ["13800000001", "90"]])
    created = upload(client, session.id, good, auth(setting["trainer"]), name="r.csv").get_json()
    for intruder in (setting["ana"], make_trainer()):
        headers = auth(intruder)
        assert_error(upload(client, session.id, good + b"\n", headers, "r.csv"), 403, "forbidden")
        assert_error(
            client.get(f"/api/v1/attendance-reports/{created['id']}", headers=headers),
            403,
            "forbidden",
        )
        assert_error(
            client.post(f"/api/v1/attendance-reports/{created['id']}/apply", headers=headers),
            403,
            "forbidden",
        )
    assert client.get(f"/api/v1/attendance-reports/{created['id']}").status_code == 401
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceRecord)) == 0
    admin = auth(make_admin())
    applied = client.post(f"/api/v1/attendance-reports/{created['id']}/apply", headers=admin)
    assert applied.get_json()["status"] == "applied"


def test_the_openapi_document_covers_the_routes(client):  # type: ignore[no-untyped-def]
    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    paths = spec["paths"]
    upload_doc = paths["/api/v1/sessions/{session_id}/attendance-reports"]["post"]
    assert {"200", "201", "403", "422"} <= set(upload_doc["responses"])
    assert "multipart/form-data" in upload_doc["requestBody"]["content"]
    assert "get" in paths["/api/v1/attendance-reports/{import_id}"]
    assert "post" in paths["/api/v1/attendance-reports/{import_id}/apply"]


# ---- exports as the products write them: choosing the learner, a session not ended -----------


def test_apply_with_the_trainers_choices(course_setting, client):  # type: ignore[no-untyped-def]
    s = course_setting
    headers = auth(s["trainer"])
    body = upload(client, s["session"].id, layouts.TENCENT, headers).get_json()
    assert body["layout"] == "tencent"
    assert {"user_id": s["cai"].id, "name": "陈彩"} in body["learners"]
    rows = {row["name"]: row for row in body["rows"]}
    pick = rows["小燕子(小燕子)"]
    assert (pick["outcome"], pick["reason"], pick["pickable"]) == (
        "unmatched",
        "unknown_name",
        True,
    )
    assert (rows["刘老师(刘老师)"]["reason"], rows["刘老师(刘老师)"]["pickable"]) == ("host", False)
    url = f"/api/v1/attendance-reports/{body['id']}/apply"
    for bad, code in (
        ({"choices": [{"row": pick["row"], "user_id": 2**40}]}, "invalid_choice"),
        ({"choices": [{"row": rows["刘老师(刘老师)"]["row"], "user_id": s["cai"].id}]}, None),
        ({"choices": "all"}, None),
        ({"choices": [{"row": "x", "user_id": 1}]}, None),
    ):
        refused = client.post(url, json=bad, headers=headers)
        assert refused.status_code == 422, refused.get_data(as_text=True)
        if code:
            assert refused.get_json()["error"]["code"] == code
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceRecord)) == 0

    applied = client.post(
        url, json={"choices": [{"row": pick["row"], "user_id": s["cai"].id}]}, headers=headers
    )
    assert applied.status_code == 200, applied.get_data(as_text=True)
    chosen = next(r for r in applied.get_json()["rows"] if r["row"] == pick["row"])
    assert (chosen["outcome"], chosen["via"], chosen["user_id"]) == (
        "matched",
        "chosen",
        s["cai"].id,
    )
    assert layouts.credited(s) == {s["zhang"].id: 80, s["bo"].id: 60, s["cai"].id: 90}
    again = client.post(url, json={"choices": []}, headers=headers)
    assert again.status_code == 200
    assert layouts.credited(s) == {s["zhang"].id: 80, s["bo"].id: 60, s["cai"].id: 90}


def test_a_session_that_has_not_ended_is_refused(course_setting, client):  # type: ignore[no-untyped-def]
    s = course_setting
    tomorrow = make_session(
        s["course"], starts_at=datetime.now(UTC) + timedelta(days=1), mode=SessionMode.ONLINE
    )
    response = upload(client, tomorrow.id, layouts.ZOOM, auth(s["trainer"]), name="z.csv")
    assert_error(response, 422, "session_not_ended")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceImport)) == 0


def test_absurd_values_are_row_errors_not_500(course_setting, client):  # type: ignore[no-untyped-def]
    data = csv_bytes([["姓名", "参会时长"], ["王博", "9" * 23], ["陈彩", "1e999"]])
    response = upload(client, course_setting["session"].id, data, auth(course_setting["trainer"]))
    assert response.status_code == 201
    assert [(r["reason"]) for r in response.get_json()["rows"]] == [
        "duration_too_long",
        "bad_duration",
    ]
