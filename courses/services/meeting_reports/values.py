"""Cell values of meeting reports: phones (masked ones too), names and nicknames,
durations and times as the platforms write them. Phone numbers and e-mail addresses
follow the accounts' rule (``courses.services.contacts``), so that they compare equal
to the learners' own."""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from courses.services.contacts import mobile_number
from courses.settings import from_local

#: A row's time in the meeting longer than this is not a real value.
MAX_DURATION_SECONDS = 24 * 3600
_EARLIEST_YEAR, _LATEST_YEAR = 2000, 2100
_PHONE_JUNK = re.compile(r"[\s\-()（）+]")
_DURATION_PART = re.compile(
    r"(\d+(?:\.\d+)?)(小时|时|hours?|hrs?|h|分钟|分|minutes?|mins?|m|秒钟|秒|seconds?|secs?|s)"
)
_CLOCK = re.compile(r"^(\d{1,6}):(\d{1,2})(?::(\d{1,2}))?$")
_ZONE = re.compile(r"\s*[(（]?\s*(?:GMT|UTC)\s*([+-])(\d{1,2})(?::?(\d{2}))?\s*[)）]?$", re.I)
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
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
)
#: What a report writes for a leave time when the person stayed to the end.
_OPEN_END = frozenset({"--", "-", "—", "——", "未退会", "未离会", "进行中", "会议中", "在会中"})
#: Excel stores a bare duration (01:25:00) as a time on its epoch day.
_EXCEL_EPOCH_DAYS = (date(1899, 12, 30), date(1899, 12, 31), date(1900, 1, 1))
_BRACKETED = re.compile(r"[(（\[【]([^)）\]】]*)[)）\]】]")
_NAME_JUNK = re.compile(r"[\s\u200b-\u200f\u2060\ufeff·•・.,，、'\"“”‘’]")
_SEPARATORS = re.compile(r"[-_—–|/\\~＿\s]+")
_TAIL_DIGITS = re.compile(r"^(\D+?)(\d{4})$|^(\d{4})(\D+)$")


class BadValue(Exception):
    def __init__(self, reason: str, value: Any):
        super().__init__(reason)
        self.reason = reason
        self.value = "" if value is None else str(value)[:60]


def text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return str(value).strip()


def phone_cell(value: Any) -> tuple[str | None, bool]:
    """A phone cell as (the mobile number or None, whether it was masked like
    ``138****0000``); the number by the one rule, ``contacts.mobile_number``."""
    text = text_of(value).lstrip("'")
    if not text:
        return None, False
    if "*" in text:
        return None, True
    return mobile_number(text), False


def masked_tail(value: Any) -> str | None:
    """The visible last four digits of a masked phone (``+86123****8910`` → ``8910``)."""
    text = _PHONE_JUNK.sub("", text_of(value))
    if "*" not in text:
        return None
    tail = text.rsplit("*", 1)[1]
    return tail if len(tail) == 4 and tail.isdigit() else None


def normalise_name(value: Any) -> str:
    """A name as compared: full-width forms folded, case, spaces and dots ignored."""
    text = unicodedata.normalize("NFKC", text_of(value)).lower()
    return _NAME_JUNK.sub("", text)[:120]


def name_forms(value: Any) -> list[str]:
    """The forms a display name may match under: the whole, the part outside brackets,
    each bracketed part (Tencent's ``昵称(入会昵称)``, Zoom's ``Name (Original Name)``),
    and the parts between separators or spaces (``张晓燕-桂城社工``, ``CAI 陈彩``), of two
    characters or more."""
    text = unicodedata.normalize("NFKC", text_of(value))
    pieces = [text, _BRACKETED.sub(" ", text), *_BRACKETED.findall(text)]
    forms: list[str] = []
    for piece in pieces:
        for candidate in (piece, *_SEPARATORS.split(piece)):
            form = normalise_name(candidate)
            if len(form) >= 2 and form not in forms:
                forms.append(form)
    return forms[:12]


