"""Meeting-report import (``courses.services.meeting_reports``): the participant exports of
Tencent Meeting, DingTalk and WeCom and the generic layout, as real CSV (UTF-8, GBK,
tab-separated, with title lines) and XLSX files; matching by phone or e-mail; a preview
that changes nothing; an apply that is all-or-nothing and idempotent."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa

from courses.db import db
from courses.errors import PermissionDenied, ValidationFailed
from courses.models import (
    AttendanceImport,
    AttendanceMethod,
    AttendanceRecord,
    AttendanceStatus,
    AuditLogEntry,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    ImportStatus,
    OutboxEvent,
    SessionMode,
)
from courses.services import meeting_reports
from courses.services.meeting_reports import parse_duration, parse_report
from courses.services.stats.tracking import TOPIC as STATS_TOPIC
from tests.factories import (
    make_admin,
    make_course,
    make_enrolment,
    make_session,
    make_trainer,
    make_user,
)

#: The session: 2026-12-03 10:00–11:30 in Shanghai (90 minutes, 2 class hours).
STARTS = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
AFTER = STARTS + timedelta(hours=3)
IMPORTED_ENTRIES = sa.select(AuditLogEntry).where(AuditLogEntry.action == "attendance.imported")
IMPORTED_AUDITS = sa.select(sa.func.count()).select_from(IMPORTED_ENTRIES.subquery())


# ---- report files, as the platforms write them ------------------------------------------------


def at(clock: str) -> str:
    """A time on the session's day as the platforms write it (Shanghai wall-clock)."""
    return f"2026-12-03 {clock}"


def dt(hour: int, minute: int) -> datetime:
    """The same as an Excel date-time cell (naive, Shanghai wall-clock)."""
    return datetime(2026, 12, 3, hour, minute)


def csv_bytes(
    lines: list[list[Any]], *, encoding: str = "utf-8", delimiter: str = ",", bom: bool = False
) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(lines)
    data = buffer.getvalue().encode(encoding)
    return codecs.BOM_UTF8 + data if bom else data


def xlsx_bytes(lines: list[list[Any]], *, title_sheet: bool = False) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if title_sheet:
        sheet.title = "会议概况"
        sheet.append(["会议主题", "社工继续教育"])
        sheet.append(["参会人数", len(lines)])
        sheet = workbook.create_sheet("参会明细")
    for line in lines:
        sheet.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def tencent_lines(rows: list[list[Any]]) -> list[list[Any]]:
    """Tencent Meeting's 参会成员明细: title and summary lines, then the header."""
    return [
        ["腾讯会议 参会成员明细"],
        ["会议主题", "桂城社工继续教育·线上课"],
        ["会议号", "123 456 789"],
        [],
        [
            "用户昵称（入会昵称）",
            "手机号",
            "邮箱",
            "入会时间",
            "退会时间",
            "参会时长(分钟)",
            "身份",
        ],
        *rows,
    ]


def dingtalk_lines(rows: list[list[Any]]) -> list[list[Any]]:
    return [
        ["钉钉视频会议 参会人员统计"],
        ["姓名", "手机号", "部门", "首次入会时间", "最后退会时间", "累计参会时长"],
        *rows,
    ]


def wecom_lines(rows: list[list[Any]]) -> list[list[Any]]:
    return [
        ["企业微信会议", "参会记录"],
        ["成员姓名", "手机", "进入时间", "离开时间", "参与时长"],
        *rows,
    ]


def generic_lines(rows: list[list[Any]]) -> list[list[Any]]:
    return [["name", "phone", "email", "joined_at", "left_at", "minutes"], *rows]


# ---- the setting ------------------------------------------------------------------------------


@pytest.fixture
def setting(app_ctx):  # type: ignore[no-untyped-def]
    trainer = make_trainer()
    course = make_course(trainers=[trainer])
    session = make_session(
        course,
        starts_at=STARTS,
        duration=timedelta(minutes=90),
        mode=SessionMode.ONLINE,
        meeting_url="https://meeting.tencent.com/dm/abc",
        class_hours=2,
    )
    ana = make_user("李安娜", phone="13800000001", email="ana@example.org")
    bo = make_user("王博", phone="13800000002", email="bo@example.org")
    cai = make_user("陈彩", phone="13800000003", email="cai@example.org")
    enrolments = {u.id: make_enrolment(course, u) for u in (ana, bo, cai)}
    outsider = make_user("局外人", phone="13600000009", email="out@example.org")
    return {
        "trainer": trainer,
        "course": course,
        "session": session,
        "ana": ana,
        "bo": bo,
        "cai": cai,
        "outsider": outsider,
        "enrolments": enrolments,
    }


