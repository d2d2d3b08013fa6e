"""Read-side queries for the public pages: the catalogue, course and programme pages.

Every function runs a fixed number of SQL statements whatever the number of courses
it returns: the next session comes from a grouped subquery joined to the courses,
class hours from a correlated subquery, trainers from one ``selectin`` query for the whole page.

Search (``q``) is a case-insensitive substring match on title and summary
(``ILIKE '%…%'`` with ``%``, ``_`` and ``\\`` taken literally), so that 心理 finds
心理健康服务 on SQLite and PostgreSQL alike. On PostgreSQL, trigram GIN indexes
(pg_trgm, ``ix_courses_title_trgm`` and ``ix_courses_summary_trgm``) serve it. A
trigram index can only narrow a ``LIKE '%…%'`` search when the term holds at least
three characters: for 心理健康 the plan on the scale-100 demo data is a bitmap OR of
both indexes (≈1 ms) instead of reading all 4,400 courses. One or two characters
(心理, and Chinese terms often are two) yield no trigram, so for those PostgreSQL uses
GIN indexes over each text's one- and two-character grams (``academy_search_grams``,
migration 5e3b8c1d2a47): ``grams @> ARRAY['心理']`` holds exactly when the term is a
substring; on the same data that is ≈1.7 ms instead of a ≈14 ms scan. The ILIKE stays
in the query as the exact test either way, so both backends return the same courses.

Case folding: SQLite folds ASCII letters only, PostgreSQL folds every letter; for
Chinese text (which has no case) and ASCII the results are identical.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import lazyload, selectinload

from courses.db import db, utcnow
from courses.errors import NotFound
from courses.models import (
    Course,
    CourseLevel,
    CourseMode,
    CourseSession,
    Programme,
    PublicationStatus,
    User,
    course_prerequisites,
)
from courses.services.pagination import MAX_PER_PAGE, Page
from courses.services.permissions import (
    can_manage_course,
    can_manage_programme,
    can_see_meeting,
    can_view_course,
)
from courses.services.search import LIKE_ESCAPE, like_pattern
from courses.settings import local_zone


@dataclass(frozen=True)
class CourseCard:
    """A catalogue entry: the course and the figures derived from its sessions.

    Attributes the card does not hold itself are read from the course, so the API
    schemas can dump a card like a course (``card.title``, ``card.capacity``…).
    """

    course: Course
    next_session_at: datetime | None
    class_hours: float
    #: Filled by one query on the association table when the caller asks for them.
    prerequisite_id_list: tuple[int, ...] | None = None

    @property
    def seats_left(self) -> int | None:
        return self.course.seats_left

    @property
    def trainers(self) -> list[User]:
        return self.course.trainers

    @property
    def trainer_ids(self) -> list[int]:
        return [trainer.id for trainer in self.course.trainers]

    @property
    def prerequisite_ids(self) -> list[int]:
        if self.prerequisite_id_list is not None:
            return list(self.prerequisite_id_list)
        return [course.id for course in self.course.prerequisites]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.course, name)


@dataclass(frozen=True)
class CourseDetail(CourseCard):
    """A course page: the card plus the timetable, the programme and prerequisites."""

    sessions: Sequence[CourseSession] = field(default_factory=list)
    programme: Programme | None = None
    can_manage: bool = False
    #: Whether the viewer sees the online meeting's link and number (``can_see_meeting``).
    shows_meeting: bool = False


@dataclass(frozen=True)
class ProgrammeEntry:
    programme: Programme
    course_count: int


@dataclass(frozen=True)
class ProgrammeDetail:
    programme: Programme
    courses: Sequence[CourseCard]

    @property
    def class_hours(self) -> float:
        return sum(card.class_hours for card in self.courses)


# ---- building blocks --------------------------------------------------------------------


def _class_hours() -> sa.ScalarSelect[Any]:
    """A course's class hours, correlated to the outer ``Course`` row.

    A correlated subquery rather than a grouped join: PostgreSQL evaluates it after the
    sort and LIMIT, for the rows of the page only (an index range scan each, on
    ``ix_course_sessions_course_id_starts_at``), instead of summing every session of
    every course first.
    """
    return (
        sa.select(sa.func.coalesce(sa.func.sum(CourseSession.class_hours), 0))
        .where(CourseSession.course_id == Course.id)
        .correlate(Course)
        .scalar_subquery()
    )


def _next_session_subquery(now: datetime) -> sa.Subquery:
    return (
        sa.select(
            CourseSession.course_id,
            sa.func.min(CourseSession.starts_at).label("next_at"),
        )
        .where(CourseSession.starts_at >= now)
        .group_by(CourseSession.course_id)
        .subquery("next_session")
    )


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """``YYYY-MM`` as the UTC instants where that month starts and ends in the academy's zone."""
    year, number = (int(part) for part in month.split("-"))
    if not 1 <= number <= 12:
        raise ValueError(month)
    zone = local_zone()
    start = datetime(year, number, 1, tzinfo=zone)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


