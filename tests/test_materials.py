"""Course materials (课件): validated uploads, storage outside the web root, downloads
only for the course's enrolled learners, trainers and admins (issue 3, item 3)."""

from __future__ import annotations

import io
import re
import shutil
import struct
import zipfile
import zlib
from pathlib import Path
from urllib.parse import quote

import openpyxl
import pytest
import sqlalchemy as sa

from courses.db import db
from courses.errors import PermissionDenied, ValidationFailed
from courses.models import AuditLogEntry, CourseMaterial, EnrolmentStatus
from courses.services import materials
from courses.storage import FileTooLarge, InvalidKey, LocalStorage, get_storage, new_key
from tests.conftest import make_app
from tests.factories import (
    DEFAULT_PASSWORD,
    bearer,
    make_admin,
    make_course,
    make_enrolment,
    make_token,
    make_trainer,
    make_user,
)

# --- real files, built here ---------------------------------------------------------------------


def pdf_bytes(text: str = "Academy") -> bytes:
    """A minimal but complete PDF document: one page, one line of text, a valid xref."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def docx_bytes() -> bytes:
    """A Word document: the Office Open XML package a word processor writes, reduced."""
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        "</Types>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="word/document.xml" Type="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
        "</Relationships>"
    )
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>社会工作伦理</w:t></w:r></w:p></w:body></w:document>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", content_types)
        package.writestr("_rels/.rels", rels)
        package.writestr("word/document.xml", document)
    return out.getvalue()


def xlsx_bytes() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["姓名", "课时"])
    sheet.append(["张三", 3])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def png_bytes() -> bytes:
    """A real 1×1 PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x0f\x6e\x66")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def legacy_doc_bytes() -> bytes:
    """The start of an OLE compound file whose directory names a WordDocument stream."""
    return (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 504
        + "Root Entry".encode("utf-16-le")
        + b"\x00" * 54
        + "WordDocument".encode("utf-16-le")
        + b"\x00" * 400
    )


PE_EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 50 + b"PE\x00\x00"
ELF_EXECUTABLE = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
SHELL_SCRIPT = b"#!/bin/sh\nrm -rf --no-preserve-root /\n"

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- fixtures and helpers -----------------------------------------------------------------------


@pytest.fixture
def uploads(app) -> Path:  # type: ignore[no-untyped-def]
    """The uploads folder of the test instance, emptied before each test."""
    root = Path(app.config["INSTANCE_PATH"]) / "uploads"
    shutil.rmtree(root, ignore_errors=True)
    return root


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def material_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(CourseMaterial))


@pytest.fixture
def trainer(app_ctx):  # type: ignore[no-untyped-def]
    return make_trainer(name="李讲师")


@pytest.fixture
def course(trainer):  # type: ignore[no-untyped-def]
    return make_course("社会工作伦理", trainers=[trainer], sessions=2)


def upload_page(client, course_id: int, data: bytes, filename: str, **fields):  # type: ignore[no-untyped-def]
    return client.post(
        f"/courses/{course_id}/materials",
        data={"file": (io.BytesIO(data), filename), **fields},
        content_type="multipart/form-data",
    )


def upload_api(client, course_id: int, token: str, data: bytes, filename: str, **fields):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/courses/{course_id}/materials",
        data={"file": (io.BytesIO(data), filename), **fields},
        content_type="multipart/form-data",
        headers=bearer(token),
    )


def store(user, course, data: bytes = b"", filename: str = "讲义.pdf", **kwargs):  # type: ignore[no-untyped-def]
    material = materials.upload(user, course, io.BytesIO(data or pdf_bytes()), filename, **kwargs)
    db.session.commit()
    return material


