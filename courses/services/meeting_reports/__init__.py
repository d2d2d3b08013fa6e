"""Online-meeting attendance reports (参会报告): the participant exports of Tencent Meeting
(腾讯会议), Zoom, Feishu (飞书), DingTalk (钉钉) and WeCom (企业微信) as the products save
them, or a file in the generic layout, turned into imported minutes on the learners'
attendance records — previewed first, applied only when the trainer confirms, and only
for a session that has ended.

Files (``parse``, ``headers``, ``values``)
------------------------------------------

CSV (UTF-8 with or without a byte-order mark, UTF-16 with one, or GBK/GB18030; comma or
tab separated) or XLSX, at most 5 MB and 5000 data rows. The header row is the first of
the first 15 rows that names a person (name, nickname, user id, phone or e-mail) and
either a duration or join and leave times; lines about the meeting above it (Tencent's
会议主题/会议号/预定开始时间/… rows, Zoom's meeting-summary header and values rows) are
read for the meeting's end and its host. Of several sheets (Tencent's 成员参会概况 and
成员参会明细) the per-join details are read: a summary of first join, last leave and a
total gives only an upper bound.

===========  ============================================================================
tencent      用户昵称(入会昵称), 入会时间, 退会时间 (``--``: stayed to the end), 参会时长, 身份
zoom         Name (Original Name), User Email, Join Time, Leave Time, Duration (Minutes)
feishu       参会人, 用户ID, 电话 (masked ``+86123****8910``), 邮箱, 入会时间, 离会时间, 参会时长
dingtalk     昵称/姓名, 用户ID, 首次入会时间, 最后退会时间, 累计参会时长(秒)
wecom        成员姓名, 用户ID, 首次进入时间, 最后离开时间, 累计参与时长
generic      name, phone, email, joined_at, left_at, minutes (or 姓名, 手机号, 邮箱, …)
===========  ============================================================================

Times without a zone are the academy's (``ACADEMY_TIMEZONE``, Asia/Shanghai); ``2022.07.21
11:04:52 (GMT+08:00)``, ``11/19/2021 10:00:00 AM`` and Excel date-times are read too.
Durations: ``85``, ``85分钟``, ``1小时25分钟``, ``0:30:00``; a number under a header with
``(秒)`` is seconds. A value that cannot be read, is negative or longer than a day makes
its row invalid, with the row number and the reason; the rest is still read.

Minutes and people (``preview``, ``matching``)
-----------------------------------------------

A person's rows (same phone, e-mail or platform user id; else the same name) are merged
as time intervals — a rejoin or a second device counts once —, clipped to the session's
time, and only then turned into minutes, at most the session's length. A person is
matched by e-mail or phone when the report has them; else by a name the trainer chose
for this learner before (``MeetingAlias``: for the course, or for any course); else by
name or nickname among the course's enrolled learners (spaces, brackets and full-width
characters do not matter; ``张晓燕8821`` is 张晓燕 whose phone ends in 8821; a masked
phone's visible last four digits tell apart learners of the same name). Several
candidates, an unknown name or a doubt make the person *ambiguous* or *unmatched*, and
the trainer may choose the learner on applying. The meeting's host and the course's
trainers are *unmatched* and cannot be chosen.

Imports (``imports``)
---------------------

``upload_report`` stores the preview as an ``AttendanceImport`` and changes nothing
else; the same file again (same SHA-256) is the same import. ``apply_report`` sets the
learners' imported minutes (``attendance.set_imported_minutes``: the larger of old and
new), remembers the trainer's choices, marks the import applied and writes one audit
entry; applying an applied import changes nothing.

Codes: ``invalid_report`` (not a readable report, saying what it lacks),
``report_too_large``, ``not_online``, ``session_not_ended``, ``invalid_choice``,
``nothing_to_apply``, ``forbidden``.
"""

from courses.services.meeting_reports.headers import LAYOUT_LABELS, LAYOUTS
from courses.services.meeting_reports.imports import (
    OUTCOMES,
    Uploaded,
    apply_report,
    counts,
    get_import,
    imports_for_session,
    preview_report,
    require_ended,
    session_of,
    upload_report,
    view,
    would_credit,
)
from courses.services.meeting_reports.matching import REASONS, reason_message
from courses.services.meeting_reports.parse import (
    ACCEPT,
    HEADER_SCAN_ROWS,
    MAX_REPORT_BYTES,
    MAX_REPORT_ROWS,
    ParsedReport,
    ReportRow,
    parse_report,
)
from courses.services.meeting_reports.preview import evaluate, person_minutes
from courses.services.meeting_reports.values import (
    BadValue,
    parse_duration,
    parse_time,
)

__all__ = [
    "ACCEPT",
    "HEADER_SCAN_ROWS",
    "LAYOUTS",
    "LAYOUT_LABELS",
    "MAX_REPORT_BYTES",
    "MAX_REPORT_ROWS",
    "OUTCOMES",
    "REASONS",
    "BadValue",
    "ParsedReport",
    "ReportRow",
    "Uploaded",
    "apply_report",
    "counts",
    "evaluate",
    "get_import",
    "imports_for_session",
    "parse_duration",
    "parse_report",
    "parse_time",
    "person_minutes",
    "preview_report",
    "reason_message",
    "require_ended",
    "session_of",
    "upload_report",
    "view",
    "would_credit",
]
