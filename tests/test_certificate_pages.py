"""Certificate pages: the public verification, the learner's certificates and the
continuing-education proof, and the PDF downloads with their permissions."""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from pypdf import PdfReader

from courses.db import db
from courses.models import Certificate
from courses.services import certificates
from courses.services.certificates.serials import Serial
from tests.certificate_helpers import all_certificates, completed_course, drawn_course
from tests.conftest import make_app
from tests.factories import make_admin, make_course, make_trainer, make_user


def _page(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("name", "masked"), [("周小健", "周*健"), ("欧阳小华", "欧阳*华"), ("李明", "李*")]
)
def test_names_are_masked_as_verification_shows_them(name, masked):
    assert certificates.mask_name(name) == masked


def test_a_valid_certificate_verifies_in_green_with_the_masked_name_only(app_ctx, client):
    _trainer, course, _users, (certificate,) = drawn_course(app_ctx, names=("周小健",))
    response = client.get(f"/verify/{certificate.serial}")
    html = _page(response)
    assert response.status_code == 200
    assert "verify-valid" in html and "有效" in html
    assert "周*健" in html and "周小健" not in html
    assert course.title in html
    assert certificate.issued_at.astimezone().strftime("%Y") in html


def test_the_verify_form_looks_up_what_was_typed(app_ctx, client):
    _t, _c, _u, (certificate,) = drawn_course(app_ctx, names=("周小健",))
    assert "GC-2025-000123-7" in _page(client.get("/verify"))  # the example in the field
    typed = certificate.serial.lower().replace("-", "－")  # full-width dashes, lower case
    response = client.get("/verify", query_string={"serial": typed})
    assert response.status_code == 200
    assert "周*健" in _page(response)


def test_malformed_mistyped_and_unknown_numbers_are_404_with_their_reason(app_ctx, client):
    _t, _c, _u, (certificate,) = drawn_course(app_ctx)
    body = certificate.serial[:-1]
    wrong = next(c for c in "0123456789" if body + c != certificate.serial)
    unknown = str(Serial("GC", 2025, 999_999))
    for serial, code, words in (
        ("not-a-number", "malformed_serial", "不是证书编号"),
        (body + wrong, "wrong_check_character", "输入有误"),
        (unknown, "certificate_not_found", "没有签发"),
    ):
        response = client.get(f"/verify/{serial}")
        assert response.status_code == 404, serial
        html = _page(response)
        assert f'data-code="{code}"' in html
        assert words in html, (serial, html)


def test_a_revoked_certificate_verifies_in_red_with_its_date(app_ctx, client):
    _t, _c, _u, (certificate,) = drawn_course(app_ctx, names=("周小健",))
    certificates.revoke(certificate, make_admin(), "证书信息有误")
    db.session.commit()
    html = _page(client.get(f"/verify/{certificate.serial}"))
    assert "verify-revoked" in html and "已撤销" in html
    assert certificate.revoked_at.strftime("%Y-") in html


def test_a_superseded_certificate_says_so_and_nothing_personal(app_ctx, client):
    _t, course, (user,), (certificate,) = drawn_course(app_ctx, names=("周小健",))
    user.name = "周晓健"
    new = certificates.reissue(certificate, make_admin())
    db.session.commit()
    html = _page(client.get(f"/verify/{certificate.serial}"))
    assert "此证书已被新版本取代" in html
    for personal in ("周", course.title, new.serial):
        assert personal not in html.split("<main", 1)[1], personal


def test_the_learner_sees_their_certificates_with_links(app_ctx, login_as):
    _t, course, (user,), (certificate,) = drawn_course(app_ctx)
    html = _page(login_as(user).get("/me/certificates"))
    assert course.title in html and certificate.serial in html
    assert f"/certificates/{certificate.serial}.pdf" in html
    assert f"/verify/{certificate.serial}" in html
    assert 'href="/me/certificates"' in html  # in the menu


def test_a_certificate_still_being_drawn_says_so(app_ctx, login_as):
    _t, _c, (user,), (enrolment,) = completed_course()
    certificates.issue_for_enrolment(enrolment.id)  # issued; its drawing not yet run
    db.session.commit()
    (certificate,) = all_certificates()
    client = login_as(user)
    assert "证书生成中" in _page(client.get("/me/certificates"))
    response = client.get(f"/certificates/{certificate.serial}.pdf")
    assert response.status_code == 409
    assert "仍在生成" in _page(response)


