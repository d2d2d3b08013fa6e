"""Meeting reports as the products export them: Tencent Meeting's two-sheet XLSX with
its meeting lines, Zoom's CSV with the meeting-summary rows, Feishu's masked phones and
zoned times (GBK), DingTalk's and WeCom's first-join/last-leave summaries — built here
as the products write them, with rejoins, two devices at once, the host, a participant
who is not enrolled and nicknames that are not the account's name; the credited minutes
are asserted exactly. Also: no report for a session that has not ended, the trainer's
choice for an unknown nickname and its memory, absurd values."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa

from courses.db import db
from courses.errors import ValidationFailed
from courses.models import (
    AttendanceImport,
    AttendanceRecord,
    ImportStatus,
    MeetingAlias,
    SessionMode,
)
from courses.services import meeting_reports
from tests.factories import make_course, make_enrolment, make_session, make_trainer, make_user

#: The session: 2026-12-03 10:00–11:30 in Shanghai (90 minutes, 2 class hours).
STARTS = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
AFTER = STARTS + timedelta(hours=3)


def at(clock: str) -> str:
    return f"2026-12-03 {clock}"


def csv_bytes(lines: list[list[Any]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(lines)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(sheets: dict[str, list[list[Any]]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, lines in sheets.items():
        sheet = workbook.create_sheet(title)
        for line in lines:
            sheet.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---- the files, as the products write them ------------------------------------------------------

TENCENT_META = [
    ["会议主题", "桂城社工继续教育·线上课"],
    ["会议号", "123 456 789"],
    ["预定开始时间", at("10:00:00")],
    ["预定结束时间", at("11:30:00")],
    ["实际开始时间", at("09:50:00")],
    ["实际结束时间", at("11:35:00")],
    ["参会人数", "5"],
]


def tencent_xlsx(detail: list[list[Any]]) -> bytes:
    """Tencent Meeting: 成员参会概况 (first join, last leave, total) and 成员参会明细."""
    summary = [
        *TENCENT_META,
        ["用户昵称（入会昵称）", "首次入会时间", "最后退会时间", "累计参会时长", "身份"],
        ["张晓燕8821(张晓燕8821)", at("09:58:00"), at("11:35:00"), "1:40:00", "参会者"],
        ["王博(王博)", at("10:00:00"), at("11:15:00"), "1:00:00", "参会者"],
    ]
    header = ["用户昵称（入会昵称）", "入会时间", "退会时间", "参会时长", "入会终端", "身份"]
    return xlsx_bytes({"成员参会概况": summary, "成员参会明细": [*TENCENT_META, header, *detail]})


TENCENT = tencent_xlsx(
    [
        ["刘老师(刘老师)", at("09:50:00"), "--", "--", "PC", "主持人"],
        # 张晓燕 (nickname: name + the phone's last four) on PC, her phone at the same time,
        # then back after a dropout until the end (--): 10:00–11:00 and 11:10–11:30.
        ["张晓燕8821(张晓燕8821)", at("09:58:00"), at("10:40:00"), "0:42:00", "PC", "参会者"],
        ["张晓燕8821(张晓燕的iPhone)", at("10:30:00"), at("11:00:00"), "0:30:00", "iOS", "参会者"],
        ["张晓燕8821(张晓燕8821)", at("11:10:00"), "--", "--", "PC", "参会者"],
        # 王博 rejoins: 30 + 30 minutes.
        ["王博(王博)", at("10:00:00"), at("10:30:00"), "0:30:00", "Android", "参会者"],
        ["王博(王博)", at("10:45:00"), at("11:15:00"), "0:30:00", "Android", "参会者"],
        # A nickname no account has, and a participant who is not enrolled.
        ["小燕子(小燕子)", at("10:00:00"), at("11:30:00"), "1:30:00", "PC", "参会者"],
        ["局外人(局外人)", at("10:00:00"), at("10:20:00"), "0:20:00", "PC", "参会者"],
    ]
)

ZOOM = csv_bytes(
    [
        [
            "Meeting ID",
            "Topic",
            "Start Time",
            "End Time",
            "User Email",
            "Duration (Minutes)",
            "Participants",
        ],
        [
            "123 4567 8901",
            "社工继续教育",
            "12/03/2026 09:55:00 AM",
            "12/03/2026 11:40:00 AM",
            "liu@example.org",
            "105",
            "5",
        ],
        [],
        [
            "Name (Original Name)",
            "User Email",
            "Join Time",
            "Leave Time",
            "Duration (Minutes)",
            "Guest",
        ],
        [
            "刘老师",
            "liu@example.org",
            "12/03/2026 09:55:00 AM",
            "12/03/2026 11:40:00 AM",
            "105",
            "No",
        ],
        # Ana on two devices: 10:00–10:50 and 10:40–11:20 → 80 minutes.
        [
            "Ana Lee (李安娜)",
            "ANA@example.org",
            "12/03/2026 09:59:00 AM",
            "12/03/2026 10:50:00 AM",
            "51",
            "No",
        ],
        [
            "Ana Lee (李安娜)",
            "ana@example.org",
            "12/03/2026 10:40:00 AM",
            "12/03/2026 11:20:00 AM",
            "40",
            "No",
        ],
        ["王博 (Bo Wang)", "", "12/03/2026 10:15:00 AM", "12/03/2026 10:45:00 AM", "30", "Yes"],
        [
            "Stranger",
            "stranger@example.org",
            "12/03/2026 10:00:00 AM",
            "12/03/2026 11:30:00 AM",
            "90",
            "Yes",
        ],
    ]
)

FEISHU_HEADER = ["参会人", "用户ID", "电话", "邮箱", "入会时间", "离会时间", "参会时长", "入会设备"]


def feishu(clock: str, zone: str = "GMT+08:00") -> str:
    return f"2026.12.03 {clock} ({zone})"


FEISHU = csv_bytes(
    [
        FEISHU_HEADER,
        # Two learners named 张伟: the masked phones' last four digits tell them apart.
        [
            "张伟",
            "ou_111",
            "+86135****1111",
            "",
            feishu("10:00:00"),
            feishu("10:40:00"),
            "00:40:00",
            "Mac",
        ],
        [
            "张伟",
            "ou_111",
            "+86135****1111",
            "",
            feishu("10:50:00"),
            feishu("11:40:00"),
            "00:50:00",
            "Mac",
        ],
        [
            "张伟",
            "ou_222",
            "+86135****2222",
            "",
            feishu("10:00:00"),
            feishu("11:30:00"),
            "01:30:00",
            "iPhone",
        ],
        # 陈彩 by e-mail: 118 s and 62 s back to back make 3 minutes (not 1 + 1), then
        # 10:10–10:20 written in UTC.
        [
            "陈彩",
            "ou_333",
            "+86138****0003",
            "cai@example.org",
            feishu("10:00:00"),
            feishu("10:01:58"),
            "00:01:58",
            "Windows",
        ],
        [
            "陈彩",
            "ou_333",
            "+86138****0003",
            "cai@example.org",
            feishu("10:01:58"),
            feishu("10:03:00"),
            "00:01:02",
            "Windows",
        ],
        [
            "陈彩",
            "ou_333",
            "+86138****0003",
            "cai@example.org",
            feishu("02:10:00", "GMT+00:00"),
            feishu("02:20:00", "GMT+00:00"),
            "00:10:00",
            "Windows",
        ],
        [
            "王博",
            "ou_444",
            "",
            "",
            feishu("10:00:00"),
            feishu("11:00:00"),
            "1234567890123456789012",
            "Android",
        ],
    ],
    encoding="gbk",
)

DINGTALK = xlsx_bytes(
    {
        "参会人员统计": [
            ["钉钉视频会议 参会人员统计"],
            ["昵称", "用户ID", "首次入会时间", "最后退会时间", "累计参会时长(秒)"],
            # First join 09:50, last leave 11:40, 85 minutes in all: at most 85.
            [
                "李安娜",
                "ding001",
                datetime(2026, 12, 3, 9, 50),
                datetime(2026, 12, 3, 11, 40),
                5100,
            ],
            ["王博", "ding002", datetime(2026, 12, 3, 10, 0), datetime(2026, 12, 3, 10, 30), 1800],
            [
                "钉钉用户5521",
                "ding009",
                datetime(2026, 12, 3, 10, 0),
                datetime(2026, 12, 3, 11, 0),
                3600,
            ],
        ]
    }
)

WECOM = b"\xef\xbb\xbf" + csv_bytes(
    [
        ["成员姓名", "用户ID", "首次进入时间", "最后离开时间", "累计参与时长"],
        ["王 博", "wangbo", at("10:00"), at("11:00"), "0:45:00"],
        ["李安娜（社工）", "lianna", at("10:30"), at("11:40"), "1小时"],
        ["ＣＡＩ 陈彩", "chencai", at("09:00"), at("09:50"), "0:50:00"],
        ["刘老师", "liulaoshi", at("09:55"), at("11:30"), "1:35:00"],
    ]
)


# ---- the setting --------------------------------------------------------------------------------


@pytest.fixture
def course_setting(app_ctx):  # type: ignore[no-untyped-def]
    trainer = make_trainer(name="刘老师", email="liu@example.org")
    course = make_course(trainers=[trainer])
    session = make_session(
        course,
        starts_at=STARTS,
        duration=timedelta(minutes=90),
        mode=SessionMode.ONLINE,
        meeting_url="https://meeting.tencent.com/dm/abc",
        class_hours=2,
    )
    people = {
        "zhang": make_user("张晓燕", phone="13912348821", email="zxy@example.org"),
        "ana": make_user("李安娜", phone="13800000001", email="ana@example.org"),
        "bo": make_user("王博", phone="13800000002", email="bo@example.org"),
        "cai": make_user("陈彩", phone="13800000003", email="cai@example.org"),
        "wei1": make_user("张伟", phone="13500001111"),
        "wei2": make_user("张 伟", phone="13500002222"),
    }
    for user in people.values():
        make_enrolment(course, user)
    make_user("局外人", phone="13600000009")
    return {"trainer": trainer, "course": course, "session": session, **people}


def preview(setting: dict[str, Any], data: bytes, name: str = "r.xlsx") -> AttendanceImport:
    return meeting_reports.preview_report(setting["trainer"], setting["session"], name, data)


def matched(report_import: AttendanceImport) -> dict[int, int]:
    return {
        row["user_id"]: row["minutes"] for row in report_import.rows if row["outcome"] == "matched"
    }


def by_name(report_import: AttendanceImport) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in report_import.rows if row["outcome"] != "matched"}


def credited(setting: dict[str, Any]) -> dict[int, int]:
    db.session.expire_all()
    rows = db.session.scalars(
        sa.select(AttendanceRecord).where(AttendanceRecord.session_id == setting["session"].id)
    )
    return {r.user_id: r.imported_minutes for r in rows}


# ---- each layout --------------------------------------------------------------------------------


def test_tencent_two_sheets_with_meeting_lines_reads_the_details(course_setting) -> None:  # type: ignore[no-untyped-def]
    s = course_setting
    report = meeting_reports.parse_report("腾讯会议.xlsx", TENCENT)
    assert (report.layout, report.header_row, report.sheet) == ("tencent", 8, "成员参会明细")
    assert report.meeting_ended_at == datetime(2026, 12, 3, 3, 35, tzinfo=UTC)

    report_import = preview(s, TENCENT)
    assert matched(report_import) == {s["zhang"].id: 60 + 20, s["bo"].id: 30 + 30}
    rows = {row["user_id"]: row for row in report_import.rows if row["outcome"] == "matched"}
    assert rows[s["zhang"].id]["via"] == "name_phone"
    assert rows[s["zhang"].id]["rows"] == [10, 11, 12]
    others = by_name(report_import)
    assert (others["刘老师(刘老师)"]["reason"], others["刘老师(刘老师)"]["pickable"]) == (
        "host",
        False,
    )
    assert others["小燕子(小燕子)"]["reason"] == "unknown_name"
    assert others["小燕子(小燕子)"]["pickable"] is True
    assert others["局外人(局外人)"]["outcome"] == "unmatched"

    meeting_reports.apply_report(s["trainer"], report_import, now=AFTER)
    db.session.commit()
    assert credited(s) == {s["zhang"].id: 80, s["bo"].id: 60}


def test_zoom_csv_under_the_meeting_summary(course_setting) -> None:  # type: ignore[no-untyped-def]
    s = course_setting
    report = meeting_reports.parse_report("participants.csv", ZOOM)
    assert (report.layout, report.header_row, report.host_email) == (
        "zoom",
        4,
        "liu@example.org",
    )
    assert report.rows[1].joined_at == datetime(2026, 12, 3, 1, 59, tzinfo=UTC)
    report_import = preview(s, ZOOM, "participants.csv")
    assert matched(report_import) == {s["ana"].id: 80, s["bo"].id: 30}
    others = by_name(report_import)
    assert others["刘老师"]["reason"] == "host"
    assert others["Stranger"]["reason"] == "not_enrolled"
    meeting_reports.apply_report(s["trainer"], report_import, now=AFTER)
    db.session.commit()
    assert credited(s) == {s["ana"].id: 80, s["bo"].id: 30}


def test_feishu_gbk_with_masked_phones_and_zoned_times(course_setting) -> None:  # type: ignore[no-untyped-def]
    s = course_setting
    with pytest.raises(UnicodeDecodeError):
        FEISHU.decode("utf-8")
    report_import = preview(s, FEISHU, "飞书.csv")
    assert report_import.layout == "feishu"
    assert matched(report_import) == {
        s["wei1"].id: 40 + 40,
        s["wei2"].id: 90,
        s["cai"].id: 3 + 10,
    }
    (bad,) = [row for row in report_import.rows if row["outcome"] == "invalid"]
    assert (bad["row"], bad["reason"]) == (8, "duration_too_long")
    assert "超过一天" in meeting_reports.reason_message(bad)
    meeting_reports.apply_report(s["trainer"], report_import, now=AFTER)
    db.session.commit()
    assert credited(s) == {s["wei1"].id: 80, s["wei2"].id: 90, s["cai"].id: 13}


def test_dingtalk_summary_gives_at_most_its_total(course_setting) -> None:  # type: ignore[no-untyped-def]
    s = course_setting
    report_import = preview(s, DINGTALK, "钉钉.xlsx")
    assert report_import.layout == "dingtalk"
    assert matched(report_import) == {s["ana"].id: 85, s["bo"].id: 30}
    assert all(row["upper_bound"] for row in report_import.rows if row["outcome"] == "matched")
    assert by_name(report_import)["钉钉用户5521"]["reason"] == "unknown_name"


def test_wecom_names_with_spaces_brackets_and_full_width_letters(course_setting) -> None:  # type: ignore[no-untyped-def]
    s = course_setting
    report_import = preview(s, WECOM, "企业微信.csv")
    assert report_import.layout == "wecom"
    # 王博: first 10:00, last 11:00, 45 minutes in all; 李安娜 from 10:30 to the end, one
    # hour; 陈彩 left before the session began.
    assert matched(report_import) == {s["bo"].id: 45, s["ana"].id: 60, s["cai"].id: 0}
    trainer = by_name(report_import)["刘老师"]
    assert (trainer["outcome"], trainer["reason"], trainer["pickable"]) == (
        "unmatched",
        "trainer",
        False,
    )


# ---- choosing the learner, and remembering it ------------------------------------------------


def test_the_trainers_choice_is_applied_and_remembered(course_setting) -> None:  # type: ignore[no-untyped-def]
    s = course_setting
    first = preview(s, TENCENT)
    row = by_name(first)["小燕子(小燕子)"]["row"]
    meeting_reports.apply_report(s["trainer"], first, now=AFTER, choices={row: s["cai"].id})
    db.session.commit()
    assert credited(s)[s["cai"].id] == 90
    applied = db.session.get(AttendanceImport, first.id)
    chosen = next(r for r in applied.rows if r["row"] == row)
    assert (chosen["outcome"], chosen["via"], chosen["user_id"]) == (
        "matched",
        "chosen",
        s["cai"].id,
    )
    aliases = {
        (a.course_id, a.alias, a.user_id) for a in db.session.scalars(sa.select(MeetingAlias))
    }
    assert aliases == {
        (course_id, alias, s["cai"].id)
        for course_id in (s["course"].id, None)
        for alias in ("name:小燕子(小燕子)", "name:小燕子")
    }

    # The next session of the course: 小燕子 is 陈彩 without asking.
    later = make_session(
        s["course"],
        starts_at=STARTS + timedelta(days=1),
        duration=timedelta(minutes=90),
        mode=SessionMode.ONLINE,
        class_hours=2,
    )
    again = meeting_reports.preview_report(
        s["trainer"],
        later,
        "r.xlsx",
        tencent_xlsx(
            [
                [
                    "小燕子(小燕子的iPad)",
                    "2026-12-04 10:00:00",
                    "2026-12-04 10:45:00",
                    "0:45:00",
                    "PC",
                    "",
                ]
            ]
        ),
        now=AFTER + timedelta(days=1),
    )
    (row_again,) = again.rows
    assert (row_again["outcome"], row_again["via"], row_again["user_id"]) == (
        "matched",
        "remembered",
        s["cai"].id,
    )
    assert row_again["minutes"] == 45

    # Another course: the global choice counts when 陈彩 is enrolled there, not otherwise.
    other = make_course(trainers=[s["trainer"]])
    other_session = make_session(
        other, starts_at=STARTS, duration=timedelta(minutes=90), mode=SessionMode.ONLINE
    )
    data = tencent_xlsx([["小燕子(小燕子)", at("10:00:00"), at("10:30:00"), "0:30:00", "PC", ""]])
    alone = meeting_reports.preview_report(s["trainer"], other_session, "a.xlsx", data)
    assert alone.rows[0]["outcome"] == "unmatched"
    make_enrolment(other, s["cai"])
    # (another file: the same one again would be the same import)
    data = tencent_xlsx([["小燕子(小燕子)", at("10:00:00"), at("10:31:00"), "0:31:00", "PC", ""]])
    joined = meeting_reports.preview_report(s["trainer"], other_session, "b.xlsx", data)
    assert (joined.rows[0]["outcome"], joined.rows[0]["via"], joined.rows[0]["user_id"]) == (
        "matched",
        "remembered",
        s["cai"].id,
    )
    assert joined.rows[0]["minutes"] == 31


def test_a_choice_that_cannot_be_made_changes_nothing(course_setting) -> None:  # type: ignore[no-untyped-def]
    s = course_setting
    report_import = preview(s, TENCENT)
    db.session.commit()
    host_row = by_name(report_import)["刘老师(刘老师)"]["row"]
    pick_row = by_name(report_import)["小燕子(小燕子)"]["row"]
    outsider = make_user("外人", phone="13700000077")
    matched_row = next(r["row"] for r in report_import.rows if r["outcome"] == "matched")
    for choices in (
        {host_row: s["cai"].id},
        {pick_row: outsider.id},
        {pick_row: 2**63},
        {matched_row: s["cai"].id},
        {999999: s["cai"].id},
    ):
        with pytest.raises(ValidationFailed) as refused:
            meeting_reports.apply_report(s["trainer"], report_import, now=AFTER, choices=choices)
        assert refused.value.code == "invalid_choice"
        db.session.rollback()
    assert credited(s) == {}
    assert db.session.get(AttendanceImport, report_import.id).status == ImportStatus.PREVIEW
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MeetingAlias)) == 0


def test_nothing_to_apply_when_nothing_matched(course_setting) -> None:  # type: ignore[no-untyped-def]
    s = course_setting
    data = tencent_xlsx([["小燕子(小燕子)", at("10:00:00"), at("11:30:00"), "1:30:00", "PC", ""]])
    report_import = preview(s, data)
    with pytest.raises(ValidationFailed) as refused:
        meeting_reports.apply_report(s["trainer"], report_import, now=AFTER)
    assert refused.value.code == "nothing_to_apply"


# ---- a session that has not ended; absurd values ---------------------------------------------


def test_no_report_for_a_session_that_has_not_ended(course_setting) -> None:  # type: ignore[no-untyped-def]
    s = course_setting
    tomorrow = make_session(
        s["course"],
        starts_at=datetime.now(UTC) + timedelta(days=1),
        duration=timedelta(minutes=90),
        mode=SessionMode.ONLINE,
    )
    with pytest.raises(ValidationFailed) as refused:
        meeting_reports.preview_report(s["trainer"], tomorrow, "r.xlsx", TENCENT)
    assert refused.value.code == "session_not_ended"
    assert "尚未结束" in str(refused.value.message)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceImport)) == 0

    # A preview made after the end, applied "before" it (the session was moved): refused.
    report_import = meeting_reports.preview_report(
        s["trainer"], s["session"], "r.xlsx", TENCENT, now=AFTER
    )
    db.session.commit()
    with pytest.raises(ValidationFailed) as refused:
        meeting_reports.apply_report(s["trainer"], report_import, now=STARTS + timedelta(hours=1))
    assert refused.value.code == "session_not_ended"
    db.session.rollback()
    assert credited(s) == {}
    assert db.session.get(AttendanceImport, report_import.id).status == ImportStatus.PREVIEW


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        (["王博", at("10:00:00"), at("11:00:00"), "9" * 23], "duration_too_long"),
        (["王博", at("10:00:00"), at("11:00:00"), "1e308"], "bad_duration"),
        (["王博", at("10:00:00"), at("11:00:00"), "99999999:00:00"], "bad_duration"),
        (["王博", "9999-12-31 23:59:59", at("11:00:00"), ""], "bad_time"),
        (["王博", 1e300, at("11:00:00"), ""], "bad_time"),
        (["王博", "2026.12.03 10:00:00 (GMT+99:00)", at("11:00:00"), ""], "bad_time"),
    ],
)
def test_absurd_values_are_row_errors(course_setting, cells: list[Any], reason: str) -> None:  # type: ignore[no-untyped-def]
    data = xlsx_bytes({"明细": [["姓名", "入会时间", "退会时间", "参会时长"], cells]})
    report_import = preview(course_setting, data)
    (row,) = report_import.rows
    assert (row["outcome"], row["reason"]) == ("invalid", reason)


def test_a_file_without_times_says_what_it_lacks(app_ctx) -> None:  # type: ignore[no-untyped-def]
    data = csv_bytes([["会议主题", "社工课"], [], ["参会人", "用户ID"], ["张伟", "ou_1"]])
    with pytest.raises(ValidationFailed) as refused:
        meeting_reports.parse_report("飞书.csv", data)
    assert refused.value.code == "invalid_report"
    assert "没有入会、退会时间，也没有参会时长" in str(refused.value.message)


def test_digits_in_a_nickname_that_are_not_the_phones_make_it_doubtful(course_setting) -> None:  # type: ignore[no-untyped-def]
    s = course_setting
    data = tencent_xlsx(
        [
            ["张晓燕1234(张晓燕1234)", at("10:00:00"), at("11:00:00"), "1:00:00", "PC", ""],
            ["张伟(张伟)", at("10:00:00"), at("11:00:00"), "1:00:00", "PC", ""],
        ]
    )
    report_import = preview(s, data)
    assert matched(report_import) == {}
    doubtful = by_name(report_import)
    assert doubtful["张晓燕1234(张晓燕1234)"]["reason"] == "phone_tail_differs"
    assert [c["user_id"] for c in doubtful["张晓燕1234(张晓燕1234)"]["candidates"]] == [
        s["zhang"].id
    ]
    assert doubtful["张伟(张伟)"]["reason"] == "same_name"
    assert {c["user_id"] for c in doubtful["张伟(张伟)"]["candidates"]} == {
        s["wei1"].id,
        s["wei2"].id,
    }
    assert all(row["outcome"] == "ambiguous" and row["pickable"] for row in doubtful.values())


def test_a_long_summary_sheet_before_a_sheet_without_a_header_is_read_to_the_end(
    course_setting,
) -> None:  # type: ignore[no-untyped-def]
    s = course_setting
    filler = [
        [f"访客{n}", f"guest{n}", datetime(2026, 12, 3, 10, 0), datetime(2026, 12, 3, 10, 5), 300]
        for n in range(30)
    ]
    data = xlsx_bytes(
        {
            "参会人员统计": [
                ["昵称", "用户ID", "首次入会时间", "最后退会时间", "累计参会时长(秒)"],
                *filler,
                [
                    "王博",
                    "ding002",
                    datetime(2026, 12, 3, 10, 0),
                    datetime(2026, 12, 3, 10, 30),
                    1800,
                ],
            ],
            "说明": [["本表由钉钉导出"]],
        }
    )
    report = meeting_reports.parse_report("钉钉.xlsx", data)
    assert (report.summary, len(report.rows), report.rows[-1].number) == (True, 31, 32)
    assert matched(preview(s, data)) == {s["bo"].id: 30}


def test_a_participants_header_that_repeats_the_meeting_topic_is_the_header(course_setting) -> None:  # type: ignore[no-untyped-def]
    data = csv_bytes(
        [
            ["会议主题", "会议号", "姓名", "手机号", "入会时间", "退会时间"],
            ["社工课", "123", "某人", "13800000002", at("10:00:00"), at("10:40:00")],
        ]
    )
    report_import = preview(course_setting, data, "r.csv")
    assert matched(report_import) == {course_setting["bo"].id: 40}
