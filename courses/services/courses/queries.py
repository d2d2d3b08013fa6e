"""Reading courses for those who manage them: class hours, session counts and the
management list, every figure counted in SQL.

A trainer sees the courses they teach, an admin every course; the list comes a page at
a time in a fixed number of statements, whatever the number of courses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from courses.db import db
from courses.models import (
    Course,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    PublicationStatus,
    User,
)
from courses.services.class_hours import round_hours
from courses.services.courses.rules import clean_text
from courses.services.pagination import Page, paginate_rows
from courses.services.search import contains_any


def course_class_hours(course: Course | int) -> float:
    """The course's class hours: the sum of its sessions' hours, added up in SQL."""
    course_id = course if isinstance(course, int) else course.id
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(CourseSession.class_hours), 0)).where(
            CourseSession.course_id == course_id
        )
    )
    return round_hours(total)


def session_count(course: Course) -> int:
    """How many sessions the course has (none before it is saved)."""
    if course.id is None:
        return 0
    return int(
        db.session.scalar(sa.select(sa.func.count()).where(CourseSession.course_id == course.id))
        or 0
    )


@dataclass(frozen=True)
class ManagedCourse:
    """A line of the management list: the course and its figures, counted in SQL."""

    course: Course
    session_count: int
    class_hours: float
    pending: int
    waitlisted: int

    def __getattr__(self, name: str) -> Any:
        return getattr(self.course, name)


def _managed_by(statement: sa.Select, actor: User) -> sa.Select:
    """``statement`` narrowed to the courses ``actor`` manages (all for admins)."""
    if actor.is_admin:
        return statement
    return statement.where(Course.trainers.any(User.id == actor.id))


def _session_figures() -> sa.Subquery:
    """Each course's number of sessions and their class hours."""
    return (
        sa.select(
            CourseSession.course_id.label("course_id"),
            sa.func.count(CourseSession.id).label("n"),
            sa.func.coalesce(sa.func.sum(CourseSession.class_hours), 0).label("hours"),
        )
        .group_by(CourseSession.course_id)
        .subquery("session_figures")
    )


def _waiting_figures() -> sa.Subquery:
    """Each course's enrolments waiting for approval, and those on its waitlist."""

    def counted(status: EnrolmentStatus) -> sa.ColumnElement[Any]:
        return sa.func.sum(sa.case((Enrolment.status == status, 1), else_=0))

    return (
        sa.select(
            Enrolment.course_id.label("course_id"),
            counted(EnrolmentStatus.PENDING).label("pending"),
            counted(EnrolmentStatus.WAITLISTED).label("waitlisted"),
        )
        .where(Enrolment.status.in_((EnrolmentStatus.PENDING, EnrolmentStatus.WAITLISTED)))
        .group_by(Enrolment.course_id)
        .subquery("waiting_figures")
    )


def _managed_statement(actor: User, q: str | None, status: PublicationStatus | None) -> sa.Select:
    """The courses of the management list with their figures, newest first."""
    sessions, waiting = _session_figures(), _waiting_figures()
    statement = (
        sa.select(
            Course,
            sa.func.coalesce(sessions.c.n, 0),
            sa.func.coalesce(sessions.c.hours, 0),
            sa.func.coalesce(waiting.c.pending, 0),
            sa.func.coalesce(waiting.c.waitlisted, 0),
        )
        .outerjoin(sessions, sessions.c.course_id == Course.id)
        .outerjoin(waiting, waiting.c.course_id == Course.id)
        .order_by(Course.created_at.desc(), Course.id.desc())
    )
    statement = _managed_by(statement, actor)
    if status is not None:
        statement = statement.where(Course.status == status)
    term = clean_text(q)[:60]
    if term:
        statement = statement.where(
            sa.or_(
                contains_any(term, Course.title, Course.topic),
                Course.trainers.any(contains_any(term, User.name)),
            )
        )
    return statement


def managed_course_page(
    actor: User,
    *,
    q: str | None = None,
    status: PublicationStatus | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[ManagedCourse]:
    """One page of the courses ``actor`` manages (all for admins), newest first, with
    their sessions, class hours and waiting enrolments: the count, the page and the
    trainers of its courses, whatever the number of courses.

    ``q`` searches the title, the topic and the trainers' names."""
    rows = paginate_rows(_managed_statement(actor, q, status), page, per_page)
    items = [
        ManagedCourse(course, int(n), round_hours(hours), int(pending), int(waitlisted))
        for course, n, hours, pending, waitlisted in rows.items
    ]
    return Page(items=items, total=rows.total, page=rows.page, per_page=rows.per_page)


def managed_status_counts(actor: User) -> dict[PublicationStatus, int]:
    """How many of the courses ``actor`` manages are in each state, in one statement."""
    statement = _managed_by(
        sa.select(Course.status, sa.func.count()).group_by(Course.status), actor
    )
    counts = dict.fromkeys(PublicationStatus, 0)
    counts.update({status: int(n) for status, n in db.session.execute(statement)})
    return counts