def by_outcome(report_import: AttendanceImport, outcome: str) -> list[dict[str, Any]]:
    return [row for row in report_import.rows if row["outcome"] == outcome]


def records() -> dict[int, AttendanceRecord]:
    db.session.expire_all()
    return {r.user_id: r for r in db.session.scalars(sa.select(AttendanceRecord))}


# ---- parsing each layout ----------------------------------------------------------------------


def test_tencent_csv_with_title_lines_and_bom_is_read() -> None:
    data = csv_bytes(
        tencent_lines(
            [
                ["李安娜", "138 0000 0001", "", at("09:58:12"), at("11:30:40"), "92", "参会者"],
                [
                    "王博",
                    "+86 138-0000-0002",
                    "BO@Example.org",
                    at("10:05:00"),
                    at("10:50:00"),
                    "45分钟",
                    "参会者",
                ],
            ]
        ),
        bom=True,
    )
    report = parse_report("腾讯会议.csv", data)
    assert report.layout == "tencent"
    assert report.header_row == 5
    first, second = report.rows
    assert (first.number, first.name, first.phone, first.email) == (
        6,
        "李安娜",
        "13800000001",
        None,
    )
    assert first.joined_at == datetime(2026, 12, 3, 1, 58, 12, tzinfo=UTC)
    assert first.duration_seconds == 92 * 60
    assert (second.phone, second.email, second.duration_seconds) == (
        "13800000002",
        "bo@example.org",
        45 * 60,
    )


def test_dingtalk_xlsx_with_excel_datetimes_and_chinese_durations_is_read() -> None:
    data = xlsx_bytes(
        dingtalk_lines(
            [
                ["李安娜", 13800000001, "社工部", dt(9, 55), dt(11, 35), "1小时25分钟"],
                ["王博", "13800000002", "社工部", dt(10, 0), dt(10, 30), "30分钟"],
            ]
        ),
        title_sheet=True,
    )
    report = parse_report("钉钉.xlsx", data)
    assert report.layout == "dingtalk"
    assert [(r.number, r.phone, r.duration_seconds) for r in report.rows] == [
        (3, "13800000001", 85 * 60),
        (4, "13800000002", 30 * 60),
    ]
    assert report.rows[0].joined_at == datetime(2026, 12, 3, 1, 55, tzinfo=UTC)


def test_wecom_gbk_tab_separated_csv_is_read() -> None:
    data = csv_bytes(
        wecom_lines(
            [
                ["陈彩", "13800000003", "2026/12/03 10:00", "2026/12/03 11:25", "01:25:00"],
            ]
        ),
        encoding="gbk",
        delimiter="\t",
    )
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    report = parse_report("企业微信.csv", data)
    assert report.layout == "wecom"
    (row,) = report.rows
    assert (row.name, row.phone, row.duration_seconds) == ("陈彩", "13800000003", 85 * 60)
    assert row.left_at == datetime(2026, 12, 3, 3, 25, tzinfo=UTC)


def test_generic_layout_in_english_csv_and_chinese_xlsx() -> None:
    english = parse_report(
        "report.csv",
        csv_bytes(generic_lines([["Ana", "", "ANA@example.org", "", "", "80"]])),
    )
    assert english.layout == "generic"
    assert (english.rows[0].email, english.rows[0].duration_seconds) == ("ana@example.org", 4800)

    chinese = parse_report(
        "report.xlsx",
        xlsx_bytes(
            [
                ["姓名", "手机号", "邮箱", "入会时间", "退会时间", "时长(分钟)"],
                ["王博", "13800000002", None, at("10:00:00"), at("11:00:00"), 60],
            ]
        ),
    )
    assert chinese.layout == "generic"
    assert chinese.rows[0].duration_seconds == 3600


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("85", 85 * 60),
        (85, 85 * 60),
        ("85分钟", 85 * 60),
        ("1小时25分钟", 85 * 60),
        ("1小时25分钟30秒", 85 * 60 + 30),
        ("01:25:00", 85 * 60),
        ("1:25", 85 * 60),
        ("85 min", 85 * 60),
        ("1.5小时", 90 * 60),
        (timedelta(hours=1, minutes=25), 85 * 60),
        (datetime(1899, 12, 30, 1, 25), 85 * 60),
        ("", None),
        (None, None),
    ],
)
def test_durations_in_the_forms_the_platforms_write(value: Any, seconds: int | None) -> None:
    assert parse_duration(value) == seconds