def assert_error(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


# --- accepted uploads ---------------------------------------------------------------------------


def test_a_trainer_uploads_a_pdf_on_the_page_and_it_is_stored_outside_the_web_root(
    app, course, trainer, login_as, uploads, flashed
):
    data = pdf_bytes()
    response = upload_page(
        login_as(trainer), course.id, data, "第一讲 伦理守则.pdf", title="第一讲"
    )

    assert response.status_code == 302
    assert ("success", "第一讲 has been uploaded.") in flashed or flashed[-1][0] == "success"
    material = db.session.scalars(sa.select(CourseMaterial)).one()
    assert (material.title, material.filename) == ("第一讲", "第一讲 伦理守则.pdf")
    assert (material.content_type, material.size_bytes) == ("application/pdf", len(data))
    assert material.uploaded_by_id == trainer.id
    [path] = stored_files(uploads)
    assert path.read_bytes() == data
    assert uploads.resolve() in path.resolve().parents
    static = Path(app.static_folder).resolve()
    assert static not in path.resolve().parents
    entry = db.session.scalars(
        sa.select(AuditLogEntry).where(AuditLogEntry.action == "material.upload")
    ).one()
    assert (entry.actor_id, entry.object_id) == (trainer.id, material.id)


@pytest.mark.parametrize(
    ("build", "filename", "content_type"),
    [
        (pdf_bytes, "课件.pdf", "application/pdf"),
        (docx_bytes, "讲义.docx", DOCX_TYPE),
        (xlsx_bytes, "签到表.XLSX", XLSX_TYPE),
        (png_bytes, "合影.png", "image/png"),
        (legacy_doc_bytes, "旧讲义.doc", "application/msword"),
    ],
)
def test_real_documents_and_images_are_accepted_through_the_api(
    client, course, trainer, uploads, build, filename, content_type
):
    data = build()
    response = upload_api(client, course.id, make_token(trainer), data, filename)

    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["filename"], body["content_type"]) == (filename, content_type)
    assert body["size_bytes"] == len(data)
    assert body["title"] == filename.rsplit(".", 1)[0]
    assert body["download_url"] == f"/api/v1/materials/{body['id']}"
    [path] = stored_files(uploads)
    assert path.read_bytes() == data


@pytest.mark.parametrize(
    ("head", "filename", "content_type"),
    [
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", "录像.mp4", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ", "录像.mov", "video/quicktime"),
        (
            b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm\x42\x87\x81\x04",
            "录像.webm",
            "video/webm",
        ),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "动图.gif", "image/gif"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "照片.jpg", "image/jpeg"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "照片.webp", "image/webp"),
    ],
)
def test_videos_and_other_images_are_recognised_by_their_signatures(
    course, trainer, uploads, head, filename, content_type
):
    material = store(trainer, course, head + b"\x00" * 64, filename)
    assert material.content_type == content_type


def test_a_file_name_without_extension_gets_the_one_of_its_content(course, trainer, uploads):
    material = store(trainer, course, png_bytes(), "合影")
    assert (material.filename, material.content_type) == ("合影.png", "image/png")


def test_an_admin_may_upload_to_any_course(course, login_as, uploads):
    admin = make_admin()
    response = upload_page(login_as(admin), course.id, pdf_bytes(), "课件.pdf")
    assert response.status_code == 302
    assert material_count() == 1


def test_a_material_may_belong_to_one_session_of_the_course(course, trainer, uploads):
    session = course.sessions[1]
    material = store(trainer, course, session_id=session.id)
    assert material.session_id == session.id

    other = make_course(trainers=[trainer], sessions=1)
    with pytest.raises(ValidationFailed) as caught:
        materials.upload(
            trainer, course, io.BytesIO(pdf_bytes()), "x.pdf", session_id=other.sessions[0].id
        )
    assert "session_id" in caught.value.fields


# --- refused uploads: nothing is kept -----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (PE_EXECUTABLE, "课件.pdf"),
        (ELF_EXECUTABLE, "讲义.docx"),
        (SHELL_SCRIPT, "讲义.docx"),
        (b"just some text, nothing we know\n", "说明.pdf"),
        (png_bytes(), "伪装.pdf"),  # a real image, named as something else
        (pdf_bytes(), "课件.exe"),
        (docx_bytes(), "讲义.xlsx"),
    ],
)
def test_programs_unknown_types_and_wrong_extensions_are_refused_on_the_page(
    course, trainer, login_as, uploads, flashed, data, filename
):
    response = upload_page(login_as(trainer), course.id, data, filename)

    assert response.status_code == 302
    assert flashed and flashed[-1][0] == "error"
    assert material_count() == 0
    assert stored_files(uploads) == []


