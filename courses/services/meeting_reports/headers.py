"""Header rows of meeting reports: which column holds what, which platform wrote the
file, and the meeting's own facts (its end, its host) in the lines above the header."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

LAYOUTS = ("tencent", "zoom", "feishu", "dingtalk", "wecom", "generic")
LAYOUT_LABELS = {
    "tencent": _l("Tencent Meeting"),
    "zoom": _l("Zoom"),
    "feishu": _l("Feishu"),
    "dingtalk": _l("DingTalk"),
    "wecom": _l("WeCom"),
    "generic": _l("Generic layout"),
}


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: Header names (lower case, without spaces and without a bracketed part) → field.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": _words(
        "用户昵称 入会昵称 昵称 姓名 成员姓名 成员昵称 成员 成员名称 参会者 参会人 参会人员 "
        "参会者姓名 参会者昵称 参与者 真实姓名 用户名 用户名称 用户 名称 name fullname "
        "participant displayname"
    ),
    "user_ref": _words("用户id 用户账号 成员id 成员账号 账号 帐号 userid 钉钉id 飞书id uid"),
    "phone": _words(
        "手机号 手机 手机号码 电话 电话号码 联系电话 联系方式 用户手机号 "
        "phone mobile phonenumber tel telephone"
    ),
    "email": _words(
        "邮箱 电子邮箱 邮件 邮箱地址 电子邮件 用户邮箱 email e-mail mail useremail emailaddress"
    ),
    "joined_at": _words(
        "入会时间 首次入会时间 最早入会时间 进入时间 首次进入时间 加入时间 加入会议时间 "
        "进入会议时间 joined_at joinedat join_time jointime joined firstjointime"
    ),
    "left_at": _words(
        "退会时间 最后退会时间 离开时间 最后离开时间 退出时间 离会时间 最后离会时间 "
        "离开会议时间 退出会议时间 left_at leftat leave_time leavetime left lastleavetime"
    ),
    "minutes": _words(
        "参会时长 累计参会时长 参会总时长 参与时长 累计参与时长 在会时长 入会时长 在线时长 "
        "累计时长 总时长 时长 minutes duration duration_minutes attended_minutes"
    ),
    "role": _words("身份 角色 参会身份 参会角色 用户角色 成员角色 role usertype"),
}
_FIELD_OF = {name: fieldname for fieldname, names in _SYNONYMS.items() for name in names}
_PERSON_FIELDS = ("name", "user_ref", "phone", "email")
#: Headers only one platform uses: the layout with the most of them wins.
_MARKERS: dict[str, frozenset[str]] = {
    "tencent": frozenset({"用户昵称", "入会昵称", "参会时长", "入会终端", "身份"}),
    "zoom": frozenset({"useremail", "jointime", "leavetime", "guest", "recordingconsent"}),
    "feishu": frozenset({"参会人", "离会时间", "用户id", "入会设备"}),
    "dingtalk": frozenset({"首次入会时间", "最后退会时间", "累计参会时长", "钉钉id"}),
    "wecom": frozenset(
        {
            "成员姓名",
            "进入时间",
            "离开时间",
            "参与时长",
            "累计参与时长",
            "首次进入时间",
            "最后离开时间",
        }
    ),
    "generic": frozenset({"name", "phone", "email", "joined_at", "left_at", "minutes", "时长"}),
}
#: Headers of a per-person summary (first join, last leave, a total): an upper bound only.
_SUMMARY_MARKERS = frozenset(
    _words(
        "首次入会时间 最早入会时间 最后退会时间 最后离会时间 首次进入时间 最后离开时间 "
        "累计参会时长 参会总时长 累计参与时长 累计时长 总时长 firstjointime lastleavetime"
    )
)
#: Names of the meeting's own facts, in the lines above the participants' header.
_MEETING_FIELDS: dict[str, str] = {
    **dict.fromkeys(_words("会议主题 topic 主题"), "topic"),
    **dict.fromkeys(_words("会议号 会议id meetingid 会议编号"), "number"),
    **dict.fromkeys(_words("预定开始时间 预定结束时间 预约开始时间 预约结束时间"), "planned"),
    **dict.fromkeys(_words("实际开始时间 会议开始时间 开始时间 starttime"), "started"),
    **dict.fromkeys(_words("实际结束时间 会议结束时间 结束时间 endtime"), "ended"),
    **dict.fromkeys(_words("参会人数 participants 会议时长 会议类型 发起人"), "other"),
    **dict.fromkeys(_words("主持人 会议主持人 会议创建者 创建者 hostname host"), "host_name"),
    **dict.fromkeys(_words("主持人邮箱 hostemail"), "host_email"),
}
MAX_HEADER_CELLS = 60
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
    summary: bool  # first join / last leave / a total per person


def header_name(cell: Any) -> tuple[str, str]:
    """A header cell as (name without unit, unit in brackets), both lower case."""
    text = re.sub(r"\s+", "", str(cell or "").replace("\ufeff", "")).lower()
    unit = ""
    found = _BRACKETED.search(text)
    if found:
        unit = found.group(1)
    return _BRACKETED.sub("", text), unit


def _columns(cells: Sequence[Any]) -> tuple[dict[str, int], list[str], int]:
    columns: dict[str, int] = {}
    names: list[str] = []
    seconds_per_unit = 60
    for column, cell in enumerate(cells):
        name, unit = header_name(cell)
        if not name:
            continue
        names.append(name)
        fieldname = _FIELD_OF.get(name)
        if fieldname is None or fieldname in columns:
            continue
        columns[fieldname] = column
        if fieldname == "minutes" and unit in _SECONDS_PER_UNIT:
            seconds_per_unit = _SECONDS_PER_UNIT[unit]
    return columns, names, seconds_per_unit


def is_meeting_row(cells: Sequence[Any]) -> bool:
    """A line about the meeting itself: a key and its value (会议主题 | …) or a header of
    the meeting's facts (Zoom's Meeting ID, Topic, Start Time, …) — not a participants'
    header that repeats the meeting's topic in a column."""
    names = [name for name, _unit in map(header_name, cells[:MAX_HEADER_CELLS]) if name]
    facts = sum(1 for name in names if name in _MEETING_FIELDS)
    return facts >= 3 or (bool(names) and names[0] in _MEETING_FIELDS and len(names) <= 3)