#: Terms up to this many characters are matched through the gram indexes on PostgreSQL.
SHORT_TERM = 2


def _grams(column: sa.ColumnElement[str]) -> sa.ColumnElement[list[str]]:
    return sa.type_coerce(sa.func.academy_search_grams(column), postgresql.ARRAY(sa.Text))


def _course_filters(
    *,
    q: str | None,
    topic: str | None,
    level: CourseLevel | str | None,
    mode: CourseMode | str | None,
    month: str | None,
    available: bool,
    now: datetime,
    when: str = "all",
) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = [Course.status == PublicationStatus.PUBLISHED]
    term = (q or "").strip()
    if term:
        pattern = like_pattern(term)
        conditions.append(
            sa.or_(
                Course.title.ilike(pattern, escape=LIKE_ESCAPE),
                Course.summary.ilike(pattern, escape=LIKE_ESCAPE),
            )
        )
        if len(term) <= SHORT_TERM and db.session.get_bind().dialect.name == "postgresql":
            # Too short for a trigram: the gram indexes find the candidates (the ILIKE
            # above stays as the exact test). See migration 5e3b8c1d2a47.
            wanted = postgresql.array([sa.cast(term.lower(), sa.Text)])
            conditions.append(
                sa.or_(
                    _grams(Course.title).contains(wanted), _grams(Course.summary).contains(wanted)
                )
            )
    if topic:
        conditions.append(Course.topic == topic)
    if level:
        conditions.append(Course.level == CourseLevel(level))
    if mode:
        conditions.append(Course.mode == CourseMode(mode))
    if month:
        start, end = month_bounds(month)
        conditions.append(
            sa.exists().where(
                CourseSession.course_id == Course.id,
                CourseSession.starts_at >= start,
                CourseSession.starts_at < end,
            )
        )
    if when != "all":
        conditions.append(_when_condition(when, now))
    if available:
        conditions.append(sa.or_(Course.capacity.is_(None), Course.seats_taken < Course.capacity))
        conditions.append(sa.or_(Course.enrol_closes_at.is_(None), Course.enrol_closes_at > now))
    return conditions


#: The catalogue's time filter: courses not yet over (the default of the page), those
#: that are over, or both.
WHEN_CHOICES = ("current", "past", "all")


def _when_condition(when: str, now: datetime) -> sa.ColumnElement[bool]:
    """``current``: a session still to end, or no session yet (announced); ``past``: has
    sessions and all have ended."""
    if when not in WHEN_CHOICES:
        raise ValueError(f"unknown time filter {when!r}")
    still_on = sa.exists().where(CourseSession.course_id == Course.id, CourseSession.ends_at > now)
    any_session = sa.exists().where(CourseSession.course_id == Course.id)
    if when == "current":
        return sa.or_(still_on, ~any_session)
    return sa.and_(any_session, ~still_on)


def _cards(
    conditions: Sequence[sa.ColumnElement[bool]],
    now: datetime,
    *,
    limit: int | None = None,
    offset: int = 0,
    with_prerequisites: bool = False,
) -> list[CourseCard]:
    """The courses matching ``conditions`` as cards, next session first, in one statement
    plus one for the trainers of all of them (and one for their prerequisites)."""
    next_session = _next_session_subquery(now)
    statement = (
        sa.select(Course, next_session.c.next_at, _class_hours())
        .outerjoin(next_session, next_session.c.course_id == Course.id)
        .where(*conditions)
        .order_by(sa.nulls_last(next_session.c.next_at.asc()), Course.id)
        .offset(offset)
    )
    if limit is not None:
        statement = statement.limit(limit)
    # The cards show trainers' names only: no organisation join, roles only if asked.
    statement = statement.options(
        selectinload(Course.trainers).options(lazyload(User.organisation), lazyload(User.role_rows))
    )
    rows = db.session.execute(statement).all()
    prerequisites: dict[int, list[int]] = {}
    if with_prerequisites and rows:
        pairs = db.session.execute(
            sa.select(course_prerequisites.c.course_id, course_prerequisites.c.prerequisite_id)
            .where(course_prerequisites.c.course_id.in_([course.id for course, _n, _h in rows]))
            .order_by(course_prerequisites.c.prerequisite_id)
        )
        for course_id, prerequisite_id in pairs:
            prerequisites.setdefault(course_id, []).append(prerequisite_id)
    return [
        CourseCard(
            course,
            next_at,
            float(hours or 0),
            tuple(prerequisites.get(course.id, ())) if with_prerequisites else None,
        )
        for course, next_at, hours in rows
    ]


# ---- the catalogue ----------------------------------------------------------------------


