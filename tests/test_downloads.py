"""Every file the site sends, for a course titled in Chinese: each download answers 200
with a ``Content-Disposition`` that carries an ASCII ``filename`` and the UTF-8 name
(RFC 6266 / RFC 5987), and its content opens in an independent reader.

``DOWNLOADS`` lists them all; a route that sends a file and is missing from it fails
``test_every_route_that_sends_a_file_is_downloaded_here``.
"""

from __future__ import annotations

import ast
import csv
import inspect
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote

import openpyxl
import pytest
from flask import Flask
from icalendar import Calendar
from pypdf import PdfReader
from werkzeug.datastructures import Headers
from werkzeug.http import parse_options_header

import academy
from academy.downloads import DEFAULT_STEM, MAX_NAME_BYTES, content_disposition, download_name
from courses.db import db
from courses.models import Certificate, CertificateKind, Enrolment
from courses.services import calendar, materials
from courses.services.certificates.serials import next_serial
from courses.storage import get_storage
from tests.factories import (
    DEFAULT_PASSWORD,
    bearer,
    make_course,
    make_enrolment,
    make_organisation,
    make_token,
    make_trainer,
    make_user,
)
from tests.test_materials import pdf_bytes

TITLE = "社会工作伦理与实务（第二期）"
MATERIAL_NAME = f"{TITLE}讲义.xlsx"
ROSTER_HEADERS = ["序号", "姓名", "手机号", "邮箱", "所属机构", "状态"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The whole header: the plain name is printable ASCII without quotes or backslashes,
#: the extended one only RFC 5987 attr-chars and percent escapes.
DISPOSITION = re.compile(
    r"(?P<kind>attachment|inline); "
    r'filename="(?P<plain>[\x20\x21\x23-\x5b\x5d-\x7e]+)"; '
    r"filename\*=UTF-8''(?P<encoded>[A-Za-z0-9!#$&+\-.^_`|~%]+)"
)


# --- the academy whose files are downloaded ----------------------------------------------------


def material_xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["讲次", "主题"])
    sheet.append([1, "专业伦理守则"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.fixture
def world(app_ctx):  # type: ignore[no-untyped-def]
    trainer = make_trainer(name="陈老师")
    course = make_course(TITLE, sessions=2, trainers=[trainer])
    learner = make_user(
        name="张三",
        phone="13800000001",
        email=None,
        organisation=make_organisation("桂城街道平东社区"),
    )
    enrolment = make_enrolment(course, learner)
    certificate = drawn_certificate(enrolment)
    data = material_xlsx()
    material = materials.upload(trainer, course, io.BytesIO(data), MATERIAL_NAME)
    feed_token = calendar.issue_calendar_token(learner)
    db.session.commit()
    return SimpleNamespace(
        app=app_ctx,
        course=course,
        trainer=trainer,
        learner=learner,
        material=material,
        material_bytes=data,
        feed_token=feed_token,
        certificate=certificate,
    )


def drawn_certificate(enrolment: Enrolment) -> Certificate:
    """A valid certificate of the enrolment with a stored one-page PDF."""
    serial = next_serial(2026)
    certificate = Certificate(
        serial=str(serial),
        sequence=serial.sequence,
        kind=CertificateKind.COURSE,
        user_id=enrolment.user_id,
        enrolment_id=enrolment.id,
        course_id=enrolment.course_id,
        holder_name="张三",
        title=TITLE,
        class_hours=5,
        facts={"title": "结业证书", "course_title": TITLE, "class_hours": "5"},
        pdf_key=f"certificates/{serial}.pdf",
    )
    get_storage().save(io.BytesIO(pdf_bytes("Certificate")), certificate.pdf_key)
    db.session.add(certificate)
    db.session.flush()
    return certificate


def read_pdf(data: bytes, world) -> None:  # type: ignore[no-untyped-def]
    assert len(PdfReader(io.BytesIO(data)).pages) == 1


def client_for(world, caller: str):  # type: ignore[no-untyped-def]
    """A client acting as ``caller``, and the headers its requests need."""
    client = world.app.test_client()
    if caller == "anyone":
        return client, {}
    user = world.trainer if caller == "trainer" else world.learner
    if caller == "learner-token":
        return client, bearer(make_token(user))
    response = client.post(
        "/login", data={"login": user.email or user.phone, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    return client, {}


# --- the readers -------------------------------------------------------------------------------


def read_roster_csv(data: bytes, world) -> None:  # type: ignore[no-untyped-def]
    # UTF-8 with a byte-order mark, so that Excel reads the Chinese correctly.
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8").startswith("\ufeff序号")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0][:6] == ROSTER_HEADERS  # the first header is "序号", not "\ufeff序号"
    [learner] = rows[1:]
    assert learner[:6] == ["1", "张三", "13800000001", "", "桂城街道平东社区", "已报名"]


def read_roster_xlsx(data: bytes, world) -> None:  # type: ignore[no-untyped-def]
    rows = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert list(rows[0][:6]) == ROSTER_HEADERS
    [learner] = rows[1:]
    assert learner[:6] == (1, "张三", "13800000001", None, "桂城街道平东社区", "已报名")


def read_material(data: bytes, world) -> None:  # type: ignore[no-untyped-def]
    assert data == world.material_bytes
    rows = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert rows == [("讲次", "主题"), (1, "专业伦理守则")]


def read_course_feed(data: bytes, world) -> None:  # type: ignore[no-untyped-def]
    feed = Calendar.from_ical(data)
    assert str(feed["X-WR-CALNAME"]) == TITLE
    assert [str(event["SUMMARY"]) for event in feed.walk("VEVENT")] == [TITLE, TITLE]


def read_learner_feed(data: bytes, world) -> None:  # type: ignore[no-untyped-def]
    feed = Calendar.from_ical(data)
    assert str(feed["X-WR-CALNAME"]) == "张三的课程"
    assert [str(event["SUMMARY"]) for event in feed.walk("VEVENT")] == [TITLE, TITLE]


# --- every file the site sends -----------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    endpoint: str
    caller: str  # "trainer", "learner" (logged in), "learner-token" (API) or "anyone"
    url: Callable[[SimpleNamespace], str]
    filename: str
    mimetype: str
    read: Callable[[bytes, SimpleNamespace], None]
    inline: bool = False


DOWNLOADS = [
    Download(
        "enrolments.roster_export",
        "trainer",
        lambda w: f"/manage/courses/{w.course.id}/enrolments.csv",
        f"{TITLE}-花名册.csv",
        "text/csv",
        read_roster_csv,
    ),
    Download(
        "enrolments.roster_export",
        "trainer",
        lambda w: f"/manage/courses/{w.course.id}/enrolments.xlsx",
        f"{TITLE}-花名册.xlsx",
        XLSX,
        read_roster_xlsx,
    ),
    Download(
        "materials.download",
        "learner",
        lambda w: f"/materials/{w.material.id}",
        MATERIAL_NAME,
        XLSX,
        read_material,
    ),
    Download(
        "api_materials.download_material",
        "learner-token",
        lambda w: f"/api/v1/materials/{w.material.id}",
        MATERIAL_NAME,
        XLSX,
        read_material,
    ),
    Download(
        "calendar.course_feed",
        "anyone",
        lambda w: f"/calendar/course/{w.course.id}.ics",
        f"{TITLE}.ics",
        "text/calendar",
        read_course_feed,
        inline=True,
    ),
    Download(
        "calendar.learner_feed",
        "anyone",
        lambda w: f"/calendar/u/{w.feed_token}.ics",
        "我的课程.ics",
        "text/calendar",
        read_learner_feed,
        inline=True,
    ),
    Download(
        "certificates.download",
        "learner",
        lambda w: f"/certificates/{w.certificate.serial}.pdf",
        "结业证书-{serial}.pdf",
        "application/pdf",
        read_pdf,
    ),
    Download(
        "api_certificates.download",
        "learner-token",
        lambda w: f"/api/v1/certificates/{w.certificate.serial}/pdf",
        "结业证书-{serial}.pdf",
        "application/pdf",
        read_pdf,
    ),
    Download(
        "certificates.course_pdf",
        "trainer",
        lambda w: f"/courses/{w.course.id}/certificates.pdf",
        f"{TITLE}-结业证书.pdf",
        "application/pdf",
        read_pdf,
    ),
]


def assert_names(disposition: str, expected: str, *, inline: bool) -> None:
    match = DISPOSITION.fullmatch(disposition)
    assert match, disposition
    assert match["kind"] == ("inline" if inline else "attachment")
    assert unquote(match["encoded"], errors="strict") == expected
    extension = expected.rpartition(".")[2]
    assert match["plain"].endswith(f".{extension}")


@pytest.mark.parametrize(
    "download", DOWNLOADS, ids=[f"{d.endpoint}-{d.filename.rpartition('.')[2]}" for d in DOWNLOADS]
)
def test_each_file_downloads_with_its_chinese_name_and_opens(world, download: Download):
    client, headers = client_for(world, download.caller)
    url = download.url(world)
    assert world.app.url_map.bind("localhost").match(url)[0] == download.endpoint

    response = client.get(url, headers=headers, buffered=True)

    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == download.mimetype
    if download.mimetype.startswith("text/"):
        assert response.headers["Content-Type"] == f"{download.mimetype}; charset=utf-8"
    # A WSGI server writes headers in Latin-1; these must all be plain ASCII.
    for value in response.headers.values():
        value.encode("ascii")
    expected = download.filename.format(serial=world.certificate.serial)
    assert_names(response.headers["Content-Disposition"], expected, inline=download.inline)
    download.read(response.get_data(), world)


# --- no route that sends a file is left out ----------------------------------------------------

#: Calls that put a file in a response.
FILE_SENDERS = frozenset({"send_file", "send_from_directory", "content_disposition"})


def _call_name(call: ast.Call) -> str | None:
    """``f`` for ``f(...)`` and for ``x.f(...)``."""
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _called_names(function: ast.AST) -> set[str]:
    return {
        name
        for node in ast.walk(function)
        if isinstance(node, ast.Call) and (name := _call_name(node)) is not None
    }


def _modules() -> dict[str, ast.Module]:
    root = Path(academy.__file__).parent
    return {
        path.relative_to(root.parent).with_suffix("").as_posix().replace("/", "."): ast.parse(
            path.read_text(encoding="utf-8")
        )
        for path in root.rglob("*.py")
    }


def functions_sending_files() -> set[tuple[str, str]]:
    """(module, function) of every function in ``academy`` that sends a file, directly or
    through another such function (by name, so a helper imported elsewhere counts)."""
    calls = {
        (module, node.name): _called_names(node)
        for module, tree in _modules().items()
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }
    senders = set(FILE_SENDERS)
    found: set[tuple[str, str]] = set()
    while True:
        more = {key for key, names in calls.items() if names & senders} - found
        if not more:
            return found
        found |= more
        senders |= {name for _module, name in more}


def test_every_route_that_sends_a_file_is_downloaded_here(app: Flask):
    senders = functions_sending_files()
    routes = set()
    for endpoint, view in app.view_functions.items():
        function = inspect.unwrap(view)
        if (function.__module__, function.__name__) in senders:
            routes.add(endpoint)
    assert "enrolments.roster_export" in routes  # the discovery itself works
    assert routes == {download.endpoint for download in DOWNLOADS}


def test_file_names_reach_the_header_only_through_content_disposition():
    for module, tree in _modules().items():
        if module == "academy.downloads":
            continue
        mentions = assignments = 0
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) == "send_file":
                keywords = {keyword.arg for keyword in node.keywords}
                assert not keywords & {"download_name", "as_attachment"}, module
            if isinstance(node, ast.Constant) and node.value == "Content-Disposition":
                mentions += 1
            if isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Subscript)
                and isinstance(target.slice, ast.Constant)
                and target.slice.value == "Content-Disposition"
                for target in node.targets
            ):
                assignments += 1
                call = node.value
                assert isinstance(call, ast.Call), module
                assert _call_name(call) == "content_disposition", module
        # The header is only ever set as response.headers["Content-Disposition"] = ...
        assert mentions == assignments, module


# --- the header itself -------------------------------------------------------------------------


def parts(value: str) -> tuple[str, str, str]:
    """(kind, plain name, UTF-8 name) of a header value, checked against the grammar."""
    match = DISPOSITION.fullmatch(value)
    assert match, value
    return match["kind"], match["plain"], unquote(match["encoded"], errors="strict")


def assert_well_formed(value: str, name: str) -> None:
    value.encode("ascii")
    Headers().set("Content-Disposition", value)  # no line breaks: werkzeug accepts it
    kind, plain, utf8 = parts(value)
    assert utf8 == name
    # Werkzeug's parser prefers the UTF-8 name, as browsers do.
    assert parse_options_header(value) == (kind, {"filename": name})
    assert plain and len(plain.encode()) <= MAX_NAME_BYTES
    assert len(name.encode()) <= MAX_NAME_BYTES


@pytest.mark.parametrize(
    ("raw", "name", "plain"),
    [
        (f"{TITLE}-花名册.csv", f"{TITLE}-花名册.csv", "download.csv"),
        ("Ethics 社会工作伦理.pdf", "Ethics 社会工作伦理.pdf", "Ethics.pdf"),
        ("2024 社工 Exam 考前培训.xlsx", "2024 社工 Exam 考前培训.xlsx", "2024 _ Exam.xlsx"),
        ('Say "hi" \\ back.pdf', "Say _hi_ _ back.pdf", "Say _hi_ _ back.pdf"),
        ("伦理; 实务.csv", "伦理; 实务.csv", "download.csv"),
        ("notes; draft=1.txt", "notes; draft=1.txt", "notes_ draft=1.txt"),
        ("第一讲\r\n讲义.pdf", "第一讲讲义.pdf", "download.pdf"),
        ("line\nbreak.pdf", "linebreak.pdf", "linebreak.pdf"),
        ("社会工作", "社会工作", "download"),
        ("README", "README", "README"),
        ("100% 完成.csv", "100% 完成.csv", "100.csv"),
        ("résumé.pdf", "résumé.pdf", "r_sum.pdf"),
        ("课件.文档", "课件.文档", "download"),
        ("\u202egpj.exe 讲义.pdf", "gpj.exe 讲义.pdf", "gpj.exe.pdf"),
        ("../../etc/passwd", "_.._etc_passwd", "etc_passwd"),
        ("", DEFAULT_STEM, DEFAULT_STEM),
        ("...", DEFAULT_STEM, DEFAULT_STEM),
        ("\"'\\", "_'_", DEFAULT_STEM),
    ],
)
def test_the_header_carries_an_ascii_stand_in_and_the_utf8_name(raw: str, name: str, plain: str):
    value = content_disposition(raw)
    assert_well_formed(value, name)
    assert parts(value) == ("attachment", plain, name)


def test_inline_files_say_so():
    assert content_disposition("课程.ics", inline=True).startswith(
        'inline; filename="download.ics"; '
    )


@pytest.mark.parametrize("stem", ["社" * 300, "x" * 300, "社x" * 200])
def test_a_very_long_name_is_cut_to_what_file_systems_take_keeping_its_extension(stem: str):
    value = content_disposition(f"{stem}.xlsx")
    name = download_name(f"{stem}.xlsx")
    assert_well_formed(value, name)
    assert name.endswith(".xlsx") and name.startswith(stem[:50])
    assert MAX_NAME_BYTES - 3 <= len(name.encode()) <= MAX_NAME_BYTES  # cut on a character
    assert parts(value)[1].endswith(".xlsx")