def test_a_duration_column_in_seconds_is_read_as_seconds() -> None:
    report = parse_report(
        "r.csv", csv_bytes([["手机号", "参会时长（秒）"], ["13800000001", "5100"]])
    )
    assert report.rows[0].duration_seconds == 5100


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"%PDF-1.7 not a report", "没有找到参会人列"),
        ("标题\n随便写点什么\n".encode(), "没有找到参会人列"),
        (csv_bytes([["姓名", "备注"], ["李安娜", "来了"]]), "没有入会、退会时间"),
        (b"PK\x03\x04broken zip", "无法识别此文件为会议参会报告"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old excel", ".xls"),
        (b"   ", "空"),
    ],
)
def test_a_file_that_is_not_a_report_is_refused_clearly(
    app_ctx, data: bytes, fragment: str
) -> None:  # type: ignore[no-untyped-def]
    """In the trainer's language (Chinese by default), saying what the file lacks."""
    with pytest.raises(ValidationFailed) as caught:
        parse_report("x.csv", data)
    assert caught.value.code == "invalid_report"
    assert fragment in str(caught.value.message)


def test_reports_over_the_size_or_row_limit_are_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_report("big.csv", b"a" * (meeting_reports.MAX_REPORT_BYTES + 1))
    assert caught.value.code == "report_too_large"
    rows = [["13800000001", "60"]] * (meeting_reports.MAX_REPORT_ROWS + 1)
    with pytest.raises(ValidationFailed) as caught:
        parse_report("many.csv", csv_bytes([["手机号", "时长"], *rows]))
    assert caught.value.code == "report_too_large"
    assert len(parse_report("ok.csv", csv_bytes([["手机号", "时长"], *rows[:-1]])).rows) == 5000


def test_bad_rows_are_listed_with_their_row_number_and_reason() -> None:
    report = parse_report(
        "r.csv",
        csv_bytes(
            generic_lines(
                [
                    ["好人", "13800000001", "", "", "", "60"],
                    ["", "", "", "", "", "60"],
                    ["", "138****0001", "", "", "", "60"],
                    ["坏时间", "13800000002", "", "昨天上午", at("11:00"), ""],
                    ["坏时长", "13800000003", "", "", "", "很久"],
                    ["负数", "13800000004", "", "", "", "-5"],
                    ["倒退", "13800000005", "", at("11:00"), at("10:00"), ""],
                    ["没时长", "13800000006", "", at("10:00"), "", ""],
                ]
            )
        ),
    )
    assert [(r.number, r.reason) for r in report.rows] == [
        (2, None),
        (3, "no_identifier"),
        (4, "masked_phone"),
        (5, "bad_time"),
        (6, "bad_duration"),
        (7, "negative"),
        (8, "left_before_joined"),
        (9, "no_duration"),
    ]
    assert report.rows[3].value == "昨天上午"


# ---- preview, matching and apply --------------------------------------------------------------


def test_rows_of_one_person_are_summed_and_clipped_to_the_session(setting) -> None:  # type: ignore[no-untyped-def]
    data = csv_bytes(
        tencent_lines(
            [
                # Ana: 09:50–10:30 (30 min inside) and, after a dropout, 10:40–11:45 (50 inside).
                ["李安娜", "13800000001", "", at("09:50:00"), at("10:30:00"), "40", ""],
                ["李安娜", "13800000001", "", at("10:40:00"), at("11:45:00"), "65", ""],
                # Bo: two devices at once count once; then a row known only by e-mail.
                ["王博", "13800000002", "", at("10:00:00"), at("10:20:00"), "20", ""],
                ["王博(手机)", "13800000002", "", at("10:10:00"), at("10:30:00"), "20", ""],
                ["王博", "", "bo@example.org", "", "", "15", ""],
                # Cai: a duration longer than the session is capped at it.
                ["陈彩", "13800000003", "", "", "", "200", ""],
            ]
        )
    )
    report_import = meeting_reports.preview_report(
        setting["trainer"], setting["session"], "t.csv", data
    )
    matched = {row["user_id"]: row for row in by_outcome(report_import, "matched")}
    assert matched[setting["ana"].id]["minutes"] == 80
    assert matched[setting["ana"].id]["rows"] == [6, 7]
    assert matched[setting["bo"].id]["minutes"] == 30 + 15
    assert matched[setting["bo"].id]["rows"] == [8, 9, 10]
    assert matched[setting["cai"].id]["minutes"] == 90
    assert matched[setting["ana"].id]["learner_name"] == "李安娜"
    assert report_import.layout == "tencent"


