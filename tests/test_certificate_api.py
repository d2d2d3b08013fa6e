"""The certificates API: the learner's own, a course's, the public verification, revoke
and re-issue (admins) and the continuing-education proof."""

from __future__ import annotations

import sqlalchemy as sa

from courses.db import db
from courses.models import AuditLogEntry, Certificate
from courses.services.certificates.serials import Serial
from tests.certificate_helpers import all_certificates, drawn_course
from tests.factories import bearer, make_admin, make_token, make_trainer, make_user


def _as(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_token(user))


def test_the_learner_lists_their_certificates_with_both_names(app_ctx, client):
    _t, course, (user,), (certificate,) = drawn_course(app_ctx, names=("周小健",))
    body = client.get("/api/v1/me/certificates", headers=_as(user)).get_json()
    assert (body["total"], body["page"], body["per_page"]) == (1, 1, 20)
    (item,) = body["items"]
    assert item["serial"] == certificate.serial
    assert (item["kind"], item["status"]) == ("course", "valid")
    assert (item["holder"], item["holder_name"]) == ("周*健", "周小健")
    assert item["course_title"] == course.title
    assert item["class_hours"] == float(certificate.class_hours)
    assert item["issued_at"].endswith("+00:00")
    assert item["pdf_url"] == f"/api/v1/certificates/{certificate.serial}/pdf"
    assert item["verify_url"] == f"/verify/{certificate.serial}"


def test_verification_is_public_and_masked(app_ctx, client):
    _t, course, _u, (certificate,) = drawn_course(app_ctx, names=("欧阳小华",))
    body = client.get(f"/api/v1/certificates/{certificate.serial}").get_json()
    assert body["holder"] == "欧阳*华"
    assert (body["status"], body["course_title"]) == ("valid", course.title)
    assert body["revoked_at"] is None
    assert "holder_name" not in body and "pdf_url" not in body


def test_verification_404s_carry_their_codes(app_ctx, client):
    _t, _c, _u, (certificate,) = drawn_course(app_ctx)
    body = certificate.serial[:-1]
    wrong = next(c for c in "0123456789" if body + c != certificate.serial)
    for serial, code, words in (
        ("GC-2025-12", "malformed_serial", "不是证书编号"),
        (body + wrong, "wrong_check_character", "最后一位"),
        (str(Serial("GC", 2025, 424_242)), "certificate_not_found", "没有签发"),
    ):
        response = client.get(
            f"/api/v1/certificates/{serial}", headers={"Accept-Language": "zh-CN"}
        )
        assert response.status_code == 404
        error = response.get_json()["error"]
        assert error["code"] == code
        assert words in error["message"]


def test_revoke_needs_a_reason_is_audited_and_shows_on_verification(app_ctx, client):
    _t, _c, _u, (certificate,) = drawn_course(app_ctx)
    admin = _as(make_admin())
    url = f"/api/v1/certificates/{certificate.serial}/revoke"
    refused = client.post(url, json={}, headers=admin)
    assert refused.status_code == 422
    assert "reason" in refused.get_json()["error"]["fields"]
    revoked = client.post(url, json={"reason": "考勤记录更正"}, headers=admin)
    assert revoked.status_code == 200
    assert revoked.get_json()["status"] == "revoked"
    entries = db.session.scalars(
        sa.select(AuditLogEntry).where(AuditLogEntry.action == "certificate.revoke")
    ).all()
    assert [e.data["reason"] for e in entries] == ["考勤记录更正"]
    shown = client.get(f"/api/v1/certificates/{certificate.serial}").get_json()
    assert shown["status"] == "revoked" and shown["revoked_at"]
    again = client.post(url, json={"reason": "再次"}, headers=admin)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "not_valid"