def remembered_forms(value: Any) -> list[str]:
    """The forms a trainer's choice for this display name is remembered under: the whole
    and the part outside brackets (Tencent's account nickname, without the nickname of
    one meeting; Zoom's display name without the original name)."""
    text = unicodedata.normalize("NFKC", text_of(value))
    forms = dict.fromkeys(normalise_name(piece) for piece in (text, _BRACKETED.sub("", text)))
    return [form for form in forms if len(form) >= 2]


def split_tail_digits(form: str) -> tuple[str, str] | None:
    """``张晓燕8821`` (or ``8821张晓燕``) as (``张晓燕``, ``8821``): name and phone's last four."""
    found = _TAIL_DIGITS.match(form)
    if not found:
        return None
    if found.group(1):
        return found.group(1), found.group(2)
    return found.group(4), found.group(3)


def is_open_end(value: Any) -> bool:
    return isinstance(value, str) and value.strip() in _OPEN_END


def parse_duration(value: Any, seconds_per_unit: int = 60) -> int | None:
    """Seconds; None for an empty cell (or ``--``); ``BadValue`` for what cannot be read
    or is beyond a day."""
    if value is None or (isinstance(value, str) and (not value.strip() or is_open_end(value))):
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
        seconds = _duration_text(str(value)[:100], seconds_per_unit)
    if math.isnan(seconds):
        raise BadValue("bad_duration", value)
    if seconds < 0:
        raise BadValue("negative", value)
    if seconds > MAX_DURATION_SECONDS:
        raise BadValue("duration_too_long", value)
    return round(seconds)


def _duration_text(raw: str, seconds_per_unit: int) -> float:
    text = re.sub(r"\s+", "", raw).lower()
    negative = text.startswith("-")
    body = text[1:] if negative else text
    sign = -1 if negative else 1
    if re.fullmatch(r"\d+(?:\.\d+)?", body):
        return sign * float(body) * seconds_per_unit
    clock = _CLOCK.match(body)
    if clock:
        hours, minutes, seconds = clock.group(1), clock.group(2), clock.group(3)
        return sign * (int(hours) * 3600 + int(minutes) * 60 + int(seconds or 0))
    parts = _DURATION_PART.findall(body)
    if parts and len(body) <= 40 and "".join(n + unit for n, unit in parts) == body:
        return sign * sum(float(number) * _SECONDS_PER_UNIT[unit] for number, unit in parts)
    raise BadValue("bad_duration", raw)


_SECONDS_PER_UNIT = {
    **dict.fromkeys(("小时", "时", "h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("分钟", "分", "m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("秒钟", "秒", "s", "sec", "secs", "second", "seconds"), 1),
}


def parse_time(value: Any) -> datetime | None:
    """An aware UTC datetime from a cell (Asia/Shanghai wall-clock time unless it says
    otherwise, as in ``2022.07.21 11:04:52 (GMT+08:00)``); None for an empty cell;
    ``BadValue`` for what cannot be read or lies outside 2000–2100."""
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
        moment = _time_text(str(value).strip()[:60])
    if not _EARLIEST_YEAR <= moment.year <= _LATEST_YEAR:
        raise BadValue("bad_time", value)
    return from_local(moment)


def _time_text(text: str) -> datetime:
    zone = None
    found = _ZONE.search(text)
    if found:
        sign = -1 if found.group(1) == "-" else 1
        hours, minutes = int(found.group(2)), int(found.group(3) or 0)
        if hours > 14 or minutes > 59:
            raise BadValue("bad_time", text)
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
        text = text[: found.start()].strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    for fmt in _TIME_FORMATS if moment is None else ():
        try:
            moment = datetime.strptime(text, fmt)
            break
        except ValueError:
            continue
    if moment is None:
        raise BadValue("bad_time", text)
    if zone is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment
