"""The statistics computed another way: every raw record read into Python and counted
by hand, with ``zoneinfo`` for the months. The summary tables and ``figures`` must agree
with this on every dimension the tests ask for."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from courses.db import db
from courses.models import (
    AttendanceRecord,
    Certificate,
    Course,
    CourseSession,
    Enrolment,
    FeedbackResponse,
    User,
    course_trainers,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
ONLINE_METHODS = {"online_join", "video", "import"}
ONLINE_SESSIONS = {"online", "recorded"}
SEATS = {"enrolled", "completed", "incomplete"}


def month_of(moment: datetime) -> int:
    local = moment.astimezone(SHANGHAI)
    return local.year * 100 + local.month


def _groups(group_by: str | None, course: Course, month: int, org: int, trainers: dict) -> list:
    if group_by is None:
        return [None]
    if group_by == "month":
        return [month]
    if group_by == "year":
        return [month // 100]
    if group_by == "course":
        return [course.id]
    if group_by == "organisation":
        return [org]
    if group_by == "trainer":
        return trainers.get(course.id, [])
    if group_by == "topic":
        return [course.topic]
    return [str(getattr(course, group_by))]


def expected(group_by: str | None, first: int, last: int) -> dict[Any, dict[str, Any]]:
    """Figures by group key for the months ``first``..``last`` (``yyyymm``)."""
    courses = {c.id: c for c in db.session.scalars(sa.select(Course)) if c.status != "draft"}
    sessions = {s.id: s for s in db.session.scalars(sa.select(CourseSession))}
    orgs = {u.id: u.organisation_id or 0 for u in db.session.scalars(sa.select(User))}
    trainers: dict[int, list[int]] = defaultdict(list)
    for course_id, user_id in db.session.execute(sa.select(course_trainers)):
        trainers[course_id].append(user_id)
    opening = {}
    for s in sessions.values():
        if s.course_id in courses:
            opening[s.course_id] = min(opening.get(s.course_id, 999999), month_of(s.starts_at))
    figures: dict[Any, dict[str, Any]] = defaultdict(
        lambda: (
            {"courses": set(), "people": set(), "online": set(), "offline": set()}
            | dict.fromkeys(
                (
                    "sessions",
                    "class_hours",
                    "participant_times",
                    "participant_times_online",
                    "enrolments",
                    "completions",
                    "certificates",
                    "feedback",
                    "scores",
                ),
                0,
            )
        )
    )

    def add(course: Course, month: int, org: int, **values: Any) -> None:
        if not first <= month <= last:
            return
        for key in _groups(group_by, course, month, org, trainers):
            row = figures[key]
            for name, value in values.items():
                if isinstance(row[name], set):
                    row[name].add(value)
                else:
                    row[name] += value

    for s in sessions.values():
        course = courses.get(s.course_id)
        if course is not None and group_by != "organisation":
            add(
                course,
                month_of(s.starts_at),
                0,
                sessions=1,
                class_hours=s.class_hours,
                courses=course.id,
            )
    for r in db.session.scalars(sa.select(AttendanceRecord)):
        s = sessions[r.session_id]
        course = courses.get(s.course_id)
        if course is None or not r.credited_hours > 0:
            continue
        online = str(r.method) in ONLINE_METHODS
        values = {
            "participant_times": 1,
            "participant_times_online": int(online),
            "people": r.user_id,
            ("online" if online else "offline"): r.user_id,
        }
        if group_by == "organisation":
            values["courses"] = course.id
        add(course, month_of(s.starts_at), orgs[r.user_id], **values)
    for e in db.session.scalars(sa.select(Enrolment)):
        course = courses.get(e.course_id)
        if course is None or str(e.status) not in SEATS or e.course_id not in opening:
            continue
        extra = {"courses": course.id} if group_by == "organisation" else {}
        add(
            course,
            opening[e.course_id],
            orgs[e.user_id],
            enrolments=1,
            completions=int(str(e.status) == "completed"),
            **extra,
        )
    for c in db.session.scalars(sa.select(Certificate)):
        course = courses.get(c.course_id) if c.course_id else None
        if course is None or str(c.kind) != "course" or str(c.status) != "valid":
            continue
        add(course, month_of(c.issued_at), orgs[c.user_id], certificates=1)
    for f in db.session.scalars(sa.select(FeedbackResponse)):
        course = courses.get(f.course_id)
        if course is None or f.course_id not in opening:
            continue
        score = f.content_score + f.trainer_score + f.organisation_score
        add(course, opening[f.course_id], orgs[f.user_id], feedback=1, scores=score)
    return {key: _shown(row) for key, row in figures.items()}


FIELDS = (
    "courses",
    "sessions",
    "class_hours",
    "participant_times",
    "participant_times_online",
    "unique_participants",
    "unique_participants_online",
    "unique_participants_offline",
    "enrolments",
    "completions",
    "certificates",
    "feedback_count",
    "satisfaction",
)


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "courses": len(row["courses"]),
        "sessions": row["sessions"],
        "class_hours": round(row["class_hours"], 2),
        "participant_times": row["participant_times"],
        "participant_times_online": row["participant_times_online"],
        "unique_participants": len(row["people"]),
        "unique_participants_online": len(row["online"]),
        "unique_participants_offline": len(row["offline"]),
        "enrolments": row["enrolments"],
        "completions": row["completions"],
        "certificates": row["certificates"],
        "feedback_count": row["feedback"],
        "satisfaction": round(row["scores"] / (3 * row["feedback"]), 2)
        if row["feedback"]
        else None,
    }


def shown(row: Any, organisation: bool = False) -> dict[str, Any]:
    """The same fields of a ``courses.services.stats.Row`` (by organisation, sessions
    and class hours are not given: the oracle's zero stands for them)."""
    values = row.as_dict()
    picked = {name: values[name] for name in FIELDS}
    if organisation:
        picked["sessions"], picked["class_hours"] = 0, 0
    return picked


#: The figures of a period in which nothing happened.
NOTHING = dict.fromkeys(FIELDS, 0) | {"satisfaction": None}
