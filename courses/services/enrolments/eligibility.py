"""Who may enrol, and why not: the enrolment window, the course's state, the
prerequisites, the learner's one active enrolment, and the accounts staff name.

``enrolment_refusal`` is the one place for the rules that refuse an enrolment (codes
``course_not_open``, ``enrolment_not_open``, ``enrolment_closed``,
``prerequisite_unmet``); ``enrol`` raises what it returns and the course page shows it
instead of the button. What the rules read about a learner and a course (their active
enrolment, the course's last session, the prerequisites not completed) comes in one
statement (``read_facts``), or with the course row itself as enrolling locks it
(``course_and_facts_statement``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import lazyload, load_only

from courses.db import UTCDateTime, database_id, db, utcnow
from courses.errors import Conflict, DomainError, ValidationFailed
from courses.models import (
    ACTIVE_ENROLMENT_STATUSES,
    Course,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    PublicationStatus,
    User,
    course_prerequisites,
)
from courses.services.permissions import require_course_manager
from courses.settings import to_local

#: Enrolments a learner may still withdraw (or staff remove).
CANCELLABLE_STATUSES = (
    EnrolmentStatus.PENDING,
    EnrolmentStatus.ENROLLED,
    EnrolmentStatus.WAITLISTED,
)


def local_label(moment: datetime) -> str:
    return to_local(moment).strftime("%Y-%m-%d %H:%M")


@functools.cache
def invalid_user() -> ValidationFailed:
    message = _l("This account does not exist or has been deactivated.")
    return ValidationFailed(message, code="invalid_user", fields={"user_id": [message]})


def learner_by_id(actor: User, course: Course, user_id: int) -> User:
    """The account ``actor`` names to enrol: themself, or (for the course's trainers and
    admins, checked first so that nobody else learns which accounts exist) anyone
    active; ``invalid_user`` if there is no such account."""
    if user_id == actor.id:
        return actor
    require_course_manager(actor, course)
    found_id = database_id(user_id)
    user = db.session.get(User, found_id) if found_id is not None else None
    if user is None or not user.is_active:
        raise invalid_user()
    return user


def learner_by_login(login: str | None) -> User:
    """The same, found by the e-mail or mobile number a trainer types on the roster."""
    from courses.services.accounts import find_by_login

    user = find_by_login(login)
    if user is None or not user.is_active:
        raise invalid_user()
    return user


def active_enrolment(user: User, course: Course) -> Enrolment | None:
    """The learner's one active enrolment in the course (the partial unique index)."""
    return db.session.scalar(
        sa.select(Enrolment).where(
            Enrolment.course_id == course.id,
            Enrolment.user_id == user.id,
            Enrolment.status.in_(ACTIVE_ENROLMENT_STATUSES),
        )
    )


def unmet_prerequisites(user: User, course: Course) -> list[Course]:
    """The course's prerequisites the learner has not completed, in one statement."""
    completed = sa.exists().where(
        Enrolment.course_id == course_prerequisites.c.prerequisite_id,
        Enrolment.user_id == user.id,
        Enrolment.status == EnrolmentStatus.COMPLETED,
    )
    return list(
        db.session.scalars(
            sa.select(Course)
            .join(course_prerequisites, course_prerequisites.c.prerequisite_id == Course.id)
            .where(course_prerequisites.c.course_id == course.id, ~completed)
            .order_by(Course.title, Course.id)
        )
    )


@dataclass(frozen=True)
class Facts:
    """What the enrolment rules read about a learner and a course, in one statement."""

    active_id: int | None
    last_session_ends_at: datetime | None
    unmet_prerequisites: int