@pytest.mark.parametrize(
    ("data", "filename"),
    [(PE_EXECUTABLE, "课件.pdf"), (ELF_EXECUTABLE, "a.docx"), (SHELL_SCRIPT, "a.docx")],
)
def test_a_renamed_executable_is_refused_by_the_api_with_a_code(
    client, course, trainer, uploads, data, filename
):
    response = upload_api(client, course.id, make_token(trainer), data, filename)

    error = assert_error(response, 422, "unsupported_file_type")
    assert "program" in error["message"] or "程序" in error["message"]
    assert material_count() == 0
    assert stored_files(uploads) == []


def test_a_zip_that_is_not_an_office_document_is_refused(course, trainer, uploads):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("payload.exe", PE_EXECUTABLE)
    with pytest.raises(ValidationFailed) as caught:
        materials.upload(trainer, course, io.BytesIO(out.getvalue()), "讲义.docx")
    assert caught.value.code == "unsupported_file_type"
    assert stored_files(uploads) == []


def test_an_empty_file_is_refused(client, course, trainer, uploads):
    response = upload_api(client, course.id, make_token(trainer), b"", "空.pdf")
    assert_error(response, 422, "empty_file")
    assert material_count() == 0
    assert stored_files(uploads) == []


def test_a_request_without_a_file_is_refused(client, course, trainer, uploads):
    response = client.post(
        f"/api/v1/courses/{course.id}/materials",
        data={"title": "无文件"},
        content_type="multipart/form-data",
        headers=bearer(make_token(trainer)),
    )
    assert_error(response, 422, "validation_error")


@pytest.fixture
def small_limit_app(app):  # type: ignore[no-untyped-def]
    """The same database and instance, with uploads limited to 2,000 bytes."""
    return make_app(MAX_UPLOAD_BYTES=2000)


def test_a_file_over_the_configured_limit_is_refused(small_limit_app, app_ctx, uploads):
    trainer = make_trainer()
    course = make_course(trainers=[trainer])
    client = small_limit_app.test_client()
    token = make_token(trainer)
    too_big = pdf_bytes() + b"%" + b"x" * 2000

    response = upload_api(client, course.id, token, too_big, "大文件.pdf")

    assert_error(response, 422, "file_too_large")
    assert material_count() == 0
    assert stored_files(uploads) == []

    page = small_limit_app.test_client()
    page.post("/login", data={"login": trainer.email, "password": DEFAULT_PASSWORD})
    assert upload_page(page, course.id, too_big, "大文件.pdf").status_code == 302
    assert material_count() == 0

    just_fits = pdf_bytes() + b"%" + b"x" * (2000 - len(pdf_bytes()) - 1)
    assert len(just_fits) == 2000
    assert upload_api(client, course.id, token, just_fits, "刚好.pdf").status_code == 201


def test_the_limit_holds_for_streams_of_unknown_length(course, trainer, uploads, app):
    class Unseekable(io.RawIOBase):
        def __init__(self, data: bytes):
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def read(self, size: int = -1) -> bytes:
            return self._data.read(size)

    app.config["MAX_UPLOAD_BYTES"] = 1000
    try:
        with pytest.raises(ValidationFailed) as caught:
            materials.upload(trainer, course, Unseekable(pdf_bytes() + b"x" * 1000), "a.pdf")
        assert caught.value.code == "file_too_large"
        material = materials.upload(trainer, course, Unseekable(pdf_bytes()), "b.pdf")
        assert material.size_bytes == len(pdf_bytes())
    finally:
        del app.config["MAX_UPLOAD_BYTES"]
    db.session.rollback()
    assert stored_files(uploads) == []


# --- permissions --------------------------------------------------------------------------------


def test_a_trainer_of_another_course_cannot_upload(client, course, login_as, uploads):
    stranger = make_trainer()
    assert (
        upload_api(client, course.id, make_token(stranger), pdf_bytes(), "a.pdf").status_code == 403
    )
    assert upload_page(login_as(stranger), course.id, pdf_bytes(), "a.pdf").status_code == 403
    assert material_count() == 0
    assert stored_files(uploads) == []


def test_a_learner_cannot_upload_even_when_enrolled(client, course, uploads):
    learner = make_user()
    make_enrolment(course, learner)
    response = upload_api(client, course.id, make_token(learner), pdf_bytes(), "a.pdf")
    assert_error(response, 403, "forbidden")
    assert stored_files(uploads) == []


def test_uploading_needs_a_login_or_a_token(app, client, course, uploads):
    response = upload_page(client, course.id, pdf_bytes(), "a.pdf")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert upload_api(client, course.id, "no-such-token", pdf_bytes(), "a.pdf").status_code == 401
    assert material_count() == 0