def test_the_holder_downloads_a_real_pdf_with_a_chinese_file_name(app_ctx, login_as):
    _t, _c, (user,), (certificate,) = drawn_course(app_ctx, names=("周小健",))
    response = login_as(user).get(f"/certificates/{certificate.serial}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    name = f"结业证书-{certificate.serial}.pdf"
    disposition = response.headers["Content-Disposition"]
    assert f"filename*=UTF-8''{quote(name)}" in disposition
    assert f'filename="{certificate.serial}.pdf"' in disposition
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    response.close()
    assert "周小健" in text


@pytest.mark.parametrize(
    ("who", "status"),
    [("holder", 200), ("trainer", 200), ("admin", 200), ("other_trainer", 403), ("other", 403)],
)
def test_who_may_download_a_certificate(app_ctx, login_as, who, status):
    trainer, _c, (user,), (certificate,) = drawn_course(app_ctx)
    people = {
        "holder": user,
        "trainer": trainer,
        "admin": make_admin(),
        "other_trainer": make_trainer(),
        "other": make_user(),
    }
    response = login_as(people[who]).get(f"/certificates/{certificate.serial}.pdf")
    assert response.status_code == status
    response.close()


def test_an_anonymous_download_goes_to_the_login(app_ctx, client):
    _t, _c, _u, (certificate,) = drawn_course(app_ctx)
    response = client.get(f"/certificates/{certificate.serial}.pdf")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_a_superseded_certificate_is_not_downloaded(app_ctx, login_as):
    _t, _c, (user,), (certificate,) = drawn_course(app_ctx)
    certificates.reissue(certificate, make_admin())
    db.session.commit()
    assert login_as(user).get(f"/certificates/{certificate.serial}.pdf").status_code == 404


def test_the_course_pdf_holds_one_page_per_valid_certificate(app_ctx, login_as):
    trainer, course, _u, issued = drawn_course(app_ctx, learners=3)
    certificates.revoke(issued[0], make_admin(), "考勤更正")
    db.session.commit()
    client = login_as(trainer)
    assert f"/courses/{course.id}/certificates.pdf" in _page(
        client.get(f"/manage/courses/{course.id}")
    )
    response = client.get(f"/courses/{course.id}/certificates.pdf")
    assert response.status_code == 200
    assert len(PdfReader(io.BytesIO(response.data)).pages) == 2
    response.close()


def test_the_course_pdf_without_certificates_says_none_is_ready(app_ctx, login_as):
    trainer = make_trainer()
    course = make_course(trainers=[trainer])
    response = login_as(trainer).get(f"/courses/{course.id}/certificates.pdf")
    assert response.status_code == 409
    assert "还没有可打印的证书" in _page(response)


def test_another_trainer_may_not_print_the_course(app_ctx, login_as):
    _t, course, _u, _c = drawn_course(app_ctx)
    response = login_as(make_trainer()).get(f"/courses/{course.id}/certificates.pdf")
    assert response.status_code == 403


def test_a_transcript_request_issues_a_proof(app_ctx, login_as):
    _t, _c, (user,), _e = drawn_course(app_ctx)
    client = login_as(user)
    year = _c.sessions[0].starts_at.year
    response = client.post("/me/certificates/transcript", data={"period": str(year)})
    assert response.status_code == 302
    transcripts = [c for c in all_certificates() if c.kind == "transcript"]
    assert len(transcripts) == 1 and transcripts[0].year == year
    assert transcripts[0].serial in _page(client.get("/me/certificates"))


def test_a_refused_transcript_request_is_shown_beside_the_form(app_ctx, login_as):
    user = make_user()
    client = login_as(user)
    html = client.get("/me/certificates").get_data(as_text=True)
    assert "继续教育" in html
    year = html.split('<option value="', 2)[2].split('"', 1)[0]  # the first year offered
    response = client.post("/me/certificates/transcript", data={"period": year})
    assert response.status_code == 422
    page = _page(response)
    assert "该期间内还没有为您计入的课时" in page.split('id="transcript"', 1)[1]
    assert db.session.query(Certificate).count() == 0


def test_verification_is_limited_per_address(app):
    limited = make_app(RATELIMIT_ENABLED=True, VERIFY_RATE_LIMIT="2 per minute")
    client = limited.test_client()
    serial = str(Serial("GC", 2025, 1))
    with limited.app_context():
        assert client.get(f"/verify/{serial}").status_code == 404
        assert client.get(f"/api/v1/certificates/{serial}").status_code == 404
        assert client.get(f"/verify/{serial}").status_code == 429
