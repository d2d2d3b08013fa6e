"""A course's roster for its trainers and admins: one page of its enrolments in roster
order (those awaiting approval, then the seats, then the waitlist by place), the count
in each state, and the whole roster as a table for the XLSX and CSV exports, streamed
in batches. Every function runs a fixed number of statements whatever the number of
rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import lazyload

from courses.db import db
from courses.models import Course, Enrolment, EnrolmentStatus, Organisation, User
from courses.services.pagination import MAX_PER_PAGE, Page
from courses.services.permissions import require_course_manager
from courses.services.rosters.places import WaitlistPlace, rank_expression
from courses.settings import to_local


@dataclass(frozen=True)
class RosterRow(WaitlistPlace):
    enrolment: Enrolment
    user: User
    organisation_name: str | None
    waitlist_rank: int | None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.enrolment, name)


#: Roster order: waiting learners by place, then everyone else by when they asked.
_STATUS_ORDER = sa.case(
    (Enrolment.status == EnrolmentStatus.PENDING, 0),
    (Enrolment.status == EnrolmentStatus.ENROLLED, 1),
    (Enrolment.status == EnrolmentStatus.COMPLETED, 1),
    (Enrolment.status == EnrolmentStatus.INCOMPLETE, 1),
    (Enrolment.status == EnrolmentStatus.WAITLISTED, 2),
    else_=3,
)


def _roster_statement(
    course: Course, status: EnrolmentStatus | None, q: str | None
) -> sa.Select[Any]:
    statement = (
        sa.select(Enrolment, User, Organisation.name, rank_expression())
        .join(User, User.id == Enrolment.user_id)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(Enrolment.course_id == course.id)
        .options(lazyload(User.organisation), lazyload(User.role_rows))
    )
    if status is not None:
        statement = statement.where(Enrolment.status == status)
    if q:
        from courses.services.search import person_matches

        statement = statement.where(person_matches(q))
    return statement.order_by(
        _STATUS_ORDER, Enrolment.waitlist_position, Enrolment.created_at, Enrolment.id
    )


def roster(
    actor: User,
    course: Course,
    *,
    status: EnrolmentStatus | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[RosterRow]:
    """One page of the course's enrolments for its trainers and admins (two statements)."""
    require_course_manager(actor, course)
    page = max(int(page or 1), 1)
    per_page = min(max(int(per_page or 50), 1), MAX_PER_PAGE)
    statement = _roster_statement(course, status, q)
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())
    )
    rows = db.session.execute(statement.limit(per_page).offset((page - 1) * per_page)).all()
    items = [RosterRow(e, u, org, rank) for e, u, org, rank in rows]
    return Page(items=items, total=int(total or 0), page=page, per_page=per_page)


def status_counts(course: Course) -> dict[EnrolmentStatus, int]:
    """How many enrolments of the course are in each state, in one grouped statement."""
    rows = db.session.execute(
        sa.select(Enrolment.status, sa.func.count())
        .where(Enrolment.course_id == course.id)
        .group_by(Enrolment.status)
    ).all()
    counts = dict.fromkeys(EnrolmentStatus, 0)
    counts.update({status: int(n) for status, n in rows})
    return counts


STATUS_LABELS = {
    EnrolmentStatus.PENDING: _l("Awaiting approval"),
    EnrolmentStatus.ENROLLED: _l("Enrolled"),
    EnrolmentStatus.WAITLISTED: _l("On the waitlist"),
    EnrolmentStatus.COMPLETED: _l("Completed"),
    EnrolmentStatus.INCOMPLETE: _l("Not completed"),
    EnrolmentStatus.CANCELLED: _l("Cancelled"),
    EnrolmentStatus.REJECTED: _l("Rejected"),
}


def roster_table(actor: User, course: Course) -> tuple[list[str], Iterator[list[Any]]]:
    """The roster as a table for XLSX and CSV: translated headers and streamed rows."""
    require_course_manager(actor, course)
    headers = [
        str(_l("No.")),
        str(_l("Name")),
        str(_l("Mobile phone")),
        str(_l("E-mail")),
        str(_l("Organisation")),
        str(_l("Status")),
        str(_l("Waitlist place")),
        str(_l("Enrolled at")),
        str(_l("Credited class hours")),
    ]

    def rows() -> Iterator[list[Any]]:
        for number, row in enumerate(roster_rows(actor, course), start=1):
            yield [
                number,
                row.user.name,
                row.user.phone,
                row.user.email,
                row.organisation_name,
                str(STATUS_LABELS[row.enrolment.status]),
                row.waitlist_rank,
                to_local(row.enrolment.created_at).replace(tzinfo=None),
                float(row.enrolment.credited_hours or 0),
            ]

    return headers, rows()


def roster_rows(actor: User, course: Course) -> Iterator[RosterRow]:
    """Every row of the roster in roster order, fetched in batches (for exports)."""
    require_course_manager(actor, course)
    result = db.session.execute(
        _roster_statement(course, None, None).execution_options(yield_per=500)
    )
    for enrolment, user, organisation_name, rank in result:
        yield RosterRow(enrolment, user, organisation_name, rank)