def search(
    q: str | None = None,
    topic: str | None = None,
    level: CourseLevel | str | None = None,
    mode: CourseMode | str | None = None,
    month: str | None = None,
    available: bool = False,
    page: int = 1,
    per_page: int = 20,
    viewer: User | None = None,
    with_prerequisites: bool = False,
    when: str = "all",
) -> Page[CourseCard]:
    """One page of published courses matching the filters, in three statements (four
    ``with_prerequisites``, which loads the prerequisites of every card at once).

    ``month`` (``YYYY-MM``) keeps courses with a session starting in that month in
    Asia/Shanghai; ``available`` keeps courses with a seat left whose enrolment window
    has not closed; ``when`` is ``current`` (not over yet), ``past`` or ``all``
    (``WHEN_CHOICES``). The same list is public: ``viewer`` does not change it.
    """
    del viewer  # drafts never appear in the catalogue, even to their trainers
    page = max(int(page or 1), 1)
    per_page = min(max(int(per_page or 20), 1), MAX_PER_PAGE)
    now = utcnow()
    conditions = _course_filters(
        q=q,
        topic=topic,
        level=level,
        mode=mode,
        month=month,
        available=available,
        now=now,
        when=when,
    )
    total = db.session.scalar(sa.select(sa.func.count(Course.id)).where(*conditions)) or 0
    items = _cards(
        conditions,
        now,
        limit=per_page,
        offset=(page - 1) * per_page,
        with_prerequisites=with_prerequisites,
    )
    return Page(items=items, total=int(total), page=page, per_page=per_page)


def topics() -> list[str]:
    """The topics of published courses, for the catalogue's filter, in one statement."""
    return list(
        db.session.scalars(
            sa.select(Course.topic)
            .where(Course.status == PublicationStatus.PUBLISHED)
            .distinct()
            .order_by(Course.topic)
        )
    )


def upcoming_courses(limit: int = 6) -> list[CourseCard]:
    """Published courses with a session still to come, soonest first (the home page)."""
    now = utcnow()
    upcoming = sa.exists().where(
        CourseSession.course_id == Course.id, CourseSession.starts_at >= now
    )
    return _cards([Course.status == PublicationStatus.PUBLISHED, upcoming], now, limit=limit)


def course_detail(course_id: int, viewer: User | None = None) -> CourseDetail:
    """A course with its timetable, trainers, programme and prerequisites.

    Drafts are shown only to those who manage them (their trainers and admins), archived
    courses to them and to the learners who were enrolled (``can_view_course``); anyone
    else gets ``NotFound``, as for an unknown id.
    """
    course = db.session.scalar(
        sa.select(Course)
        .where(Course.id == course_id)
        .options(
            selectinload(Course.sessions),
            selectinload(Course.programme),
            selectinload(Course.prerequisites),
        )
    )
    if course is None:
        raise NotFound()
    can_manage = can_manage_course(viewer, course)
    if not can_manage and not can_view_course(viewer, course):
        raise NotFound()
    now = utcnow()
    sessions = list(course.sessions)
    upcoming = [session.starts_at for session in sessions if session.starts_at >= now]
    return CourseDetail(
        course=course,
        next_session_at=min(upcoming) if upcoming else None,
        class_hours=float(sum(session.class_hours for session in sessions)),
        sessions=sessions,
        programme=course.programme,
        can_manage=can_manage,
        shows_meeting=can_see_meeting(viewer, course),
    )


# ---- programmes -------------------------------------------------------------------------


def published_programmes() -> list[ProgrammeEntry]:
    """Published programmes with the number of their published courses, in one statement."""
    counts = (
        sa.select(Course.programme_id, sa.func.count(Course.id).label("courses"))
        .where(Course.status == PublicationStatus.PUBLISHED, Course.programme_id.is_not(None))
        .group_by(Course.programme_id)
        .subquery("programme_courses")
    )
    rows = db.session.execute(
        sa.select(Programme, counts.c.courses)
        .outerjoin(counts, counts.c.programme_id == Programme.id)
        .where(Programme.status == PublicationStatus.PUBLISHED)
        .order_by(Programme.title, Programme.id)
    ).all()
    return [ProgrammeEntry(programme, int(count or 0)) for programme, count in rows]


def programme_detail(programme_id: int, viewer: User | None = None) -> ProgrammeDetail:
    """A published programme (any programme to those who manage it: its trainer, admins)
    and its published courses."""
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        raise NotFound()
    if programme.status != PublicationStatus.PUBLISHED and not can_manage_programme(
        viewer, programme
    ):
        raise NotFound()
    courses = _cards(
        [Course.status == PublicationStatus.PUBLISHED, Course.programme_id == programme.id],
        utcnow(),
    )
    return ProgrammeDetail(programme=programme, courses=courses)


def ping() -> None:
    db.session.execute(sa.text("SELECT 1"))
