"""The figures asked for (``GET /api/v1/stats``, the dashboard), read from the summary
tables only: a period of whole months, grouped by one dimension.

Every figure is a sum over the rows of the period except two that are not additive:
the courses (a course running in March and April is one course in the spring) and the
unique participants (人数: one person at two courses, or in two months, is one person).
Both are counted as distinct values over the rows of the period and of each group —
course ids of ``stat_course_months``, user ids of ``stat_participants`` (one row per
person, course and month) — never added up from smaller periods.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.db import db
from courses.errors import PermissionDenied, ValidationFailed
from courses.models import (
    Course,
    Organisation,
    Programme,
    StatCourseMonth,
    StatLearnerMonth,
    StatParticipant,
    User,
    course_trainers,
)
from courses.models.stats import NO_ORGANISATION
from courses.services.stats.periods import Period, month_label
from courses.services.stats.tallies import LEARNER_FIGURES

GROUPS = (
    "year",
    "quarter",
    "month",
    "topic",
    "level",
    "mode",
    "organisation",
    "programme",
    "course",
    "trainer",
)
_BY_COURSE = {"topic": Course.topic, "level": Course.level, "mode": Course.mode}
LABELS = {
    "beginner": _l("Beginner"),
    "intermediate": _l("Intermediate"),
    "advanced": _l("Advanced"),
    "online": _l("Online"),
    "offline": _l("Offline"),
    "hybrid": _l("Online + offline"),
}


@dataclass
class Row:
    key: Any
    label: str | None = None
    courses: int = 0
    sessions: int | None = 0
    sessions_online: int | None = 0
    class_hours: float | None = 0.0
    class_hours_online: float | None = 0.0
    participant_times: int = 0
    participant_times_online: int = 0
    unique_participants: int = 0
    unique_participants_online: int = 0
    unique_participants_offline: int = 0
    enrolments: int = 0
    completions: int = 0
    certificates: int = 0
    credited_hours: float = 0.0
    feedback_count: int = 0
    score_sum: int = field(default=0, repr=False)

    @property
    def participant_times_offline(self) -> int:
        return self.participant_times - self.participant_times_online

    @property
    def class_hours_offline(self) -> float | None:
        if self.class_hours is None or self.class_hours_online is None:
            return None
        return round(self.class_hours - self.class_hours_online, 2)

    @property
    def completion_rate(self) -> float | None:
        return round(self.completions / self.enrolments, 4) if self.enrolments else None

    @property
    def satisfaction(self) -> float | None:
        """The mean score (1–5) of the feedback responses, all three questions."""
        if not self.feedback_count:
            return None
        return round(self.score_sum / (3 * self.feedback_count), 2)

    def as_dict(self) -> dict[str, Any]:
        shown = asdict(self)
        shown.pop("score_sum")
        for name in (
            "participant_times_offline",
            "class_hours_offline",
            "completion_rate",
            "satisfaction",
        ):
            shown[name] = getattr(self, name)
        return shown


@dataclass(frozen=True)
class Figures:
    period: Period
    group_by: str | None
    items: list[Row]
    summary: Row


def _scope(actor: User | None) -> sa.Select[Any] | None:
    """None for an admin (everything); a trainer's own courses; nobody else."""
    if actor is None or not (actor.is_admin or actor.is_trainer):
        raise PermissionDenied(_l("Statistics are for the academy's admins and trainers."))
    if actor.is_admin:
        return None
    return sa.select(course_trainers.c.course_id).where(course_trainers.c.user_id == actor.id)


def _key(table: Any, group_by: str | None) -> tuple[Any, list[Any]]:
    """The group's key over ``table`` and the joins it needs."""
    month = table.month
    if group_by is None:
        return sa.literal_column("0"), []
    if group_by == "year":
        return month // 100, []
    if group_by == "quarter":
        return (month // 100) * 10 + (month % 100 - 1) // 3 + 1, []
    if group_by == "month":
        return month, []
    if group_by == "course":
        return table.course_id, []
    if group_by == "organisation":
        return table.organisation_id, []
    if group_by == "trainer":
        return course_trainers.c.user_id, [(course_trainers, course_trainers.c.course_id)]
    if group_by == "programme":
        return Course.programme_id, [(Course, Course.id)]
    return _BY_COURSE[group_by], [(Course, Course.id)]


def _grouped(table: Any, group_by: str | None, period: Period, scope: Any, *figures: Any) -> Any:
    key, joins = _key(table, group_by)
    statement = sa.select(key.label("key"), *figures).select_from(table)
    for joined, column in joins:
        statement = statement.join(joined, column == table.course_id)
    statement = statement.where(table.month.between(period.first, period.last))
    if scope is not None:
        statement = statement.where(table.course_id.in_(scope))
    return db.session.execute(statement if group_by is None else statement.group_by(key))


def _fill(rows: dict[Any, Row], result: Any) -> None:
    for found in result:
        values = found._asdict()
        row = rows.setdefault(values.pop("key"), Row(key=None))
        for name, value in values.items():
            setattr(row, name, float(value or 0) if name in _FLOATS else int(value or 0))


def _collect(group_by: str | None, period: Period, scope: Any) -> dict[Any, Row]:
    rows: dict[Any, Row] = {}
    active = (StatLearnerMonth.enrolments > 0) | (StatLearnerMonth.participant_times > 0)
    counted = sa.func.count(sa.distinct(sa.case((active, StatLearnerMonth.course_id))))
    if group_by != "organisation":
        course = StatCourseMonth
        _fill(
            rows,
            _grouped(
                course,
                group_by,
                period,
                scope,
                sa.func.count(sa.distinct(course.course_id)).label("courses"),
                *(sa.func.sum(getattr(course, name)).label(name) for name in _COURSE_SUMS),
            ),
        )
    learner = StatLearnerMonth
    extra = [counted.label("courses")] if group_by == "organisation" else []
    _fill(
        rows,
        _grouped(
            learner,
            group_by,
            period,
            scope,
            *extra,
            *(sa.func.sum(getattr(learner, name)).label(name) for name in LEARNER_FIGURES),
        ),
    )
    people = StatParticipant
    _fill(
        rows,
        _grouped(
            people,
            group_by,
            period,
            scope,
            sa.func.count(sa.distinct(people.user_id)).label("unique_participants"),
            _distinct_where(people.online).label("unique_participants_online"),
            _distinct_where(people.offline).label("unique_participants_offline"),
        ),
    )
    for key, row in rows.items():
        row.key = key
        if group_by == "organisation":
            row.sessions = row.sessions_online = None
            row.class_hours = row.class_hours_online = None
        elif row.class_hours is not None:
            row.class_hours = round(float(row.class_hours), 2)
            row.class_hours_online = round(float(row.class_hours_online or 0), 2)
        row.credited_hours = round(float(row.credited_hours), 2)
    return rows


_FLOATS = {"class_hours", "class_hours_online", "credited_hours"}
_COURSE_SUMS = ("sessions", "sessions_online", "class_hours", "class_hours_online")


def _distinct_where(condition: Any) -> Any:
    return sa.func.count(sa.distinct(sa.case((condition, StatParticipant.user_id))))


def _labels(group_by: str, keys: list[Any]) -> dict[Any, str | None]:
    if group_by in ("year",):
        return {key: str(key) for key in keys}
    if group_by == "quarter":
        return {key: f"{key // 10}-Q{key % 10}" for key in keys}
    if group_by == "month":
        return {key: month_label(key) for key in keys}
    if group_by == "topic":
        return {key: key for key in keys}
    if group_by in ("level", "mode"):
        return {key: str(LABELS.get(str(key), key)) for key in keys}
    model, name = {
        "course": (Course, Course.title),
        "trainer": (User, User.name),
        "programme": (Programme, Programme.title),
        "organisation": (Organisation, Organisation.name),
    }[group_by]
    known = [key for key in keys if key not in (None, NO_ORGANISATION)]
    names = dict(db.session.execute(sa.select(model.id, name).where(model.id.in_(known))).all())
    if group_by == "organisation":
        names[NO_ORGANISATION] = str(_l("No organisation"))
    return {key: names.get(key) for key in keys}


def _order(group_by: str, rows: list[Row]) -> list[Row]:
    if group_by in ("year", "quarter", "month"):
        return sorted(rows, key=lambda row: row.key)
    return sorted(rows, key=lambda row: (-row.participant_times, -row.courses, str(row.label)))


def figures(actor: User | None, period: Period, group_by: str | None = None) -> Figures:
    """The period's figures, one row per group (``GROUPS``; None: no groups), and the
    period's own summary row. Admins see everything, trainers their own courses."""
    if group_by is not None and group_by not in GROUPS:
        message = _l("Group by one of: %(groups)s.", groups=", ".join(GROUPS))
        raise ValidationFailed(message, code="invalid_group_by", fields={"group_by": [message]})
    scope = _scope(actor)
    summary = _collect(None, period, scope).get(0) or Row(key=None)
    summary.key, summary.label = None, period.label
    if group_by is None:
        return Figures(period, None, [], summary)
    rows = list(_collect(group_by, period, scope).values())
    labels = _labels(group_by, [row.key for row in rows])
    for row in rows:
        row.label = labels.get(row.key)
        if isinstance(row.key, str):
            row.key = str(row.key)
    return Figures(period, group_by, _order(group_by, rows), summary)
