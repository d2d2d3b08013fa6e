"""A learner's own side of enrolment: the enrol box on a course's page, "My courses"
(each enrolment with its waitlist place, next session, whether it can still be
cancelled and whether the feedback survey awaits), the coming sessions and the
unread notices. Every function runs a fixed number of statements whatever the number
of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from courses.db import db, utcnow
from courses.errors import DomainError
from courses.models import (
    Course,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    FeedbackResponse,
    Notice,
    User,
)
from courses.services.attendance import ATTENDING_STATUSES
from courses.services.enrolments import (
    CANCELLABLE_STATUSES,
    active_enrolment,
    enrolment_refusal,
)
from courses.services.pagination import MAX_PER_PAGE, Page
from courses.services.rosters.places import EnrolmentView, WaitlistPlace, rank_expression, view

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
class MyEnrolment(WaitlistPlace):
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
    total = db.session.scalar(sa.select(sa.func.count(Enrolment.id)).where(*conditions)) or 0
    rows = db.session.execute(
        _my_enrolments_statement(now)
        .where(*conditions)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [_my_enrolment(now, *row) for row in rows]
    return Page(items=items, total=int(total), page=page, per_page=per_page)


def _my_enrolments_statement(now: datetime) -> sa.Select[Any]:
    """The learner's enrolments with what "My courses" shows of each, newest first: the
    waitlist place, the next session, the last session's start and end, and whether
    the learner has rated the course (correlated subqueries, one statement)."""
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
    return (
        sa.select(
            Enrolment,
            rank_expression(),
            next_session.label("next_session_at"),
            last_start.label("last_session_starts_at"),
            last_end.label("last_session_ends_at"),
            rated.label("rated"),
        )
        .options(joinedload(Enrolment.course).lazyload(Course.trainers))
        .order_by(Enrolment.created_at.desc(), Enrolment.id.desc())
    )


def _my_enrolment(
    now: datetime,
    enrolment: Enrolment,
    rank: int | None,
    next_at: datetime | None,
    last_at: datetime | None,
    last_end_at: datetime | None,
    has_rated: bool,
) -> MyEnrolment:
    """One row of "My courses": cancellable while the course is not over, unless the
    learner holds a seat past the deadline; the survey open once the last session has
    started, to those attending who have not rated yet."""
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
    return MyEnrolment(enrolment, rank, next_at, can_cancel, can_rate, over)


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