def find_header(cells: Sequence[Any], row_index: int) -> Header | None:
    if is_meeting_row(cells):
        return None
    columns, names, seconds_per_unit = _columns(cells)
    has_person = any(fieldname in columns for fieldname in _PERSON_FIELDS)
    has_time = "minutes" in columns or ("joined_at" in columns and "left_at" in columns)
    if not (has_person and has_time):
        return None
    scores = {layout: len(_MARKERS[layout].intersection(names)) for layout in LAYOUTS}
    best = max(LAYOUTS, key=lambda layout: scores[layout])
    layout = best if scores[best] else "generic"
    summary = bool(_SUMMARY_MARKERS.intersection(names))
    return Header(row_index, columns, seconds_per_unit, layout, summary)


def what_is_missing(rows: Sequence[Sequence[Any]]) -> str:
    """Why no header was found: ``person`` (no participant column) or ``time``."""
    for cells in rows:
        if is_meeting_row(cells):
            continue
        columns, _names, _unit = _columns(cells)
        if any(fieldname in columns for fieldname in _PERSON_FIELDS):
            return "time"
    return "person"


def meeting_facts(rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """The meeting's facts in the lines above the header, by kind (``ended``, …): from
    key–value lines (Tencent: 会议主题 | …) and from a header line followed by its
    values (Zoom: Meeting ID, Topic, …, then one line of values)."""
    facts: dict[str, Any] = {}
    for index, cells in enumerate(rows):
        kinds = [_MEETING_FIELDS.get(header_name(cell)[0]) for cell in cells]
        if sum(1 for kind in kinds if kind) >= 2 and index + 1 < len(rows):
            values = rows[index + 1]
            for column, kind in enumerate(kinds):
                if kind and column < len(values) and kind not in facts:
                    facts[kind] = values[column]
            emails = [c for c, cell in enumerate(cells) if header_name(cell)[0] == "useremail"]
            if emails and emails[0] < len(values):  # Zoom: the host's e-mail
                facts.setdefault("host_email", values[emails[0]])
        elif kinds and kinds[0] and len(cells) > 1:
            facts.setdefault(kinds[0], cells[1])
    return facts