def test_uploading_to_a_missing_course_is_a_404(client, trainer, login_as, uploads):
    admin = make_admin()
    assert upload_api(client, 999_999, make_token(admin), pdf_bytes(), "a.pdf").status_code == 404
    assert upload_page(login_as(admin), 999_999, pdf_bytes(), "a.pdf").status_code == 404


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        (EnrolmentStatus.ENROLLED, True),
        (EnrolmentStatus.COMPLETED, True),
        (EnrolmentStatus.PENDING, False),
        (EnrolmentStatus.WAITLISTED, False),
        (EnrolmentStatus.CANCELLED, False),
        (EnrolmentStatus.REJECTED, False),
    ],
)
def test_learners_download_only_while_enrolled_or_completed(
    app, course, trainer, uploads, login_as, status, allowed
):
    data = pdf_bytes("enrolled only")
    material = store(trainer, course, data)
    learner = make_user()
    position = 1 if status == EnrolmentStatus.WAITLISTED else None
    make_enrolment(course, learner, status, waitlist_position=position)

    page = login_as(learner).get(f"/materials/{material.id}", buffered=True)
    api = app.test_client().get(
        f"/api/v1/materials/{material.id}", headers=bearer(make_token(learner)), buffered=True
    )

    if allowed:
        assert (page.status_code, api.status_code) == (200, 200)
        assert page.data == data and api.data == data
    else:
        assert (page.status_code, api.status_code) == (403, 403)
        assert_error(api, 403, "forbidden")


def test_a_learner_who_is_not_enrolled_gets_403(app, client, course, trainer, uploads, login_as):
    material = store(trainer, course)
    learner = make_user()
    other = make_course()
    make_enrolment(other, learner)  # enrolled elsewhere does not count

    assert login_as(learner).get(f"/materials/{material.id}").status_code == 403
    response = app.test_client().get(
        f"/api/v1/materials/{material.id}", headers=bearer(make_token(learner))
    )
    assert_error(response, 403, "forbidden")


def test_trainers_of_the_course_and_admins_download_others_do_not(app, course, trainer, uploads):
    data = pdf_bytes()
    material = store(trainer, course, data)
    for user, status in (
        (trainer, 200),
        (make_admin(), 200),
        (make_trainer(), 403),
    ):
        response = app.test_client().get(
            f"/api/v1/materials/{material.id}", headers=bearer(make_token(user)), buffered=True
        )
        assert response.status_code == status
        if status == 200:
            assert response.data == data