def test_reissue_after_a_name_change_supersedes_the_old_number(app_ctx, client):
    _t, _c, (user,), (certificate,) = drawn_course(app_ctx, names=("周小健",))
    user.name = "吴小健"
    db.session.commit()
    response = client.post(
        f"/api/v1/certificates/{certificate.serial}/reissue", headers=_as(make_admin())
    )
    assert response.status_code == 201
    new = response.get_json()
    assert "-V2-" in new["serial"] and new["holder_name"] == "吴小健"
    assert new["pdf_url"] is None  # drawn by a worker later
    old = client.get(f"/api/v1/certificates/{certificate.serial}").get_json()
    assert old["status"] == "superseded"
    assert (old["holder"], old["course_title"], old["issued_at"]) == (None, None, None)
    shown = client.get(f"/api/v1/certificates/{new['serial']}").get_json()
    assert (shown["status"], shown["holder"]) == ("valid", "吴*健")


def test_a_course_lists_its_certificates_for_its_trainers_and_admins(app_ctx, client):
    trainer, course, _u, _c = drawn_course(app_ctx, learners=2)
    url = f"/api/v1/courses/{course.id}/certificates"
    assert client.get(url, headers=_as(trainer)).get_json()["total"] == 2
    assert client.get(url, headers=_as(make_admin())).get_json()["total"] == 2
    assert client.get(url, headers=_as(make_trainer())).status_code == 403


def test_learners_may_not_revoke_or_reissue(app_ctx, client):
    _t, _c, (user,), (certificate,) = drawn_course(app_ctx)
    for action in ("revoke", "reissue"):
        response = client.post(
            f"/api/v1/certificates/{certificate.serial}/{action}",
            json={"reason": "x"},
            headers=_as(user),
        )
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"


def test_a_transcript_request_issues_a_proof(app_ctx, client):
    _t, course, (user,), _c = drawn_course(app_ctx)
    year = course.sessions[0].starts_at.year
    response = client.post("/api/v1/me/transcripts", json={"year": year}, headers=_as(user))
    assert response.status_code == 201
    body = response.get_json()
    assert (body["kind"], body["pdf_url"]) == ("transcript", None)
    assert [c.serial for c in all_certificates() if c.kind == "transcript"] == [body["serial"]]


def test_a_transcript_without_hours_is_refused(app_ctx, client):
    response = client.post("/api/v1/me/transcripts", json={}, headers=_as(make_user()))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "no_hours"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 0


def test_the_openapi_document_covers_the_certificate_routes(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/me/certificates",
        "/api/v1/certificates/{serial}",
        "/api/v1/certificates/{serial}/revoke",
        "/api/v1/certificates/{serial}/reissue",
        "/api/v1/courses/{course_id}/certificates",
        "/api/v1/me/transcripts",
    ):
        assert path in paths, path


def test_the_api_hands_the_pdf_to_its_holder_and_no_one_else(app_ctx, client):
    from tests.certificate_helpers import drawn_course
    from tests.factories import bearer, make_token, make_user

    _, _, (user,), (certificate,) = drawn_course(app_ctx)
    mine = client.get("/api/v1/me/certificates", headers=bearer(make_token(user))).get_json()
    url = mine["items"][0]["pdf_url"]
    assert url == f"/api/v1/certificates/{certificate.serial}/pdf"
    pdf = client.get(url, headers=bearer(make_token(user)))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "filename*=UTF-8''" in pdf.headers["Content-Disposition"]
    pdf.close()
    stranger = client.get(url, headers=bearer(make_token(make_user())))
    assert stranger.status_code == 403
    assert stranger.get_json()["error"]["code"] == "forbidden"


def test_the_learners_list_is_paginated_in_sql(app_ctx, client):
    from courses.services import certificates as service
    from tests.certificate_helpers import completed_course
    from tests.factories import bearer, make_token

    _, _, (user,), (enrolment,) = completed_course()
    service.issue_for_enrolment(enrolment.id)
    service.request_transcript(user, year=2025)
    db.session.commit()
    headers = bearer(make_token(user))
    first = client.get("/api/v1/me/certificates?per_page=1", headers=headers).get_json()
    second = client.get("/api/v1/me/certificates?per_page=1&page=2", headers=headers).get_json()
    assert (first["total"], first["page"], len(first["items"])) == (2, 1, 1)
    assert first["items"][0]["serial"] != second["items"][0]["serial"]
