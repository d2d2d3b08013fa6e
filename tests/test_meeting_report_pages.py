"""Meeting-report pages: the trainer uploads a participant export, reads the preview,
confirms; learners and other trainers get 403; nothing changes before the confirmation."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from courses.db import db
from courses.models import (
    AttendanceImport,
    AttendanceRecord,
    AuditLogEntry,
    ImportStatus,
    MeetingAlias,
    SessionMode,
)
from tests import test_meeting_reports_parse as layouts
from tests.factories import make_admin, make_course, make_session, make_trainer
from tests.test_meeting_reports import (
    STARTS,
    at,
    csv_bytes,
    generic_lines,
    tencent_lines,
    xlsx_bytes,
)
from tests.test_meeting_reports import setting as _setting

setting = _setting  # the fixture: an online session, its trainer and three learners
course_setting = layouts.course_setting  # the same with the people of the exports

IMPORTED = sa.select(sa.func.count()).where(AuditLogEntry.action == "attendance.imported")


def _html(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _upload(client, session_id: int, data: bytes, name: str = "参会明细.csv"):  # type: ignore[no-untyped-def]
    return client.post(
        f"/manage/sessions/{session_id}/reports",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _count(model) -> int:  # type: ignore[no-untyped-def]
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


TENCENT = csv_bytes(
    tencent_lines(
        [
            ["李安娜", "13800000001", "", at("09:58:00"), at("11:31:00"), "93", ""],
            ["王博", "13800000002", "", at("10:00:00"), at("10:45:00"), "45", ""],
            ["王博", "13800000002", "", at("10:50:00"), at("11:05:00"), "15", ""],
            ["局外人", "13600000009", "", at("10:00:00"), at("11:30:00"), "90", ""],
            ["访客", "", "", at("10:00:00"), at("11:30:00"), "90", ""],
            ["陈彩", "13800000003", "", "不知道", at("11:30:00"), "", ""],
        ]
    ),
    encoding="gbk",
)


def test_the_sessions_list_links_online_and_hybrid_sessions_to_the_import(setting, login_as):  # type: ignore[no-untyped-def]
    course = setting["course"]
    offline = make_session(course, starts_at=STARTS + timedelta(days=7))
    hybrid = make_session(course, starts_at=STARTS + timedelta(days=14), mode=SessionMode.HYBRID)
    client = login_as(setting["trainer"])
    html = _html(client.get(f"/manage/courses/{course.id}/sessions"))
    assert f'href="/manage/sessions/{setting["session"].id}/reports"' in html
    assert f'href="/manage/sessions/{hybrid.id}/reports"' in html
    assert f'href="/manage/sessions/{offline.id}/reports"' not in html


def test_upload_preview_then_confirm(setting, login_as, flashed):  # type: ignore[no-untyped-def]
    session = setting["session"]
    client = login_as(setting["trainer"])
    page = client.get(f"/manage/sessions/{session.id}/reports?lang=en")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in _html(page)

    response = _upload(client, session.id, TENCENT)
    assert response.status_code == 302
    report_import = db.session.scalars(sa.select(AttendanceImport)).one()
    assert response.headers["Location"].endswith(f"/manage/reports/{report_import.id}")
    assert _count(AttendanceRecord) == 0

    html = _html(client.get(f"/manage/reports/{report_import.id}"))
    assert "Tencent Meeting" in html
    assert "1 matched" not in html and "2 matched" in html
    assert "李安娜" in html and "王博" in html
    assert ">2.0<" in html  # Ana: the whole session, 2 class hours
    assert ">60<" in html and ">1.33<" in html  # Bo: 45 + 15 minutes
    assert "No learner enrolled in this course" in html  # the outsider
    assert "No learner enrolled in this course has this name" in html  # the visitor
    assert "The time “不知道” cannot be read." in html  # Cai's bad row
    assert f'action="/manage/reports/{report_import.id}/apply"' in html
    assert "Confirm and apply" in html

    response = client.post(f"/manage/reports/{report_import.id}/apply")
    assert response.status_code == 302
    assert flashed[-1][0] == "success"
    db.session.rollback()
    found = {r.user_id: r for r in db.session.scalars(sa.select(AttendanceRecord))}
    assert set(found) == {setting["ana"].id, setting["bo"].id}
    assert (found[setting["ana"].id].credited_hours, found[setting["bo"].id].imported_minutes) == (
        2.0,
        60,
    )
    html = _html(client.get(f"/manage/reports/{report_import.id}"))
    assert "Applied on" in html and setting["trainer"].name in html
    assert f'action="/manage/reports/{report_import.id}/apply"' not in html

    # Confirming again (a second tab) and re-uploading change nothing.
    client.post(f"/manage/reports/{report_import.id}/apply")
    assert flashed[-1][0] == "info"
    response = _upload(client, session.id, TENCENT, name="again.csv")
    assert response.headers["Location"].endswith(f"/manage/reports/{report_import.id}")
    assert flashed[-1][0] == "info"
    assert _count(AttendanceImport) == 1
    assert db.session.scalar(IMPORTED) == 1
    assert db.session.get(AttendanceImport, report_import.id).status == ImportStatus.APPLIED


def test_a_file_that_is_not_a_report_is_refused_beside_the_field(setting, login_as):  # type: ignore[no-untyped-def]
    client = login_as(setting["trainer"])
    client.get("/?lang=en")
    response = _upload(client, setting["session"].id, b"%PDF-1.4 a leaflet", name="x.pdf")
    assert response.status_code == 200
    html = _html(response)
    assert 'class="field-errors"' in html
    assert "No participant column was found" in html
    assert _count(AttendanceImport) == 0
    assert "field-errors" in _html(_upload(client, setting["session"].id, b"", name="e.csv"))


def test_learners_and_other_trainers_get_403(setting, client, login_as):  # type: ignore[no-untyped-def]
    session = setting["session"]
    data = csv_bytes([["手机号", "时长"], ["13800000001", "90"]])
    login_as(setting["trainer"])
    _upload(client, session.id, data)
    report_import = db.session.scalars(sa.select(AttendanceImport)).one()
    client.post("/logout")
    for intruder in (setting["ana"], make_trainer()):
        login_as(intruder)
        assert client.get(f"/manage/sessions/{session.id}/reports").status_code == 403
        assert _upload(client, session.id, data + b"\n").status_code == 403
        assert client.get(f"/manage/reports/{report_import.id}").status_code == 403
        assert client.post(f"/manage/reports/{report_import.id}/apply").status_code == 403
        client.post("/logout")
    assert _count(AttendanceRecord) == 0
    assert _count(AttendanceImport) == 1
    response = client.get(f"/manage/reports/{report_import.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/manage/reports/999999").status_code == 302
    login_as(make_admin())
    assert client.get("/manage/reports/999999").status_code == 404
    assert client.get(f"/manage/reports/{report_import.id}").status_code == 200


def test_an_offline_session_has_no_upload_form(app_ctx, login_as, flashed):  # type: ignore[no-untyped-def]
    trainer = make_trainer()
    course = make_course(trainers=[trainer])
    offline = make_session(course)
    client = login_as(trainer)
    html = _html(client.get(f"/manage/sessions/{offline.id}/reports?lang=en"))
    assert 'type="file"' not in html
    response = _upload(client, offline.id, csv_bytes([["手机号", "时长"], ["13800000001", "9"]]))
    assert response.status_code == 200
    assert flashed[-1] == ("error", "This session is not held online.")
    assert _count(AttendanceImport) == 0


def test_the_list_of_earlier_imports_takes_the_same_queries_however_long(
    setting, login_as, count_queries
):  # type: ignore[no-untyped-def]
    session = setting["session"]
    client = login_as(setting["trainer"])
    url = f"/manage/sessions/{session.id}/reports"

    def statements() -> int:
        db.session.rollback()  # each request starts outside a transaction, as in production
        with count_queries() as found:
            assert client.get(url).status_code == 200
        return len(found)

    _upload(client, session.id, xlsx_bytes(generic_lines([["A", "13800000001", "", "", "", "5"]])))
    one = statements()
    for minutes in range(10, 15):
        rows = [["A", "13800000001", "", "", "", str(minutes)]]
        _upload(client, session.id, xlsx_bytes(generic_lines(rows)))
    assert _count(AttendanceImport) == 6
    assert statements() == one
    html = _html(client.get(url))
    assert html.count('href="/manage/reports/') == 6


# ---- exports as the products write them: choosing the learner, a session not ended -----------


def test_the_trainer_chooses_the_learner_for_an_unknown_nickname(course_setting, login_as):  # type: ignore[no-untyped-def]
    s = course_setting
    client = login_as(s["trainer"])
    response = _upload(client, s["session"].id, layouts.TENCENT, name="腾讯会议.xlsx")
    assert response.status_code == 302
    report_import = db.session.scalars(sa.select(AttendanceImport)).one()
    rows = {row["name"]: row for row in report_import.rows}
    pick, host = rows["小燕子(小燕子)"]["row"], rows["刘老师(刘老师)"]["row"]
    html = _html(client.get(f"/manage/reports/{report_import.id}?lang=en"))
    assert f'name="choice-{pick}" form="apply-form"' in html
    assert f'name="choice-{host}"' not in html  # the host cannot be chosen
    assert f'<option value="{s["cai"].id}">陈彩</option>' in html
    assert "The meeting&#39;s host: not counted." in html
    assert 'id="apply-form"' in html and "Confirm and apply" in html
    assert '张晓燕 <span class="tag">by name and phone digits</span>' in html
    assert "upper bound" not in html  # the per-join details were read

    response = client.post(
        f"/manage/reports/{report_import.id}/apply", data={f"choice-{pick}": str(s["cai"].id)}
    )
    assert response.status_code == 302
    assert layouts.credited(s) == {s["zhang"].id: 80, s["bo"].id: 60, s["cai"].id: 90}
    # Two forms of the nickname, for this course and for any course.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MeetingAlias)) == 4


def test_a_bad_choice_on_the_page_is_refused_and_changes_nothing(course_setting, login_as, flashed):  # type: ignore[no-untyped-def]
    s = course_setting
    client = login_as(s["trainer"])
    _upload(client, s["session"].id, layouts.TENCENT, name="腾讯会议.xlsx")
    report_import = db.session.scalars(sa.select(AttendanceImport)).one()
    host = next(r["row"] for r in report_import.rows if r["reason"] == "host")
    pick = next(r["row"] for r in report_import.rows if r["reason"] == "unknown_name")
    for value in ("abc", "²", str(2**70)):
        response = client.post(
            f"/manage/reports/{report_import.id}/apply", data={f"choice-{pick}": value}
        )
        assert response.status_code == 302
        assert flashed[-1][0] == "error"
    client.post(
        f"/manage/reports/{report_import.id}/apply", data={f"choice-{host}": str(s["cai"].id)}
    )
    assert flashed[-1][0] == "error"
    assert layouts.credited(s) == {}
    assert db.session.get(AttendanceImport, report_import.id).status == ImportStatus.PREVIEW


def test_no_confirm_button_when_nothing_can_be_applied(course_setting, login_as):  # type: ignore[no-untyped-def]
    s = course_setting
    client = login_as(s["trainer"])
    data = layouts.tencent_xlsx(
        [
            ["刘老师(刘老师)", layouts.at("09:50:00"), "--", "--", "PC", "主持人"],
            ["", layouts.at("10:00:00"), layouts.at("10:30:00"), "0:30:00", "PC", ""],
        ]
    )
    _upload(client, s["session"].id, data, name="腾讯会议.xlsx")
    report_import = db.session.scalars(sa.select(AttendanceImport)).one()
    html = _html(client.get(f"/manage/reports/{report_import.id}?lang=en"))
    assert "there is nothing to apply" in html
    assert "/apply" not in html and "Confirm and apply" not in html


def test_a_session_that_has_not_ended_takes_no_report(course_setting, login_as):  # type: ignore[no-untyped-def]
    s = course_setting
    tomorrow = make_session(
        s["course"],
        starts_at=datetime.now(UTC) + timedelta(days=1),
        mode=SessionMode.ONLINE,
    )
    client = login_as(s["trainer"])
    page = _html(client.get(f"/manage/sessions/{tomorrow.id}/reports?lang=en"))
    assert "This session has not ended yet" in page
    response = _upload(client, tomorrow.id, layouts.TENCENT, name="腾讯会议.xlsx")
    assert response.status_code == 200
    html = _html(response)
    assert 'class="field-errors"' in html and "has not ended yet" in html
    assert _count(AttendanceImport) == 0
    assert _count(AttendanceRecord) == 0


def test_a_summary_only_report_says_its_minutes_are_an_upper_bound(course_setting, login_as):  # type: ignore[no-untyped-def]
    client = login_as(course_setting["trainer"])
    _upload(client, course_setting["session"].id, layouts.DINGTALK, name="钉钉.xlsx")
    report_import = db.session.scalars(sa.select(AttendanceImport)).one()
    html = _html(client.get(f"/manage/reports/{report_import.id}?lang=en"))
    assert "the minutes are an upper bound" in html