def test_anonymous_visitors_are_sent_to_log_in(client, course, trainer, uploads):
    material = store(trainer, course)
    response = client.get(f"/materials/{material.id}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert_error(client.get(f"/api/v1/materials/{material.id}"), 401, "unauthorized")
    with pytest.raises(PermissionDenied):
        materials.get_for_download(None, material)


def test_a_missing_material_is_a_404(app, app_ctx, client, login_as, uploads):
    admin = make_admin()
    assert login_as(admin).get("/materials/999999").status_code == 404
    assert_error(
        app.test_client().get("/api/v1/materials/999999", headers=bearer(make_token(admin))),
        404,
        "not_found",
    )


# --- the download -------------------------------------------------------------------------------


def test_the_download_is_an_attachment_with_a_utf8_name_and_no_sniffing(
    course, trainer, uploads, login_as
):
    data = pdf_bytes()
    material = store(trainer, course, data, "第一讲 社会工作伦理.pdf")
    learner = make_user()
    make_enrolment(course, learner)

    response = login_as(learner).get(f"/materials/{material.id}", buffered=True)

    assert response.status_code == 200
    assert response.data == data
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert f"filename*=UTF-8''{quote('第一讲 社会工作伦理.pdf')}" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Length"] == str(len(data))
    assert "no-store" in response.headers["Cache-Control"]


def test_the_stored_type_is_sent_whatever_the_request_asks(course, trainer, uploads, login_as):
    data = docx_bytes()
    material = store(trainer, course, data, "讲义.docx")
    response = login_as(trainer).get(
        f"/materials/{material.id}", headers={"Accept": "text/html"}, buffered=True
    )
    assert response.mimetype == DOCX_TYPE
    assert response.data == data


# --- deleting -----------------------------------------------------------------------------------


def test_a_trainer_deletes_a_material_and_its_file_on_the_page(course, trainer, uploads, login_as):
    material = store(trainer, course)
    [path] = stored_files(uploads)

    response = login_as(trainer).post(f"/materials/{material.id}/delete")

    assert response.status_code == 302
    assert material_count() == 0
    assert not path.exists()
    assert db.session.scalar(
        sa.select(AuditLogEntry.id).where(AuditLogEntry.action == "material.delete")
    )


def test_deleting_through_the_api(client, course, trainer, uploads):
    material = store(trainer, course)
    token = make_token(trainer)
    response = client.delete(f"/api/v1/materials/{material.id}", headers=bearer(token))
    assert response.status_code == 204
    assert material_count() == 0
    assert stored_files(uploads) == []
    assert_error(
        client.delete(f"/api/v1/materials/{material.id}", headers=bearer(token)), 404, "not_found"
    )


def test_only_managers_of_the_course_delete(app, client, course, trainer, uploads, login_as):
    material = store(trainer, course)
    learner = make_user()
    make_enrolment(course, learner)
    for user in (learner, make_trainer()):
        response = app.test_client().delete(
            f"/api/v1/materials/{material.id}", headers=bearer(make_token(user))
        )
        assert_error(response, 403, "forbidden")
    assert login_as(learner).post(f"/materials/{material.id}/delete").status_code == 403
    assert material_count() == 1
    assert len(stored_files(uploads)) == 1


def test_a_deletion_that_is_rolled_back_keeps_the_file(course, trainer, uploads):
    material = store(trainer, course)
    materials.delete(trainer, material)
    db.session.rollback()
    assert material_count() == 1
    assert len(stored_files(uploads)) == 1

    materials.delete(trainer, db.session.get(CourseMaterial, material.id))
    db.session.commit()
    assert stored_files(uploads) == []


# --- nothing half-done --------------------------------------------------------------------------


def test_an_upload_whose_transaction_does_not_commit_leaves_no_file(course, trainer, uploads):
    materials.upload(trainer, course, io.BytesIO(pdf_bytes()), "a.pdf")
    assert len(stored_files(uploads)) == 1
    db.session.rollback()
    assert stored_files(uploads) == []
    assert material_count() == 0


def test_when_writing_the_row_fails_the_stored_file_is_removed(
    course, trainer, uploads, monkeypatch
):
    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database write failed")

    monkeypatch.setattr(materials.audit, "record", broken)
    with pytest.raises(RuntimeError):
        materials.upload(trainer, course, io.BytesIO(pdf_bytes()), "a.pdf")
    assert stored_files(uploads) == []
    db.session.rollback()
    assert material_count() == 0


def test_when_storing_fails_no_row_is_written(course, trainer, uploads, monkeypatch):
    class FullDisk(LocalStorage):
        def save(self, stream, key, max_bytes=None):  # type: ignore[no-untyped-def]
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(materials, "get_storage", lambda: FullDisk(uploads))
    with pytest.raises(OSError):
        materials.upload(trainer, course, io.BytesIO(pdf_bytes()), "a.pdf")
    db.session.commit()
    assert material_count() == 0


# --- storage ------------------------------------------------------------------------------------


def test_keys_are_random_and_never_come_from_the_file_name(course, trainer, uploads, login_as):
    response = upload_page(login_as(trainer), course.id, pdf_bytes(), "../../etc/passwd.pdf")

    assert response.status_code == 302
    material = db.session.scalars(sa.select(CourseMaterial)).one()
    assert material.filename == "passwd.pdf"
    assert "passwd" not in material.storage_key and ".." not in material.storage_key
    [path] = stored_files(uploads)
    assert path.name == material.storage_key.rsplit("/", 1)[-1]
    assert uploads.resolve() in path.resolve().parents
    assert not Path("/etc/passwd.pdf").exists()


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("..\\..\\windows\\system.ini.pdf", "system.ini.pdf"),
        ("  .隐藏文件.pdf", "隐藏文件.pdf"),
        ("a\x00b\r\n.pdf", "ab.pdf"),
        ('培训<2024>:"总结"?.pdf', "培训_2024___总结__.pdf"),
        ("社工考前培训（第二期）.pptx", "社工考前培训（第二期）.pptx"),
    ],
)
def test_file_names_are_cleaned_for_display_and_keep_chinese(raw, clean):
    assert materials.clean_filename(raw) == clean


