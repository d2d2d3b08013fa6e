"""Reading a report file (CSV or XLSX, read by ``courses.services.spreadsheets``): the
header row under title and meeting lines, the sheet of per-join details rather than
the summary, and each data row as a ``ReportRow``."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from courses.errors import ValidationFailed
from courses.services.contacts import email_address
from courses.services.meeting_reports.headers import (
    Header,
    find_header,
    meeting_facts,
    what_is_missing,
)
from courses.services.meeting_reports.values import (
    BadValue,
    is_open_end,
    masked_tail,
    parse_duration,
    parse_time,
    phone_cell,
    text_of,
)
from courses.services.spreadsheets import OldExcel, Oversized, Sheets, Unreadable, read_sheets

MAX_REPORT_BYTES = 5 * 1024 * 1024
MAX_REPORT_ROWS = 5000
HEADER_SCAN_ROWS = 15
#: Columns read from a sheet; exports have a dozen or so.
MAX_COLUMNS = 60
#: Rows read at most, empty ones included (a defence against files of blank rows).
MAX_RAW_ROWS = HEADER_SCAN_ROWS + 4 * MAX_REPORT_ROWS
#: Largest an XLSX file may be once unpacked.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
ACCEPT = ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_HOST_ROLES = frozenset({"主持人", "会议主持人", "创建者", "会议创建者", "发起人", "host"})
_SUMMARY_SHEETS = ("概况", "汇总", "统计", "summary", "overview")
_DETAIL_SHEETS = ("明细", "详情", "detail")


def invalid(message: Any = None) -> ValidationFailed:
    return ValidationFailed(
        message
        or _l(
            "This file is not a meeting attendance report we can read. Upload the participant "
            "details export of Tencent Meeting, Zoom, Feishu, DingTalk or WeCom as CSV or XLSX, "
            "as the platform saves it."
        ),
        code="invalid_report",
    )


def too_large() -> ValidationFailed:
    return ValidationFailed(
        _l(
            "The report is too large: at most %(mb)s MB and %(rows)s rows.",
            mb=MAX_REPORT_BYTES // (1024 * 1024),
            rows=MAX_REPORT_ROWS,
        ),
        code="report_too_large",
    )


_MISSING = {
    "person": _l(
        "No participant column was found: upload the meeting's participant details export "
        "(参会明细) as the platform saves it. It needs a column naming the people (such as "
        "用户昵称, 参会人, 姓名, Name, 手机号 or 邮箱) and their join and leave times or durations."
    ),
    "time": _l(
        "The list of participants has no join and leave times and no duration (such as 入会时间, "
        "退会时间 or 参会时长): export the meeting's participant details (参会明细), not the list "
        "of invitees."
    ),
}


@dataclass
class ReportRow:
    """One data row of the file, as read (``number`` is its row in the file, from 1)."""

    number: int
    name: str = ""
    user_ref: str | None = None  # the platform's user id
    phone: str | None = None
    phone_tail: str | None = None  # the visible last four digits of a masked phone
    email: str | None = None
    joined_at: datetime | None = None
    left_at: datetime | None = None
    stayed_to_end: bool = False  # the leave time reads ``--``
    duration_seconds: int | None = None
    host: bool = False
    reason: str | None = None  # set on an invalid row (``REASONS``)
    value: str = ""  # the value the reason is about

    @property
    def valid(self) -> bool:
        return self.reason is None


@dataclass
class ParsedReport:
    layout: str
    header_row: int  # the header's row in the file, from 1
    rows: list[ReportRow] = field(default_factory=list)
    summary: bool = False  # first join / last leave / totals only: an upper bound
    sheet: str = ""
    meeting_ended_at: datetime | None = None
    host_email: str | None = None


def _is_empty(cells: Sequence[Any]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def _cell(cells: Sequence[Any], header: Header, fieldname: str) -> Any:
    column = header.columns.get(fieldname)
    if column is None or column >= len(cells):
        return None
    value = cells[column]
    return value.strip() if isinstance(value, str) else value


def _read_row(number: int, cells: Sequence[Any], header: Header) -> ReportRow:
    row = ReportRow(number=number, name=text_of(_cell(cells, header, "name"))[:60])
    row.user_ref = text_of(_cell(cells, header, "user_ref"))[:64] or None
    raw_phone = _cell(cells, header, "phone")
    row.phone, masked = phone_cell(raw_phone)
    row.phone_tail = masked_tail(raw_phone) if masked else None
    row.email = email_address(text_of(_cell(cells, header, "email")))
    row.host = text_of(_cell(cells, header, "role")).lower() in _HOST_ROLES
    if not (row.name or row.user_ref or row.phone or row.email):
        row.reason = "masked_phone" if masked else "no_identifier"
        row.value = text_of(raw_phone or _cell(cells, header, "email"))[:60]
        return row
    left = _cell(cells, header, "left_at")
    try:
        row.joined_at = parse_time(_cell(cells, header, "joined_at"))
        row.stayed_to_end = is_open_end(left)
        row.left_at = None if row.stayed_to_end else parse_time(left)
        row.duration_seconds = parse_duration(
            _cell(cells, header, "minutes"), header.seconds_per_unit
        )
    except BadValue as bad:
        row.reason, row.value = bad.reason, bad.value
        return row
    if row.joined_at and row.left_at and row.left_at < row.joined_at:
        row.reason = "left_before_joined"
    elif row.duration_seconds is None and not (
        row.joined_at and (row.left_at or row.stayed_to_end)
    ):
        row.reason = "no_duration"
    return row


def parse_report(filename: str, data: bytes) -> ParsedReport:
    """Read a report file; ``invalid_report`` when it is not one (saying what it lacks),
    ``report_too_large`` over the limits. Bad rows are kept with their reason."""
    if len(data) > MAX_REPORT_BYTES:
        raise too_large()
    if not data.strip():
        raise invalid(_l("The file is empty."))
    sheets = read_sheets(
        filename, data, max_columns=MAX_COLUMNS, max_unpacked_bytes=MAX_UNPACKED_BYTES
    )
    try:
        return _parse_sheets(sheets)
    except OldExcel:
        raise invalid(
            _l("Old Excel files (.xls) cannot be read: save the report as XLSX or CSV first.")
        ) from None
    except Unreadable as error:
        raise invalid() from error
    except Oversized:
        raise too_large() from None
    finally:
        sheets.close()


@dataclass
class _Candidate:
    title: str
    head: list[Sequence[Any]]
    header: Header
    rest: Iterator[Sequence[Any]]

    @property
    def summary(self) -> bool:
        title = self.title.lower()
        if any(word in title for word in _DETAIL_SHEETS):
            return False
        return self.header.summary or any(word in title for word in _SUMMARY_SHEETS)


def _parse_sheets(sheets: Sheets) -> ParsedReport:
    candidates: list[_Candidate] = []
    heads: list[Sequence[Any]] = []
    for item in sheets:
        if item is None:
            break
        title, sheet = item
        head: list[Sequence[Any]] = []
        for cells in sheet:
            head.append(cells)
            if len(head) >= HEADER_SCAN_ROWS:
                break
        heads.extend(head)
        header = next(
            (h for i, cells in enumerate(head) if (h := find_header(cells, i)) is not None), None
        )
        if header is not None:
            candidates.append(_Candidate(title, head, header, sheet))
            if not candidates[-1].summary:
                break  # per-join details: the best there is
    if not candidates:
        raise invalid(_MISSING[what_is_missing(heads)])
    chosen = next((c for c in candidates if not c.summary), candidates[0])
    return _read_sheet(chosen)


def _facts(report: ParsedReport, head: list[Sequence[Any]]) -> None:
    facts = meeting_facts(head)
    try:
        report.meeting_ended_at = parse_time(facts.get("ended"))
    except BadValue:
        report.meeting_ended_at = None
    report.host_email = email_address(text_of(facts.get("host_email")))


def _read_sheet(chosen: _Candidate) -> ParsedReport:
    header = chosen.header
    report = ParsedReport(
        layout=header.layout,
        header_row=header.row_index + 1,
        summary=chosen.summary,
        sheet=chosen.title[:60],
    )
    _facts(report, chosen.head[: header.row_index])
    raw_count = len(chosen.head)
    number = header.row_index + 1
    for cells in _chain(chosen.head[header.row_index + 1 :], chosen.rest):
        number += 1
        raw_count += 1
        if raw_count > MAX_RAW_ROWS:
            raise too_large()
        if _is_empty(cells):
            continue
        if len(report.rows) >= MAX_REPORT_ROWS:
            raise too_large()
        report.rows.append(_read_row(number, cells, header))
    return report


def _chain(first: list[Sequence[Any]], rest: Iterator[Sequence[Any]]) -> Iterator[Sequence[Any]]:
    yield from first
    try:
        yield from rest
    except csv.Error as error:
        raise Unreadable() from error
