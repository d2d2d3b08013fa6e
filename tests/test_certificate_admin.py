"""Admin pages of certificates (search, detail, revoke, re-issue, settings) and of the
outbox (pending and dead rows, retry)."""

from __future__ import annotations

import io

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from courses.db import db
from courses.models import AuditLogEntry, Certificate, CertificateStatus, OutboxEvent, OutboxStatus
from courses.services import certificates
from tests.certificate_helpers import all_certificates, drawn_course
from tests.factories import make_admin, make_trainer, make_user


def _image(kind: str) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (120, 120), (200, 30, 30)).save(out, kind)
    return out.getvalue()


PNG = _image("PNG")
JPEG = _image("JPEG")


def _html(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def test_admins_search_by_number_name_and_course(app_ctx, login_as):
    _t, course, _u, issued = drawn_course(app_ctx, learners=2, names=("周小健", "欧阳小华"))
    client = login_as(make_admin())
    html = _html(client.get("/admin/certificates"))
    assert all(c.serial in html for c in issued)
    html = _html(client.get("/admin/certificates", query_string={"q": "欧阳"}))
    assert issued[1].serial in html and issued[0].serial not in html
    html = _html(client.get("/admin/certificates", query_string={"q": issued[0].serial}))
    assert issued[0].serial in html and issued[1].serial not in html
    html = _html(client.get("/admin/certificates", query_string={"q": course.title}))
    assert all(c.serial in html for c in issued)
    html = _html(client.get("/admin/certificates", query_string={"status": "revoked"}))
    assert not any(c.serial in html for c in issued)
    html = _html(client.get("/admin/certificates", query_string={"kind": "course"}))
    assert all(c.serial in html for c in issued)


def test_the_list_takes_as_many_statements_for_many_certificates_as_for_one(
    app_ctx, login_as, count_queries
):
    drawn_course(app_ctx, learners=1, title="第一期")
    client = login_as(make_admin())
    client.get("/admin/certificates")
    with count_queries() as few:
        assert client.get("/admin/certificates").status_code == 200
    drawn_course(app_ctx, learners=5, title="第二期")
    with count_queries() as many:
        html = _html(client.get("/admin/certificates"))
    assert html.count("/admin/certificates/GC-") == 6
    # SQLite's own BEGIN comes with a fresh connection only: the statements are compared.
    assert [q for q in many if q != "BEGIN"] == [q for q in few if q != "BEGIN"]


def test_revoking_needs_a_reason_and_is_shown_everywhere(app_ctx, login_as, client):
    _t, _c, _u, (certificate,) = drawn_course(app_ctx)
    admin = login_as(make_admin())
    url = f"/admin/certificates/{certificate.serial}/revoke"
    refused = admin.post(url, data={"reason": ""})
    assert refused.status_code == 422
    assert "请说明撤销证书的原因" in _html(refused)
    done = admin.post(url, data={"reason": "考勤更正"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Certificate, certificate.id).status == CertificateStatus.REVOKED
    assert db.session.scalar(
        sa.select(AuditLogEntry).where(AuditLogEntry.action == "certificate.revoke")
    )
    detail = _html(admin.get(f"/admin/certificates/{certificate.serial}"))
    assert (
        "考勤更正" in detail
        and "撤销证书" not in detail.split("</h1>", 1)[1].split('id="history"')[0]
    )
    verify = _html(admin.get(f"/verify/{certificate.serial}"))
    revoked_on = db.session.get(Certificate, certificate.id).revoked_at
    assert "已撤销" in verify and revoked_on.strftime("%Y-") in verify


def test_reissue_goes_to_the_new_version_and_the_history_lists_both(app_ctx, login_as):
    _t, _c, (user,), (certificate,) = drawn_course(app_ctx, names=("周小健",))
    user.name = "吴小健"
    db.session.commit()
    client = login_as(make_admin())
    response = client.post(f"/admin/certificates/{certificate.serial}/reissue")
    assert response.status_code == 302
    new = next(c for c in all_certificates() if c.id != certificate.id)
    assert "-V2-" in new.serial
    assert response.headers["Location"] == f"/admin/certificates/{new.serial}"
    history = _html(client.get(response.headers["Location"])).split('id="history"', 1)[1]
    assert certificate.serial in history and new.serial in history
    assert "已取代" in history and "周小健" in history and "吴小健" in history
    assert "此证书已被新版本取代" in _html(client.get(f"/verify/{certificate.serial}"))
    assert "吴*健" in _html(client.get(f"/verify/{new.serial}"))


def test_settings_save_a_png_seal_and_show_it(app_ctx, login_as):
    client = login_as(make_admin())
    response = client.post(
        "/admin/certificates/settings",
        data={
            "academy_name": "关爱桂城社工学院",
            "signatory": "陈院长",
            "seal": (io.BytesIO(PNG), "seal.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.session.expire_all()
    settings = certificates.certificate_settings()
    assert (settings.academy_name, settings.signatory) == ("关爱桂城社工学院", "陈院长")
    assert settings.seal_key
    html = _html(client.get("/admin/certificates/settings"))
    assert 'src="data:image/png;base64,' in html and "陈院长" in html


def test_settings_refuse_a_text_file_named_png(app_ctx, login_as):
    client = login_as(make_admin())
    response = client.post(
        "/admin/certificates/settings",
        data={"academy_name": "学院", "seal": (io.BytesIO(b"just text\n"), "seal.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "印章必须是 PNG 或 JPEG 图片" in _html(response)
    db.session.expire_all()
    assert certificates.certificate_settings().seal_key is None


def test_settings_take_a_seal_up_to_2_mb_and_refuse_a_larger_one(app_ctx, login_as):
    client = login_as(make_admin())

    def upload(size: int):  # type: ignore[no-untyped-def]
        image = JPEG + b"\x00" * (size - len(JPEG))  # a real JPEG, padded after its end
        fields = {"academy_name": "学院", "seal": FileStorage(io.BytesIO(image), "seal.jpg")}
        # Encoded here, in memory: the test client spools a large body to a file it
        # never closes.
        boundary, body = encode_multipart(fields)
        return client.post(
            "/admin/certificates/settings",
            data=body,
            content_type=f"multipart/form-data; boundary={boundary}",
        )

    refused = upload(2 * 1024 * 1024 + 1)
    assert refused.status_code == 422
    assert "印章图片不能超过 2 MB" in _html(refused)
    assert upload(1536 * 1024).status_code == 302
    db.session.expire_all()
    assert certificates.seal_image()[1] == "image/jpeg"


def _events() -> tuple[OutboxEvent, OutboxEvent]:
    dead = OutboxEvent(
        topic="certificate.issued",
        payload={"certificate_id": 999},
        status=OutboxStatus.DEAD,
        attempts=8,
        last_error="RuntimeError: the font is missing",
    )
    waiting = OutboxEvent(topic="notification.email", payload={"to": 1})
    db.session.add_all([dead, waiting])
    db.session.commit()
    return dead, waiting


def test_the_outbox_lists_dead_rows_and_retry_puts_them_back(app_ctx, login_as):
    dead, _waiting = _events()
    client = login_as(make_admin())
    html = _html(client.get("/admin/outbox", query_string={"status": "dead"}))
    rows = html.split('id="rows"', 1)[1]
    assert f'id="event-{dead.id}"' in rows and "the font is missing" in rows
    response = client.post(f"/admin/outbox/{dead.id}/retry", data={"tab": "dead"})
    assert response.status_code == 302
    db.session.expire_all()
    again = db.session.get(OutboxEvent, dead.id)
    assert (again.status, again.attempts) == (OutboxStatus.PENDING, 0)


def test_rows_without_a_consumer_are_shown_apart_as_waiting(app_ctx, login_as):
    _dead, waiting = _events()
    html = _html(login_as(make_admin()).get("/admin/outbox"))
    assert "notification.email" in html.split('id="counts"', 1)[1]
    assert f'id="event-{waiting.id}"' in html.split('id="unconsumed"', 1)[1]
    assert f'id="event-{waiting.id}"' not in html.split('id="unconsumed"', 1)[0]
    assert "等待处理程序上线" in html


def test_the_admin_menu_links_both_pages(app_ctx, login_as):
    html = _html(login_as(make_admin()).get("/admin/users"))
    assert 'href="/admin/certificates"' in html and 'href="/admin/outbox"' in html


def test_learners_and_trainers_get_403_on_the_admin_pages(app_ctx, login_as, app):
    _t, _c, _u, (certificate,) = drawn_course(app_ctx)
    for user in (make_user(), make_trainer()):
        client = app.test_client()
        login = client.post("/login", data={"login": user.email, "password": "correct-horse-9"})
        assert login.status_code == 302
        for url in (
            "/admin/certificates",
            f"/admin/certificates/{certificate.serial}",
            "/admin/certificates/settings",
            "/admin/outbox",
        ):
            assert client.get(url).status_code == 403, url
        revoke = client.post(
            f"/admin/certificates/{certificate.serial}/revoke", data={"reason": "x"}
        )
        assert revoke.status_code == 403


def test_settings_refuse_a_damaged_image(app_ctx, login_as):
    client = login_as(make_admin())
    response = client.post(
        "/admin/certificates/settings",
        data={"academy_name": "学院", "seal": (io.BytesIO(PNG[: len(PNG) // 2]), "seal.png")},
    )
    assert response.status_code == 422
    assert "图片文件已损坏" in _html(response)
    db.session.expire_all()
    assert certificates.seal_image() is None


def test_an_admin_removes_the_seal_and_issued_certificates_keep_theirs(app_ctx, login_as):
    client = login_as(make_admin())
    saved = client.post(
        "/admin/certificates/settings",
        data={"academy_name": "学院", "seal": (io.BytesIO(PNG), "seal.png")},
    )
    assert saved.status_code == 302
    db.session.expire_all()
    old_key = certificates.certificate_settings().seal_key
    assert old_key
    removed = client.post(
        "/admin/certificates/settings", data={"academy_name": "学院", "remove_seal": "y"}
    )
    assert removed.status_code == 302
    db.session.expire_all()
    assert certificates.certificate_settings().seal_key is None
    assert certificates.seal_image() is None