@functools.cache
def _facts_columns() -> tuple[Any, ...]:
    """The three facts as scalar subqueries on bind parameters ``user_id`` and
    ``course_id``, built once."""
    user_id, course_id = sa.bindparam("user_id"), sa.bindparam("course_id")
    active = (
        sa.select(Enrolment.id)
        .where(
            Enrolment.course_id == course_id,
            Enrolment.user_id == user_id,
            Enrolment.status.in_(ACTIVE_ENROLMENT_STATUSES),
        )
        .limit(1)
        .scalar_subquery()
    )
    last_end = (
        sa.select(sa.func.max(CourseSession.ends_at))
        .where(CourseSession.course_id == course_id)
        .scalar_subquery()
    )
    completed = sa.exists().where(
        Enrolment.course_id == course_prerequisites.c.prerequisite_id,
        Enrolment.user_id == user_id,
        Enrolment.status == EnrolmentStatus.COMPLETED,
    )
    unmet = (
        sa.select(sa.func.count())
        .select_from(course_prerequisites)
        .where(course_prerequisites.c.course_id == course_id, ~completed)
        .scalar_subquery()
    )
    return active, sa.type_coerce(last_end, UTCDateTime()), unmet


@functools.cache
def _facts_statement() -> sa.Select[Any]:
    return sa.select(*_facts_columns())


@functools.cache
def course_and_facts_statement() -> sa.Select[Any]:
    """The course with only the columns enrolling reads (every column fetched costs CPU
    on each request; the others load if read), and the facts; the course row locked
    (see ``enrol_in_course``)."""
    return (
        sa.select(Course, *_facts_columns())
        .where(Course.id == sa.bindparam("course_id"))
        .with_for_update(key_share=True, of=Course.__table__)
        .execution_options(populate_existing=True)
        .options(
            load_only(
                Course.status,
                Course.capacity,
                Course.seats_taken,
                Course.enrol_opens_at,
                Course.enrol_closes_at,
                Course.approval_required,
            ),
            lazyload(Course.trainers),
        )
    )


def read_facts(user: User, course: Course) -> Facts:
    row = db.session.execute(_facts_statement(), {"user_id": user.id, "course_id": course.id}).one()
    return Facts(row[0], row[1], int(row[2] or 0))


def enrolment_refusal(
    user: User,
    course: Course,
    *,
    on_behalf: bool = False,
    now: datetime | None = None,
    facts: Facts | None = None,
) -> DomainError | None:
    """Why ``user`` could not be enrolled in ``course`` now, or None if they can be.

    The one place for these rules: ``enrol`` raises what this returns, and the course
    page shows it instead of the button. An existing enrolment is not a refusal here
    (callers look at ``active_enrolment``); capacity never is (a full course waitlists).
    """
    now = now or utcnow()
    if course.status != PublicationStatus.PUBLISHED:
        return ValidationFailed(
            _l("This course is not open for enrolment."), code="course_not_open"
        )
    facts = facts or read_facts(user, course)
    if not on_behalf:
        if course.enrol_opens_at is not None and now < course.enrol_opens_at:
            return ValidationFailed(
                _l("Enrolment opens on %(time)s.", time=local_label(course.enrol_opens_at)),
                code="enrolment_not_open",
            )
        if course.enrol_closes_at is not None and now >= course.enrol_closes_at:
            return ValidationFailed(
                _l("Enrolment closed on %(time)s.", time=local_label(course.enrol_closes_at)),
                code="enrolment_closed",
            )
        if facts.last_session_ends_at is not None and facts.last_session_ends_at <= now:
            return ValidationFailed(_l("This course has already ended."), code="enrolment_closed")
    if facts.unmet_prerequisites:
        missing = unmet_prerequisites(user, course)
        return ValidationFailed(
            _l(
                "Complete these courses first: %(titles)s.",
                titles="、".join(other.title for other in missing),
            ),
            code="prerequisite_unmet",
            missing_prerequisites=[{"id": other.id, "title": other.title} for other in missing],
        )
    return None


def already_enrolled(enrolment: Enrolment | None) -> Conflict:
    messages = {
        EnrolmentStatus.PENDING: _l("Your enrolment is already awaiting approval."),
        EnrolmentStatus.WAITLISTED: _l("You are already on the waitlist for this course."),
        EnrolmentStatus.COMPLETED: _l("You have already completed this course."),
        EnrolmentStatus.INCOMPLETE: _l("You have already taken this course."),
    }
    status = enrolment.status if enrolment is not None else EnrolmentStatus.ENROLLED
    message = messages.get(status, _l("You are already enrolled in this course."))
    return Conflict(message, code="already_enrolled", enrolment_id=getattr(enrolment, "id", None))