def test_an_import_with_bad_rows_changes_nothing_until_confirmed(setting) -> None:  # type: ignore[no-untyped-def]
    trainer, session = setting["trainer"], setting["session"]
    data = csv_bytes(
        generic_lines(
            [
                ["李安娜", "13800000001", "", at("10:00"), at("11:30"), ""],
                ["坏时间", "13800000002", "", "下午", "", "30"],
                ["", "", "", "", "", "90"],
                ["陌生人", "13700000000", "", "", "", "90"],
            ]
        ),
        encoding="gbk",
    )
    report_import = meeting_reports.preview_report(trainer, session, "r.csv", data, now=AFTER)
    db.session.commit()
    assert report_import.status == ImportStatus.PREVIEW
    assert meeting_reports.counts(report_import) == {
        "matched": 1,
        "ambiguous": 0,
        "unmatched": 1,
        "invalid": 2,
    }
    assert [(r["row"], r["reason"]) for r in by_outcome(report_import, "invalid")] == [
        (3, "bad_time"),
        (4, "no_identifier"),
    ]
    assert records() == {}
    assert db.session.scalar(IMPORTED_AUDITS) == 0
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.topic != STATS_TOPIC)
        )
        == 0
    )
    assert db.session.get(Enrolment, setting["enrolments"][setting["ana"].id].id).status == (
        EnrolmentStatus.ENROLLED
    )

    meeting_reports.apply_report(trainer, report_import, now=AFTER)
    db.session.commit()
    found = records()
    assert set(found) == {setting["ana"].id}
    assert found[setting["ana"].id].imported_minutes == 90


def test_apply_credits_hours_and_completes_the_enrolment(setting) -> None:  # type: ignore[no-untyped-def]
    trainer, session = setting["trainer"], setting["session"]
    ana, bo = setting["ana"], setting["bo"]
    data = xlsx_bytes(
        dingtalk_lines(
            [
                ["李安娜", "13800000001", "", dt(9, 58), dt(11, 28), "1小时30分钟"],
                ["王博", "13800000002", "", dt(10, 0), dt(10, 45), "45分钟"],
            ]
        )
    )
    report_import = meeting_reports.preview_report(trainer, session, "d.xlsx", data, now=AFTER)
    meeting_reports.apply_report(trainer, report_import, now=AFTER)
    db.session.commit()

    found = records()
    ana_record, bo_record = found[ana.id], found[bo.id]
    # 88 minutes inside the session: within the grace of its 90, so the whole session.
    assert (ana_record.imported_minutes, ana_record.minutes) == (88, 90)
    assert ana_record.status == AttendanceStatus.PRESENT
    assert ana_record.method == AttendanceMethod.IMPORT
    assert ana_record.credited_hours == 2.0
    assert (bo_record.imported_minutes, bo_record.status, bo_record.credited_hours) == (
        45,
        AttendanceStatus.PARTIAL,
        1.0,
    )
    ana_enrolment = db.session.get(Enrolment, setting["enrolments"][ana.id].id)
    bo_enrolment = db.session.get(Enrolment, setting["enrolments"][bo.id].id)
    assert ana_enrolment.status == EnrolmentStatus.COMPLETED
    assert bo_enrolment.status != EnrolmentStatus.COMPLETED
    others = sa.select(OutboxEvent).where(OutboxEvent.topic != STATS_TOPIC)
    events = list(db.session.scalars(others))
    assert [(e.topic, e.payload["enrolment_id"]) for e in events] == [
        ("enrolment.completed", ana_enrolment.id)
    ]
    db.session.expire_all()
    applied = db.session.get(AttendanceImport, report_import.id)
    assert applied.status == ImportStatus.APPLIED
    assert applied.applied_at == AFTER
    assert applied.applied_by_id == trainer.id
    (entry,) = db.session.scalars(IMPORTED_ENTRIES)
    assert (entry.action, entry.object_id, entry.actor_id) == (
        "attendance.imported",
        report_import.id,
        trainer.id,
    )
    assert entry.data["applied"] == 2 and entry.data["matched"] == 2