@pytest.mark.parametrize(
    "key", ["../outside", "/etc/passwd", "materials/../../x", "materials/.hidden", "", "a//b"]
)
def test_local_storage_refuses_keys_that_could_leave_its_root(tmp_path, key):
    storage = LocalStorage(tmp_path)
    with pytest.raises(InvalidKey):
        storage.save(io.BytesIO(b"x"), key)
    with pytest.raises(InvalidKey):
        storage.open(key)


def test_local_storage_writes_whole_files_or_nothing(tmp_path):
    storage = LocalStorage(tmp_path)
    key = new_key("materials")
    assert storage.save(io.BytesIO(b"abc" * 1000), key) == 3000
    assert storage.exists(key)
    with storage.open(key) as handle:
        assert handle.read() == b"abc" * 1000

    class Interrupted(io.RawIOBase):
        sent = False

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            if self.sent:
                raise ConnectionResetError("client went away")
            self.sent = True
            return b"partial"

    broken_key = new_key("materials")
    with pytest.raises(ConnectionResetError):
        storage.save(Interrupted(), broken_key)
    with pytest.raises(FileTooLarge):
        storage.save(io.BytesIO(b"x" * 101), new_key("materials"), max_bytes=100)
    assert not storage.exists(broken_key)
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [key.split("/")[1]]

    storage.delete(key)
    storage.delete(key)  # deleting twice is harmless
    assert not storage.exists(key)


def test_the_storage_backend_comes_from_the_configuration(app, app_ctx):
    storage = get_storage()
    assert isinstance(storage, LocalStorage)
    assert storage.root == (Path(app.config["INSTANCE_PATH"]) / "uploads").resolve()
    app.config["STORAGE_BACKEND"] = "s3"
    try:
        with pytest.raises(Exception, match="STORAGE_BACKEND"):
            get_storage()
    finally:
        app.config["STORAGE_BACKEND"] = "local"


# --- pages and lists ----------------------------------------------------------------------------


def test_the_materials_page_shows_the_upload_form_only_to_managers(
    app, course, trainer, uploads, rendered
):
    store(trainer, course, filename="第一讲.pdf")
    learner = make_user()
    make_enrolment(course, learner)

    def page_for(user):  # type: ignore[no-untyped-def]
        client = app.test_client()
        if user is not None:
            client.post("/login", data={"login": user.email, "password": DEFAULT_PASSWORD})
        response = client.get(f"/courses/{course.id}/materials")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    manager_html = page_for(trainer)
    assert 'enctype="multipart/form-data"' in manager_html
    assert "第一讲" in manager_html
    assert 'name="session_id"' in manager_html
    assert "style=" not in manager_html
    assert re.findall(r'<script(?![^>]*\bsrc="/static/js/)', manager_html) == []

    learner_html = page_for(learner)
    assert 'enctype="multipart/form-data"' not in learner_html
    assert "/materials/" in learner_html

    visitor_html = page_for(None)
    assert "第一讲" in visitor_html
    assert 'href="/materials/' not in visitor_html


def test_a_draft_course_lists_its_materials_only_to_its_managers(app, client, trainer, uploads):
    from courses.models import PublicationStatus

    draft = make_course(trainers=[trainer], status=PublicationStatus.DRAFT)
    assert client.get(f"/courses/{draft.id}/materials").status_code == 404
    assert_error(client.get(f"/api/v1/courses/{draft.id}/materials"), 404, "not_found")
    response = client.get(
        f"/api/v1/courses/{draft.id}/materials", headers=bearer(make_token(trainer))
    )
    assert response.status_code == 200


def test_the_api_lists_a_courses_materials(client, course, trainer, uploads):
    first = store(trainer, course, filename="一.pdf")
    second = store(trainer, course, png_bytes(), "二.png")
    body = client.get(f"/api/v1/courses/{course.id}/materials").get_json()
    assert body["total"] == 2
    assert [item["id"] for item in body["items"]] == [first.id, second.id]
    assert body["items"][1]["content_type"] == "image/png"
    assert_error(client.get("/api/v1/courses/999999/materials"), 404, "not_found")
