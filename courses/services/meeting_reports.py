"""Online-meeting attendance reports (参会报告): the participant export of Tencent Meeting
(腾讯会议), DingTalk (钉钉) or WeCom (企业微信), or a file in the generic layout, turned
into imported minutes on the learners' attendance records — previewed first, applied
only when the trainer confirms.

Files
-----

CSV (UTF-8 with or without a byte-order mark, UTF-16 with one, or GBK/GB18030 as
Chinese Excel and WPS write it; comma or tab separated) or XLSX, at most
``MAX_REPORT_BYTES`` (5 MB) and ``MAX_REPORT_ROWS`` (5000) data rows. Exports often
start with a few title or summary lines: the header row is the first of the first
``HEADER_SCAN_ROWS`` rows (of the first sheet that has one) that names an identifier
column (phone or e-mail) and either a duration column or join and leave times. The
layout is told by the headers only the platform uses:

===========  ====================================================================
tencent      用户昵称 (入会昵称), 手机号/电话, 邮箱, 入会时间, 退会时间, 参会时长(分钟)
dingtalk     姓名, 手机号, 首次入会时间, 最后退会时间, 累计参会时长
wecom        成员姓名/姓名, 手机, 进入时间, 离开时间, 参与时长
generic      see below
===========  ====================================================================

Header names are matched liberally (case, spaces and a unit in brackets do not matter,
and any platform's synonym works in any file), so a file whose headers are known but
none of them platform-specific is read as *generic*.

The generic layout
~~~~~~~~~~~~~~~~~~

One row per attendance (a person may have several rows), with a header row of these
columns in any order; ``phone`` or ``email`` is required, and ``minutes`` or both
``joined_at`` and ``left_at``:

==========  ===========  ==============================================================
English     中文          value
==========  ===========  ==============================================================
name        姓名          the participant's name (shown, not used for matching)
phone       手机号        mainland mobile number; spaces, dashes, +86/86 are ignored
email       邮箱          e-mail address, case does not matter
joined_at   入会时间       ``2026-12-03 09:58:12`` (Asia/Shanghai) or an Excel date-time
left_at     退会时间       same
minutes     时长(分钟)     ``85``, ``85分钟``, ``1小时25分钟``, ``01:25:00`` (h:mm:ss) or
                          ``1:25`` (h:mm); a number in a column headed ``(秒)`` is seconds,
                          ``(小时)`` hours
==========  ===========  ==============================================================

Minutes
-------

A row's time in the meeting is its duration when given, else leave − join. When its
join or leave time is known the row is also clipped to the session's
``[starts_at, ends_at]`` (a row with a duration and one of the times is placed from that
time). A person's rows (same phone or e-mail, or the same learner) are added up, except
that overlapping times — two devices at once — count once; the total is capped at the
session's length. Rows without a usable phone or e-mail, with a time or duration that
cannot be read, negative, or leaving before joining are listed as *invalid* with their
row number and reason; they never stop the rest.

Matching and applying
---------------------

A person is *matched* when their phones and e-mails lead to exactly one learner with an
attending enrolment in the session's course (one query for all identifiers),
*ambiguous* when they lead to more than one (phone of one learner, e-mail of another),
*unmatched* when they lead to none (including people without an account or not
enrolled). ``preview_report`` stores all that as an ``AttendanceImport`` and changes
nothing else; the same file uploaded again for the session (same SHA-256) is the same
import. ``apply_report`` sets the matched learners' imported minutes
(``courses.services.attendance.set_imported_minutes``, which keeps the larger of old and
new, derives the record and evaluates completion), marks the import applied and writes
one audit entry; applying an applied import changes nothing.

Codes: ``invalid_report`` (not a readable report), ``report_too_large`` (over the size
or row limit), ``not_online`` (the session is neither online nor hybrid), ``forbidden``.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from courses.db import db, utcnow
from courses.errors import NotFound, ValidationFailed
from courses.models import (
    AttendanceImport,
    AttendanceMethod,
    CourseSession,
    Enrolment,
    ImportStatus,
    User,
)
from courses.services import attendance, audit
from courses.settings import from_local

MAX_REPORT_BYTES = 5 * 1024 * 1024
MAX_REPORT_ROWS = 5000
HEADER_SCAN_ROWS = 15
#: Columns read from a sheet; exports have a dozen or so.
MAX_COLUMNS = 60
#: Rows read at most, empty ones included (a defence against files of blank rows).
MAX_RAW_ROWS = HEADER_SCAN_ROWS + 4 * MAX_REPORT_ROWS
ACCEPT = ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

LAYOUTS = ("tencent", "dingtalk", "wecom", "generic")
LAYOUT_LABELS = {
    "tencent": _l("Tencent Meeting"),
    "dingtalk": _l("DingTalk"),
    "wecom": _l("WeCom"),
    "generic": _l("Generic layout"),
}
OUTCOMES = ("matched", "ambiguous", "unmatched", "invalid")

# ---- headers ---------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: Header names (lower case, without spaces and without a bracketed unit) → field.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": _words(
        "用户昵称 入会昵称 昵称 姓名 成员姓名 成员 成员名称 参会者 参会人 参会人员 参会者姓名 "
        "参与者 真实姓名 用户名 用户 名称 name fullname participant"
    ),
    "phone": _words(
        "手机号 手机 手机号码 电话 电话号码 联系电话 联系方式 "
        "phone mobile phonenumber tel telephone"
    ),
    "email": _words("邮箱 电子邮箱 邮件 邮箱地址 电子邮件 email e-mail mail"),
    "joined_at": _words(
        "入会时间 首次入会时间 进入时间 首次进入时间 加入时间 加入会议时间 进入会议时间 "
        "joined_at joinedat join_time jointime joined"
    ),
    "left_at": _words(
        "退会时间 最后退会时间 离开时间 最后离开时间 退出时间 离会时间 离开会议时间 "
        "left_at leftat leave_time leavetime left"
    ),
    "minutes": _words(
        "参会时长 累计参会时长 参与时长 累计参与时长 在会时长 入会时长 时长 "
        "minutes duration duration_minutes attended_minutes"
    ),
}
_FIELD_OF = {name: fieldname for fieldname, names in _SYNONYMS.items() for name in names}
#: Headers only one platform uses: the layout with the most of them wins.
_MARKERS: dict[str, frozenset[str]] = {
    "tencent": frozenset({"用户昵称", "入会昵称", "参会时长"}),
    "dingtalk": frozenset({"首次入会时间", "最后退会时间", "累计参会时长"}),
    "wecom": frozenset({"成员姓名", "进入时间", "离开时间", "参与时长", "累计参与时长"}),
    "generic": frozenset({"name", "phone", "email", "joined_at", "left_at", "minutes", "时长"}),
}
_SECONDS_PER_UNIT = {
    **dict.fromkeys(_words("小时 时 h hr hrs hour hours"), 3600),
    **dict.fromkeys(_words("分钟 分 m min mins minute minutes"), 60),
    **dict.fromkeys(_words("秒钟 秒 s sec secs second seconds"), 1),
}
_BRACKETED = re.compile(r"[(（\[【]([^)）\]】]*)[)）\]】]")


@dataclass(frozen=True)
class Header:
    row_index: int  # 0-based among the rows read
    columns: dict[str, int]  # field → column index
    seconds_per_unit: int  # of a bare number in the duration column
    layout: str


def _header_name(cell: Any) -> tuple[str, str]:
    """A header cell as (name without unit, unit in brackets), both lower case."""
    text = re.sub(r"\s+", "", str(cell or "").replace("\ufeff", "")).lower()
    unit = ""
    found = _BRACKETED.search(text)
    if found:
        unit = found.group(1)
    return _BRACKETED.sub("", text), unit


def _header(cells: Sequence[Any], row_index: int) -> Header | None:
    columns: dict[str, int] = {}
    names: list[str] = []
    seconds_per_unit = 60
    for column, cell in enumerate(cells):
        name, unit = _header_name(cell)
        if not name:
            continue
        names.append(name)
        fieldname = _FIELD_OF.get(name)
        if fieldname is None or fieldname in columns:
            continue
        columns[fieldname] = column
        if fieldname == "minutes" and unit in _SECONDS_PER_UNIT:
            seconds_per_unit = _SECONDS_PER_UNIT[unit]
    has_identifier = "phone" in columns or "email" in columns
    has_time = "minutes" in columns or ("joined_at" in columns and "left_at" in columns)
    if not (has_identifier and has_time):
        return None
    scores = {layout: len(_MARKERS[layout].intersection(names)) for layout in LAYOUTS}
    best = max(LAYOUTS, key=lambda layout: scores[layout])
    return Header(row_index, columns, seconds_per_unit, best if scores[best] else "generic")


# ---- reading files ---------------------------------------------------------------------------


def _invalid(message: Any = None) -> ValidationFailed:
    return ValidationFailed(
        message
        or _l(
            "This file is not a meeting attendance report we can read. Upload the participant "
            "export of Tencent Meeting, DingTalk or WeCom as CSV or XLSX, or a file in the "
            "generic layout."
        ),
        code="invalid_report",
    )


def _too_large() -> ValidationFailed:
    return ValidationFailed(
        _l(
            "The report is too large: at most %(mb)s MB and %(rows)s rows.",
            mb=MAX_REPORT_BYTES // (1024 * 1024),
            rows=MAX_REPORT_ROWS,
        ),
        code="report_too_large",
    )


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        candidates = [("utf-8", data[len(codecs.BOM_UTF8) :])]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = [("utf-16", data)]
    else:
        # GB18030 is a superset of GBK and GB2312, which Chinese Excel writes.
        candidates = [("utf-8", data), ("gb18030", data)]
    for encoding, raw in candidates:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise _invalid()


def _csv_rows(data: bytes) -> Iterator[list[Any]]:
    text = _decode(data)
    head = text[:8192]
    delimiter = "\t" if head.count("\t") > head.count(",") else ","
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as error:
        raise _invalid() from error


def _xlsx_sheets(data: bytes) -> Iterator[Iterator[Sequence[Any]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # any failure to open untrusted input
        raise _invalid() from error
    try:
        for sheet in workbook.worksheets:
            if hasattr(sheet, "iter_rows"):
                yield _guarded(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True))
    finally:
        workbook.close()


def _guarded(rows: Iterator[Sequence[Any]]) -> Iterator[Sequence[Any]]:
    """Rows of untrusted XLSX: any failure while reading them makes the file invalid."""
    try:
        yield from rows
    except Exception as error:  # a broken sheet, a dangling shared string, …
        raise _invalid() from error


#: Largest an XLSX file may be once unpacked.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024


def _sheets(filename: str, data: bytes) -> Iterator[Iterator[Sequence[Any]]]:
    if data.startswith(b"PK\x03\x04"):
        if not zipfile.is_zipfile(io.BytesIO(data)):
            raise _invalid()
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_UNPACKED_BYTES:  # a small file that would fill the memory
            raise _too_large()
        yield from _xlsx_sheets(data)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _invalid(
            _l("Old Excel files (.xls) cannot be read: save the report as XLSX or CSV first.")
        )
    else:
        yield _csv_rows(data)


def _is_empty(cells: Sequence[Any]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


# ---- reading values --------------------------------------------------------------------------

_PHONE_JUNK = re.compile(r"[\s\-()（）+]")
_DURATION_PART = re.compile(
    r"(\d+(?:\.\d+)?)(小时|时|hours?|hrs?|h|分钟|分|minutes?|mins?|m|秒钟|秒|seconds?|secs?|s)"
)
_CLOCK = re.compile(r"^(\d+):(\d{1,2})(?::(\d{1,2}))?$")
_TIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H:%M:%S",
    "%Y年%m月%d日%H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
)
#: Excel stores a bare duration (01:25:00) as a time on its epoch day.
_EXCEL_EPOCH_DAYS = (date(1899, 12, 30), date(1899, 12, 31), date(1900, 1, 1))


class BadValue(Exception):
    def __init__(self, reason: str, value: Any):
        super().__init__(reason)
        self.reason = reason
        self.value = "" if value is None else str(value)[:60]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def normalise_phone(value: Any) -> tuple[str | None, bool]:
    """A phone cell as (digits or None, whether it was masked like ``138****0000``)."""
    text = _text(value).lstrip("'")
    if not text:
        return None, False
    if "*" in text:
        return None, True
    phone = _PHONE_JUNK.sub("", text)
    if phone.startswith("0086"):
        phone = phone[4:]
    elif phone.startswith("86") and len(phone) == 13:
        phone = phone[2:]
    if not phone.isdigit() or not 5 <= len(phone) <= 15:
        return None, False
    return phone, False


def normalise_email(value: Any) -> str | None:
    text = _text(value).lower()
    if "@" not in text or " " in text or len(text) > 254:
        return None
    return text


def parse_duration(value: Any, seconds_per_unit: int = 60) -> int | None:
    """Seconds; None for an empty cell; ``BadValue`` for what cannot be read."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise BadValue("bad_duration", value)
    if isinstance(value, int | float):
        seconds = float(value) * seconds_per_unit
    elif isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, datetime):
        if value.date() not in _EXCEL_EPOCH_DAYS:
            raise BadValue("bad_duration", value)
        seconds = (value - datetime.combine(value.date(), time())).total_seconds()
        seconds += (value.date() - _EXCEL_EPOCH_DAYS[0]).days * 86400
    elif isinstance(value, time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second
    else:
        seconds = _duration_text(str(value), seconds_per_unit)
    if seconds < 0:
        raise BadValue("negative", value)
    return round(seconds)


def _duration_text(raw: str, seconds_per_unit: int) -> float:
    text = re.sub(r"\s+", "", raw).lower()
    negative = text.startswith("-")
    body = text[1:] if negative else text
    sign = -1 if negative else 1
    try:
        return sign * float(body) * seconds_per_unit
    except ValueError:
        pass
    clock = _CLOCK.match(body)
    if clock:
        hours, minutes, seconds = clock.group(1), clock.group(2), clock.group(3)
        return sign * (int(hours) * 3600 + int(minutes) * 60 + int(seconds or 0))
    parts = _DURATION_PART.findall(body)
    if parts and "".join(number + unit for number, unit in parts) == body:
        return sign * sum(float(number) * _SECONDS_PER_UNIT[unit] for number, unit in parts)
    raise BadValue("bad_duration", raw)


def parse_time(value: Any) -> datetime | None:
    """An aware UTC datetime from a cell (Asia/Shanghai wall-clock time unless it says
    otherwise); None for an empty cell; ``BadValue`` for what cannot be read."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        from openpyxl.utils.datetime import from_excel

        try:
            moment = from_excel(value)
        except (ValueError, OverflowError, TypeError) as error:
            raise BadValue("bad_time", value) from error
        if not isinstance(moment, datetime):
            raise BadValue("bad_time", value)
    else:
        moment = _time_text(str(value).strip())
    if moment.year < 2000:
        raise BadValue("bad_time", value)
    return from_local(moment)


def _time_text(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise BadValue("bad_time", text)


# ---- parsing ---------------------------------------------------------------------------------


@dataclass
class ReportRow:
    """One data row of the file, as read (``number`` is its row in the file, from 1)."""

    number: int
    name: str = ""
    phone: str | None = None
    email: str | None = None
    joined_at: datetime | None = None
    left_at: datetime | None = None
    duration_seconds: int | None = None
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


def _cell(cells: Sequence[Any], header: Header, fieldname: str) -> Any:
    column = header.columns.get(fieldname)
    if column is None or column >= len(cells):
        return None
    value = cells[column]
    return value.strip() if isinstance(value, str) else value


def _read_row(number: int, cells: Sequence[Any], header: Header) -> ReportRow:
    row = ReportRow(number=number, name=_text(_cell(cells, header, "name"))[:60])
    row.phone, masked = normalise_phone(_cell(cells, header, "phone"))
    row.email = normalise_email(_cell(cells, header, "email"))
    if row.phone is None and row.email is None:
        row.reason = "masked_phone" if masked else "no_identifier"
        row.value = _text(_cell(cells, header, "phone") or _cell(cells, header, "email"))[:60]
        return row
    try:
        row.joined_at = parse_time(_cell(cells, header, "joined_at"))
        row.left_at = parse_time(_cell(cells, header, "left_at"))
        row.duration_seconds = parse_duration(
            _cell(cells, header, "minutes"), header.seconds_per_unit
        )
    except BadValue as bad:
        row.reason, row.value = bad.reason, bad.value
        return row
    if row.joined_at and row.left_at and row.left_at < row.joined_at:
        row.reason = "left_before_joined"
    elif row.duration_seconds is None and not (row.joined_at and row.left_at):
        row.reason = "no_duration"
    return row


def parse_report(filename: str, data: bytes) -> ParsedReport:
    """Read a report file (see the module doc); ``invalid_report`` when it is not one,
    ``report_too_large`` over the limits. Bad rows are kept with their reason."""
    if len(data) > MAX_REPORT_BYTES:
        raise _too_large()
    if not data.strip():
        raise _invalid(_l("The file is empty."))
    sheets = _sheets(filename, data)
    try:
        return _parse_sheets(sheets)
    finally:
        sheets.close()


def _parse_sheets(sheets: Iterator[Iterator[Sequence[Any]]]) -> ParsedReport:
    for sheet in sheets:
        head: list[Sequence[Any]] = []
        for cells in sheet:
            head.append(cells)
            if len(head) >= HEADER_SCAN_ROWS:
                break
        header = next(
            (h for i, cells in enumerate(head) if (h := _header(cells, i)) is not None), None
        )
        if header is None:
            continue
        report = ParsedReport(layout=header.layout, header_row=header.row_index + 1)
        rest = head[header.row_index + 1 :]
        raw_count = len(head)
        number = header.row_index + 1
        for cells in _chain(rest, sheet):
            number += 1
            raw_count += 1
            if raw_count > MAX_RAW_ROWS:
                raise _too_large()
            if _is_empty(cells):
                continue
            if len(report.rows) >= MAX_REPORT_ROWS:
                raise _too_large()
            report.rows.append(_read_row(number, cells, header))
        return report
    raise _invalid(
        _l(
            "No header row was found in this file. A report needs a phone or e-mail column "
            "and either a duration column or join and leave times (for example 手机号, "
            "入会时间, 退会时间, 参会时长)."
        )
    )


def _chain(first: list[Sequence[Any]], rest: Iterator[Sequence[Any]]) -> Iterator[Sequence[Any]]:
    yield from first
    try:
        yield from rest
    except csv.Error as error:
        raise _invalid() from error


# ---- participants and matching ---------------------------------------------------------------

REASONS: dict[str, Any] = {
    "no_identifier": _l("No phone number or e-mail address."),
    "masked_phone": _l("The phone number is masked and there is no e-mail address."),
    "bad_time": _l("The time “%(value)s” cannot be read."),
    "bad_duration": _l("The duration “%(value)s” cannot be read."),
    "negative": _l("The duration “%(value)s” is negative."),
    "left_before_joined": _l("The leave time is before the join time."),
    "no_duration": _l("Neither a duration nor both join and leave times."),
    "not_enrolled": _l("No learner enrolled in this course has this phone number or e-mail."),
    "phone_and_email_differ": _l(
        "The phone number belongs to one enrolled learner and the e-mail to another."
    ),
    "several_learners": _l("More than one enrolled learner has these details."),
}


def reason_message(row: dict[str, Any]) -> str | None:
    """The row's reason in the reader's language."""
    reason = row.get("reason")
    if not reason or reason not in REASONS:
        return None
    return str(REASONS[reason]) % {"value": row.get("value", "")}


@dataclass
class _Person:
    rows: list[ReportRow]
    phones: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    user_ids: set[int] = field(default_factory=set)
    reason: str | None = None

    def absorb(self, other: _Person) -> None:
        self.rows.extend(other.rows)
        self.phones |= other.phones
        self.emails |= other.emails


def _people(rows: list[ReportRow]) -> list[_Person]:
    """Valid rows grouped into people: rows sharing a phone or an e-mail are one person."""
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[str, int] = {}
    for index, row in enumerate(rows):
        for key in (
            f"p:{row.phone}" if row.phone else None,
            f"e:{row.email}" if row.email else None,
        ):
            if key is None:
                continue
            if key in first:
                parent[find(index)] = find(first[key])
            else:
                first[key] = index
    groups: dict[int, _Person] = {}
    for index, row in enumerate(rows):
        person = groups.setdefault(find(index), _Person(rows=[]))
        person.rows.append(row)
        if row.phone:
            person.phones.add(row.phone)
        if row.email:
            person.emails.add(row.email)
    return list(groups.values())


@dataclass(frozen=True)
class _Learner:
    user_id: int
    name: str
    phone: str | None
    email: str | None


def _enrolled_learners(session: CourseSession, people: list[_Person]) -> list[_Learner]:
    """The learners with an attending enrolment in the course whose phone or e-mail is
    among the people's, in one statement."""
    phones = sorted({p for person in people for p in person.phones})
    emails = sorted({e for person in people for e in person.emails})
    conditions = []
    if phones:
        conditions.append(User.phone.in_(phones))
    if emails:
        conditions.append(sa.func.lower(User.email).in_(emails))
    if not conditions:
        return []
    rows = db.session.execute(
        sa.select(User.id, User.name, User.phone, User.email)
        .join(Enrolment, Enrolment.user_id == User.id)
        .where(
            Enrolment.course_id == session.course_id,
            Enrolment.status.in_(attendance.ATTENDING_STATUSES),
            sa.or_(*conditions),
        )
        .distinct()
    )
    return [_Learner(r.id, r.name, r.phone, (r.email or "").lower() or None) for r in rows]


def _match(session: CourseSession, people: list[_Person]) -> dict[int, _Learner]:
    learners = _enrolled_learners(session, people)
    by_phone: dict[str, set[int]] = {}
    by_email: dict[str, set[int]] = {}
    for learner in learners:
        if learner.phone:
            by_phone.setdefault(learner.phone, set()).add(learner.user_id)
        if learner.email:
            by_email.setdefault(learner.email, set()).add(learner.user_id)
    for person in people:
        via_phone = set().union(*(by_phone.get(p, set()) for p in person.phones))
        via_email = set().union(*(by_email.get(e, set()) for e in person.emails))
        person.user_ids = via_phone | via_email
        if len(person.user_ids) > 1:
            differ = via_phone and via_email and not (via_phone & via_email)
            person.reason = "phone_and_email_differ" if differ else "several_learners"
        elif not person.user_ids:
            person.reason = "not_enrolled"
    return {learner.user_id: learner for learner in learners}


def _merge_same_learner(people: list[_Person]) -> list[_Person]:
    """People matched to the same learner (one row by phone, another by e-mail) are one."""
    merged: list[_Person] = []
    by_user: dict[int, _Person] = {}
    for person in people:
        if len(person.user_ids) == 1:
            (user_id,) = person.user_ids
            if user_id in by_user:
                by_user[user_id].absorb(person)
                continue
            by_user[user_id] = person
        merged.append(person)
    return merged


def _span(row: ReportRow) -> tuple[datetime, datetime] | None:
    """The row's time in the meeting when it can be placed in time."""
    duration = timedelta(seconds=row.duration_seconds) if row.duration_seconds is not None else None
    if row.joined_at and row.left_at:
        if duration is not None and duration < row.left_at - row.joined_at - timedelta(minutes=1):
            return None  # a total over several visits between the first join and last leave
        return row.joined_at, row.left_at
    if row.joined_at and duration is not None:
        return row.joined_at, row.joined_at + duration
    if row.left_at and duration is not None:
        return row.left_at - duration, row.left_at
    return None


def _clipped_seconds(session: CourseSession, start: datetime, end: datetime) -> float:
    start, end = max(start, session.starts_at), min(end, session.ends_at)
    return max(0.0, (end - start).total_seconds())


def person_minutes(session: CourseSession, rows: list[ReportRow]) -> int:
    """The minutes a person's rows add up to inside the session (see the module doc)."""
    spans: list[tuple[datetime, datetime]] = []
    seconds = 0.0
    for row in rows:
        span = _span(row)
        if span is not None:
            start = max(span[0], session.starts_at)
            end = min(span[1], session.ends_at)
            if end > start:
                spans.append((start, end))
        elif row.joined_at or row.left_at:
            # A total between a first join and a last leave: at most the part inside.
            start = row.joined_at or session.starts_at
            end = row.left_at or session.ends_at
            within = _clipped_seconds(session, start, end)
            seconds += min(float(row.duration_seconds or 0), within)
        else:
            seconds += float(row.duration_seconds or 0)
    merged_end: datetime | None = None
    for start, end in sorted(spans):
        if merged_end is not None and start < merged_end:
            start = merged_end
        if end > start:
            seconds += (end - start).total_seconds()
            merged_end = end if merged_end is None else max(merged_end, end)
    return min(int(seconds // 60), attendance.session_minutes(session))


def _row_dict(
    row: ReportRow | None = None, *, person: _Person | None = None, **values: Any
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "row": None,
        "rows": [],
        "name": "",
        "phone": None,
        "email": None,
        "minutes": None,
        "outcome": None,
        "reason": None,
        "value": "",
        "user_id": None,
        "learner_name": None,
        "candidates": [],
    }
    if row is not None:
        base.update(
            row=row.number,
            rows=[row.number],
            name=row.name,
            phone=row.phone,
            email=row.email,
            reason=row.reason,
            value=row.value,
        )
    if person is not None:
        numbers = sorted(r.number for r in person.rows)
        base.update(
            row=numbers[0],
            rows=numbers,
            name=next((r.name for r in person.rows if r.name), ""),
            phone=", ".join(sorted(person.phones)) or None,
            email=", ".join(sorted(person.emails)) or None,
            reason=person.reason,
        )
    base.update(values)
    return base


def evaluate(session: CourseSession, report: ParsedReport) -> list[dict[str, Any]]:
    """The report's rows as stored on the import: one entry per person (matched,
    ambiguous or unmatched) and one per invalid row, in the order of the file."""
    valid = [row for row in report.rows if row.valid]
    people = _people(valid)
    learners = _match(session, people)
    people = _merge_same_learner(people)
    entries: list[dict[str, Any]] = []
    for person in people:
        minutes = person_minutes(session, person.rows)
        if len(person.user_ids) == 1:
            learner = learners[next(iter(person.user_ids))]
            entry = _row_dict(
                person=person,
                minutes=minutes,
                outcome="matched",
                user_id=learner.user_id,
                learner_name=learner.name,
            )
        elif person.user_ids:
            candidates = [
                {"user_id": uid, "name": learners[uid].name} for uid in sorted(person.user_ids)
            ]
            entry = _row_dict(
                person=person, minutes=minutes, outcome="ambiguous", candidates=candidates
            )
        else:
            entry = _row_dict(person=person, minutes=minutes, outcome="unmatched")
        entries.append(entry)
    entries.extend(_row_dict(row, outcome="invalid") for row in report.rows if not row.valid)
    entries.sort(key=lambda entry: entry["row"])
    return entries


# ---- imports ---------------------------------------------------------------------------------


def _require_manager(actor: User | None, session: CourseSession) -> None:
    attendance.require_session_manager(actor, session)


def _require_online(session: CourseSession) -> None:
    attendance._online_session(session)  # the one "held online" rule


def _find(session_id: int, digest: str) -> AttendanceImport | None:
    return db.session.scalars(
        sa.select(AttendanceImport).where(
            AttendanceImport.session_id == session_id, AttendanceImport.digest == digest
        )
    ).first()


@dataclass(frozen=True)
class Uploaded:
    report_import: AttendanceImport
    created: bool  # False: this very file was uploaded for the session before


def upload_report(
    actor: User | None,
    session: CourseSession,
    filename: str,
    data: bytes,
    now: datetime | None = None,
) -> Uploaded:
    """Read the file and store its preview (nothing else changes); the same file again
    is the same import, returned unchanged (applied or not)."""
    now = now or utcnow()
    _require_manager(actor, session)
    _require_online(session)
    if len(data) > MAX_REPORT_BYTES:
        raise _too_large()
    digest = hashlib.sha256(data).hexdigest()
    existing = _find(session.id, digest)
    if existing is not None:
        return Uploaded(existing, False)
    report = parse_report(filename, data)
    report_import = AttendanceImport(
        session_id=session.id,
        uploaded_by_id=actor.id if actor is not None else None,
        filename=_safe_filename(filename),
        digest=digest,
        layout=report.layout,
        status=ImportStatus.PREVIEW,
        rows=evaluate(session, report),
        created_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(report_import)
            db.session.flush()
    except IntegrityError:
        # The same file, uploaded at the same moment by another request.
        existing = _find(session.id, digest)
        if existing is None:
            raise
        return Uploaded(existing, False)
    return Uploaded(report_import, True)


def preview_report(
    actor: User | None,
    session: CourseSession,
    filename: str,
    data: bytes,
    now: datetime | None = None,
) -> AttendanceImport:
    """``upload_report`` for callers that need only the import."""
    return upload_report(actor, session, filename, data, now).report_import


def _safe_filename(filename: str) -> str:
    name = re.split(r"[\\/]", filename or "")[-1].strip()
    return (name or "report")[:255]


def get_import(actor: User | None, import_id: int) -> AttendanceImport:
    """An import, to the session's trainers and admins."""
    report_import = db.session.get(AttendanceImport, import_id)
    if report_import is None:
        raise NotFound(_l("No such attendance report."))
    _require_manager(actor, session_of(report_import))
    return report_import


def session_of(report_import: AttendanceImport) -> CourseSession:
    return attendance.get_session(report_import.session_id)


def imports_for_session(actor: User | None, session: CourseSession) -> list[AttendanceImport]:
    """The session's imports, newest first."""
    _require_manager(actor, session)
    return list(
        db.session.scalars(
            sa.select(AttendanceImport)
            .where(AttendanceImport.session_id == session.id)
            .order_by(AttendanceImport.created_at.desc(), AttendanceImport.id.desc())
        )
    )


def counts(report_import: AttendanceImport) -> dict[str, int]:
    found = dict.fromkeys(OUTCOMES, 0)
    for row in report_import.rows:
        outcome = row.get("outcome")
        if outcome in found:
            found[outcome] += 1
    return found


def apply_report(
    actor: User | None, report_import: AttendanceImport, now: datetime | None = None
) -> AttendanceImport:
    """Credit the matched rows (ambiguous, unmatched and invalid ones are not applied)
    in the caller's transaction; an applied import is returned unchanged."""
    now = now or utcnow()
    session = session_of(report_import)
    _require_manager(actor, session)
    locked = db.session.scalars(
        sa.select(AttendanceImport)
        .where(AttendanceImport.id == report_import.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if locked.status == ImportStatus.APPLIED:
        return locked
    matched = [row for row in locked.rows if row.get("outcome") == "matched"]
    user_ids = sorted({int(row["user_id"]) for row in matched})
    enrolments = {e.user_id: e for e in attendance.lock_attending(session.course_id, user_ids)}
    applied = 0
    skipped: list[int] = []
    touched: list[Enrolment] = []
    for row in matched:
        enrolment = enrolments.get(int(row["user_id"]))
        if enrolment is None:
            skipped.append(int(row["user_id"]))
            continue
        minutes = int(row["minutes"] or 0)
        if attendance.set_imported_minutes(session, enrolment, minutes, now, evaluate=False):
            touched.append(enrolment)
        applied += 1
    attendance.evaluate_enrolments(touched, now)
    locked.status = ImportStatus.APPLIED
    locked.applied_at = now
    locked.applied_by_id = actor.id if actor is not None else None
    found = counts(locked)
    audit.record(
        actor,
        "attendance.imported",
        "attendance_import",
        locked.id,
        session_id=session.id,
        layout=locked.layout,
        filename=locked.filename,
        applied=applied,
        skipped_no_longer_enrolled=skipped,
        **{outcome: found[outcome] for outcome in OUTCOMES},
    )
    db.session.flush()
    return locked


# ---- what pages and the API show ------------------------------------------------------------


def would_credit(session: CourseSession, minutes: int | None) -> float:
    """The credited hours these imported minutes give the session's record on their own
    (reaching the session's length less the grace counts as the whole session)."""
    measured = attendance._remote(  # the same rule as the record's
        int(minutes or 0), session, AttendanceMethod.IMPORT, None
    )
    return attendance.credited_hours(measured.minutes if measured else 0, session.class_hours)


def view(report_import: AttendanceImport, session: CourseSession | None = None) -> dict[str, Any]:
    """The import as pages and the API show it: rows with their credit and reason."""
    session = session or session_of(report_import)
    applied_by = (
        db.session.get(User, report_import.applied_by_id)
        if report_import.applied_by_id is not None
        else None
    )
    rows = []
    for row in report_import.rows:
        shown = dict(row)
        shown["credited_hours"] = (
            would_credit(session, row.get("minutes")) if row.get("outcome") == "matched" else None
        )
        shown["message"] = reason_message(row)
        rows.append(shown)
    return {
        "id": report_import.id,
        "session_id": report_import.session_id,
        "filename": report_import.filename,
        "layout": report_import.layout,
        "layout_label": str(LAYOUT_LABELS.get(report_import.layout, report_import.layout)),
        "status": report_import.status,
        "created_at": report_import.created_at,
        "applied_at": report_import.applied_at,
        "applied_by_id": report_import.applied_by_id,
        "applied_by_name": applied_by.name if applied_by is not None else None,
        "counts": counts(report_import),
        "rows": rows,
    }