def test_the_same_file_again_is_the_same_import_and_applying_twice_changes_nothing(setting) -> None:  # type: ignore[no-untyped-def]
    trainer, session = setting["trainer"], setting["session"]
    data = csv_bytes(wecom_lines([["陈彩", "13800000003", "", "", "60"]]), encoding="gbk")
    first = meeting_reports.upload_report(trainer, session, "w.csv", data, now=AFTER)
    db.session.commit()
    again = meeting_reports.upload_report(trainer, session, "copy.csv", data, now=AFTER)
    assert first.created and not again.created
    assert again.report_import.id == first.report_import.id

    meeting_reports.apply_report(trainer, first.report_import, now=AFTER)
    db.session.commit()
    before = records()[setting["cai"].id]
    state = (before.imported_minutes, before.minutes, before.credited_hours, before.updated_at)

    # Re-upload after applying: the applied import, unchanged; applying it again: nothing.
    third = meeting_reports.upload_report(trainer, session, "w.csv", data, now=AFTER)
    assert not third.created and third.report_import.status == ImportStatus.APPLIED
    meeting_reports.apply_report(trainer, third.report_import, now=AFTER + timedelta(hours=1))
    db.session.commit()
    after = records()[setting["cai"].id]
    assert (after.imported_minutes, after.minutes, after.credited_hours, after.updated_at) == state
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceImport)) == 1
    assert db.session.scalar(IMPORTED_AUDITS) == 1
    assert db.session.scalar(sa.select(AttendanceImport.applied_at)) == AFTER


def test_a_second_report_with_fewer_minutes_keeps_the_larger(setting) -> None:  # type: ignore[no-untyped-def]
    trainer, session = setting["trainer"], setting["session"]
    for minutes in ("60", "30"):
        data = csv_bytes([["手机号", "时长"], ["13800000003", minutes]])
        report_import = meeting_reports.preview_report(trainer, session, "r.csv", data, now=AFTER)
        meeting_reports.apply_report(trainer, report_import, now=AFTER)
        db.session.commit()
    assert records()[setting["cai"].id].imported_minutes == 60


def test_ambiguous_and_unmatched_rows_are_not_applied(setting) -> None:  # type: ignore[no-untyped-def]
    trainer, session = setting["trainer"], setting["session"]
    data = csv_bytes(
        generic_lines(
            [
                # Phone of Ana, e-mail of Bo: which one was it?
                ["混合", "13800000001", "bo@example.org", "", "", "90"],
                # Enrolled elsewhere / not enrolled at all: unmatched.
                ["局外人", "13600000009", "", "", "", "90"],
                ["没账号", "13600000000", "nobody@example.org", "", "", "90"],
                # Cai by e-mail in capitals: matched.
                ["陈彩", "", "CAI@EXAMPLE.ORG", "", "", "90"],
            ]
        )
    )
    report_import = meeting_reports.preview_report(trainer, session, "r.csv", data, now=AFTER)
    (ambiguous,) = by_outcome(report_import, "ambiguous")
    assert ambiguous["reason"] == "phone_and_email_differ"
    assert {c["user_id"] for c in ambiguous["candidates"]} == {
        setting["ana"].id,
        setting["bo"].id,
    }
    unmatched = by_outcome(report_import, "unmatched")
    assert [row["phone"] for row in unmatched] == ["13600000009", "13600000000"]
    assert all(row["reason"] == "not_enrolled" and row["user_id"] is None for row in unmatched)
    (matched,) = by_outcome(report_import, "matched")
    assert matched["user_id"] == setting["cai"].id

    meeting_reports.apply_report(trainer, report_import, now=AFTER)
    db.session.commit()
    assert set(records()) == {setting["cai"].id}


def test_a_learner_who_left_the_course_after_the_preview_is_skipped(setting) -> None:  # type: ignore[no-untyped-def]
    trainer, session = setting["trainer"], setting["session"]
    data = csv_bytes([["手机号", "时长"], ["13800000001", "90"], ["13800000002", "90"]])
    report_import = meeting_reports.preview_report(trainer, session, "r.csv", data, now=AFTER)
    db.session.commit()
    enrolment = db.session.get(Enrolment, setting["enrolments"][setting["bo"].id].id)
    enrolment.status = EnrolmentStatus.CANCELLED
    db.session.commit()
    meeting_reports.apply_report(trainer, report_import, now=AFTER)
    db.session.commit()
    assert set(records()) == {setting["ana"].id}
    entry = db.session.scalars(IMPORTED_ENTRIES).one()
    assert entry.data["skipped_no_longer_enrolled"] == [setting["bo"].id]


