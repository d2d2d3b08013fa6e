"""Read side of enrolment: a learner's courses and notices, a course's roster and its
export, the enrol box on the course page. Every function runs a fixed number of
statements whatever the number of rows.

The place shown for a waiting learner (``waitlist_rank``, 1 = next) is the rank of
their stored position among those still waiting, computed in SQL.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased, joinedload, lazyload

from courses.db import db, utcnow
from courses.errors import DomainError
from courses.models import (
    Course,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    FeedbackResponse,
    Notice,
    Organisation,
    User,
)
from courses.services.attendance import ATTENDING_STATUSES
from courses.services.enrolments import (
    CANCELLABLE_STATUSES,
    Placed,
    active_enrolment,
    enrolment_refusal,
)
from courses.services.pagination import MAX_PER_PAGE, Page
from courses.services.permissions import require_course_manager
from courses.settings import to_local


@functools.cache
def _rank_expression() -> sa.ColumnElement[Any]:
    """The waitlist place of each (waitlisted) enrolment row: a correlated count on the
    unique (course_id, waitlist_position) index; NULL for anyone not waiting. Built once:
    constructing the aliased subquery costs more than running it."""
    ahead = aliased(Enrolment)
    count = (
        sa.select(sa.func.count())
        .where(
            ahead.course_id == Enrolment.course_id,
            ahead.status == EnrolmentStatus.WAITLISTED,
            ahead.waitlist_position <= Enrolment.waitlist_position,
        )
        .scalar_subquery()
    )
    return sa.case((Enrolment.status == EnrolmentStatus.WAITLISTED, count), else_=None)


@dataclass(frozen=True)
class EnrolmentView:
    """An enrolment's values with its waitlist place, read in one statement: a plain
    snapshot, so it stays readable after the transaction commits."""

    id: int
    course_id: int
    user_id: int
    status: EnrolmentStatus
    waitlist_rank: int | None
    credited_hours: float
    created_at: datetime
    cancelled_at: datetime | None
    completed_at: datetime | None

    @property
    def waitlist_position(self) -> int | None:
        return self.waitlist_rank


def placed_view(placed: Placed) -> EnrolmentView:
    """The reply for a new enrolment, from what the enrolment returned: no statement."""
    enrolment = placed.enrolment
    return EnrolmentView(
        enrolment.id,
        enrolment.course_id,
        enrolment.user_id,
        enrolment.status,
        placed.waitlist_rank,
        float(enrolment.credited_hours or 0),
        enrolment.created_at,
        enrolment.cancelled_at,
        enrolment.completed_at,
    )


@functools.cache
def _view_statement() -> sa.Select[Any]:
    return sa.select(
        Enrolment.id,
        Enrolment.course_id,
        Enrolment.user_id,
        Enrolment.status,
        _rank_expression(),
        Enrolment.credited_hours,
        Enrolment.created_at,
        Enrolment.cancelled_at,
        Enrolment.completed_at,
    ).where(Enrolment.id == sa.bindparam("enrolment_id"))


def view(enrolment: Enrolment) -> EnrolmentView:
    """One enrolment with its place on the waitlist, status and place read together so
    that they agree even while another transaction promotes the learner. Call it before
    committing to answer with what this transaction did."""
    row = db.session.execute(
        _view_statement(), {"enrolment_id": sa.inspect(enrolment).identity[0]}
    ).one()
    return EnrolmentView(*row)


# ---- the course page's enrol box ------------------------------------------------------------


@dataclass(frozen=True)
class EnrolState:
    """What the course page offers the viewer: their enrolment, or whether they can
    enrol and what would happen (a seat, the waitlist, a request for approval)."""

    enrolment: EnrolmentView | None
    refusal: DomainError | None
    full: bool
    approval_required: bool
    cancel_deadline: datetime | None
    cancel_deadline_passed: bool
    #: The course's last session has ended: nothing to come to, nothing to cancel.
    course_over: bool = False

    @property
    def can_enrol(self) -> bool:
        return self.enrolment is None and self.refusal is None

    @property
    def can_cancel(self) -> bool:
        if self.enrolment is None or self.enrolment.status not in CANCELLABLE_STATUSES:
            return False
        if self.course_over:
            return False
        return not (
            self.enrolment.status == EnrolmentStatus.ENROLLED and self.cancel_deadline_passed
        )


def enrol_state(user: User, course: Course, now: datetime | None = None) -> EnrolState:
    now = now or utcnow()
    current = active_enrolment(user, course)
    refusal = None if current is not None else enrolment_refusal(user, course, now=now)
    deadline = course.cancel_deadline
    return EnrolState(
        enrolment=view(current) if current is not None else None,
        refusal=refusal,
        full=course.capacity is not None and course.seats_taken >= course.capacity,
        approval_required=course.approval_required,
        cancel_deadline=deadline,
        cancel_deadline_passed=deadline is not None and now >= deadline,
        course_over=course_is_over(course, now),
    )


def course_is_over(course: Course, now: datetime) -> bool:
    """Whether ``course`` has sessions and the last of them has ended."""
    last_end = db.session.scalar(
        sa.select(sa.func.max(CourseSession.ends_at)).where(CourseSession.course_id == course.id)
    )
    return last_end is not None and last_end <= now


# ---- a learner's own courses ----------------------------------------------------------------


@dataclass(frozen=True)
class MyEnrolment:
    enrolment: Enrolment
    waitlist_rank: int | None
    next_session_at: datetime | None
    can_cancel: bool
    #: The course's last session has started and the learner has not rated it yet.
    can_give_feedback: bool = False
    #: The course's last session has ended.
    course_over: bool = False

    @property
    def course(self) -> Course:
        return self.enrolment.course

    @property
    def waitlist_position(self) -> int | None:
        return self.waitlist_rank

    def __getattr__(self, name: str) -> Any:
        return getattr(self.enrolment, name)


#: What "My courses" lists by default: everything but withdrawn and refused requests.
CURRENT_STATUSES = (
    EnrolmentStatus.PENDING,
    EnrolmentStatus.ENROLLED,
    EnrolmentStatus.WAITLISTED,
    EnrolmentStatus.COMPLETED,
    EnrolmentStatus.INCOMPLETE,
)


def my_enrolments(
    user: User,
    *,
    statuses: tuple[EnrolmentStatus, ...] | None = None,
    page: int = 1,
    per_page: int = 50,
    now: datetime | None = None,
) -> Page[MyEnrolment]:
    """The learner's enrolments, newest first, each with its waitlist place, the
    course's next session, whether it can still be cancelled and whether the feedback
    survey awaits the learner: two statements."""
    now = now or utcnow()
    page = max(int(page or 1), 1)
    per_page = min(max(int(per_page or 50), 1), MAX_PER_PAGE)
    conditions = [Enrolment.user_id == user.id]
    if statuses:
        conditions.append(Enrolment.status.in_(statuses))
    next_session = (
        sa.select(sa.func.min(CourseSession.starts_at))
        .where(CourseSession.course_id == Enrolment.course_id, CourseSession.starts_at >= now)
        .correlate(Enrolment)
        .scalar_subquery()
    )
    last_start = (
        sa.select(sa.func.max(CourseSession.starts_at))
        .where(CourseSession.course_id == Enrolment.course_id)
        .correlate(Enrolment)
        .scalar_subquery()
    )
    last_end = (
        sa.select(sa.func.max(CourseSession.ends_at))
        .where(CourseSession.course_id == Enrolment.course_id)
        .correlate(Enrolment)
        .scalar_subquery()
    )
    rated = (
        sa.select(FeedbackResponse.id)
        .where(
            FeedbackResponse.course_id == Enrolment.course_id,
            FeedbackResponse.user_id == Enrolment.user_id,
        )
        .correlate(Enrolment)
        .exists()
    )
    total = db.session.scalar(sa.select(sa.func.count(Enrolment.id)).where(*conditions)) or 0
    rows = db.session.execute(
        sa.select(
            Enrolment,
            _rank_expression(),
            next_session.label("next_session_at"),
            last_start.label("last_session_starts_at"),
            last_end.label("last_session_ends_at"),
            rated.label("rated"),
        )
        .where(*conditions)
        .options(joinedload(Enrolment.course).lazyload(Course.trainers))
        .order_by(Enrolment.created_at.desc(), Enrolment.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = []
    for enrolment, rank, next_at, last_at, last_end_at, has_rated in rows:
        deadline = enrolment.course.cancel_deadline
        over = last_end_at is not None and last_end_at <= now
        can_cancel = (
            not over
            and enrolment.status in CANCELLABLE_STATUSES
            and not (
                enrolment.status == EnrolmentStatus.ENROLLED
                and deadline is not None
                and now >= deadline
            )
        )
        can_rate = (
            enrolment.status in ATTENDING_STATUSES
            and last_at is not None
            and last_at <= now
            and not has_rated
        )
        items.append(MyEnrolment(enrolment, rank, next_at, can_cancel, can_rate, over))
    return Page(items=items, total=int(total), page=page, per_page=per_page)


@dataclass(frozen=True)
class UpcomingSession:
    session: CourseSession
    course: Course


def upcoming_sessions(
    user: User, *, limit: int = 5, now: datetime | None = None
) -> list[UpcomingSession]:
    """The next sessions of the courses the learner holds a seat in, soonest first."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(CourseSession, Course)
        .join(Course, Course.id == CourseSession.course_id)
        .join(Enrolment, Enrolment.course_id == Course.id)
        .where(
            Enrolment.user_id == user.id,
            Enrolment.status == EnrolmentStatus.ENROLLED,
            CourseSession.ends_at >= now,
        )
        .order_by(CourseSession.starts_at, CourseSession.id)
        .limit(limit)
    ).all()
    return [UpcomingSession(session, course) for session, course in rows]


def unread_notices(user: User, limit: int = 20) -> list[Notice]:
    return list(
        db.session.scalars(
            sa.select(Notice)
            .where(Notice.user_id == user.id, Notice.read_at.is_(None))
            .order_by(Notice.created_at.desc(), Notice.id.desc())
            .limit(limit)
        )
    )


def mark_notices_read(user: User, now: datetime | None = None) -> int:
    """Mark every unread notice of the user read; returns how many."""
    result = db.session.execute(
        sa.update(Notice)
        .where(Notice.user_id == user.id, Notice.read_at.is_(None))
        .values(read_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


# ---- a course's roster ----------------------------------------------------------------------


@dataclass(frozen=True)
class RosterRow:
    enrolment: Enrolment
    user: User
    organisation_name: str | None
    waitlist_rank: int | None

    @property
    def waitlist_position(self) -> int | None:
        return self.waitlist_rank

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
        sa.select(Enrolment, User, Organisation.name, _rank_expression())
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