def test_matching_takes_one_query_however_many_rows(setting, count_queries) -> None:  # type: ignore[no-untyped-def]
    def preview(rows: list[list[str]]) -> tuple[AttendanceImport, list[str]]:
        with count_queries() as statements:
            report_import = meeting_reports.preview_report(
                setting["trainer"], setting["session"], "r.csv", csv_bytes(generic_lines(rows))
            )
        return report_import, statements

    preview([["李安娜", "13800000001", "", "", "", "30"]])  # loads the session and the trainer
    many = [[f"学员{n}", f"1370000{n:04d}", f"p{n}@example.org", "", "", "60"] for n in range(300)]
    big, statements = preview([*many, ["李安娜", "13800000001", "", "", "", "60"]])
    _small, few = preview([["李安娜", "13800000001", "", "", "", "45"]])
    assert len(by_outcome(big, "unmatched")) == 300
    assert len(by_outcome(big, "matched")) == 1
    assert len([s for s in statements if "FROM users JOIN enrolments" in s]) == 1
    assert len(statements) == len(few)


def test_learners_and_other_trainers_are_refused(setting) -> None:  # type: ignore[no-untyped-def]
    session = setting["session"]
    data = csv_bytes([["手机号", "时长"], ["13800000001", "90"]])
    report_import = meeting_reports.preview_report(setting["trainer"], session, "r.csv", data)
    db.session.commit()
    for intruder in (setting["ana"], make_trainer()):
        with pytest.raises(PermissionDenied):
            meeting_reports.preview_report(intruder, session, "r.csv", data + b"\r\n")
        with pytest.raises(PermissionDenied):
            meeting_reports.apply_report(intruder, report_import)
        with pytest.raises(PermissionDenied):
            meeting_reports.get_import(intruder, report_import.id)
        with pytest.raises(PermissionDenied):
            meeting_reports.imports_for_session(intruder, session)
    admin = make_admin()
    assert meeting_reports.get_import(admin, report_import.id).id == report_import.id
    meeting_reports.apply_report(admin, report_import, now=AFTER)
    assert records()[setting["ana"].id].imported_minutes == 90


def test_an_offline_session_is_refused(setting) -> None:  # type: ignore[no-untyped-def]
    offline = make_session(setting["course"], starts_at=STARTS + timedelta(days=7))
    with pytest.raises(ValidationFailed) as caught:
        meeting_reports.preview_report(
            setting["trainer"],
            offline,
            "r.csv",
            csv_bytes([["手机号", "时长"], ["13800000001", "90"]]),
        )
    assert caught.value.code == "not_online"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceImport)) == 0


def test_a_hybrid_session_takes_reports_and_lists_them_newest_first(setting) -> None:  # type: ignore[no-untyped-def]
    hybrid = make_session(
        setting["course"], starts_at=STARTS - timedelta(days=7), mode=SessionMode.HYBRID
    )
    trainer = setting["trainer"]
    first = meeting_reports.preview_report(
        trainer, hybrid, "a.csv", csv_bytes([["手机号", "时长"], ["13800000001", "90"]]), now=AFTER
    )
    second = meeting_reports.preview_report(
        trainer,
        hybrid,
        "b.csv",
        csv_bytes([["手机号", "时长"], ["13800000002", "90"]]),
        now=AFTER + timedelta(minutes=5),
    )
    db.session.commit()
    listed = meeting_reports.imports_for_session(trainer, hybrid)
    assert [i.id for i in listed] == [second.id, first.id]
    assert db.session.get(CourseSession, hybrid.id).mode == SessionMode.HYBRID


def test_a_broken_xlsx_file_is_an_invalid_report_not_a_crash():
    import io
    import zipfile

    import openpyxl

    from courses.errors import ValidationFailed
    from courses.services import meeting_reports

    book = openpyxl.Workbook()
    book.active.append(["姓名", "手机号", "参会时长"])
    book.active.append(["张三", "13800000000", "90"])
    buffer = io.BytesIO()
    book.save(buffer)
    broken = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source,
        zipfile.ZipFile(broken, "w") as target,
    ):
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":  # a cell naming a missing string
                data = data.replace(
                    b"</sheetData>", b"<row r='3'><c r='A3' t='s'><v>99</v></c></row></sheetData>"
                )
            target.writestr(item, data)
    with pytest.raises(ValidationFailed) as refused:
        meeting_reports.parse_report("report.xlsx", broken.getvalue())
    assert refused.value.code == "invalid_report"
