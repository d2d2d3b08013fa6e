"""What learners, trainers and admins do: enrol (oneself, or someone on their behalf),
cancel or remove, approve or reject a request, and move someone off the waitlist.

Each action checks who may do it, takes the course lock where it changes existing
enrolments (``seats.lock_course``), applies the rules of ``eligibility`` and leaves
the audit entry and the learner's notice (``notify``). Services decide, callers commit:
nothing here commits, and the caller rolls back on every ``DomainError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from courses.db import db, utcnow
from courses.errors import Conflict, NotFound, ValidationFailed
from courses.models import Course, Enrolment, EnrolmentStatus, PublicationStatus, User
from courses.services.enrolments.eligibility import (
    CANCELLABLE_STATUSES,
    Facts,
    active_enrolment,
    already_enrolled,
    course_and_facts_statement,
    enrolment_refusal,
    invalid_user,
    local_label,
    read_facts,
)
from courses.services.enrolments.notify import staff_action
from courses.services.enrolments.seats import (
    NewEnrolment,
    attach,
    fill_free_seats,
    insert_unless_enrolled,
    lock_course,
    place_pending,
    release_seat,
    reload_enrolment,
    seat_or_place,
    take_seats,
)
from courses.services.permissions import can_manage_course, require_course_manager


@dataclass(frozen=True)
class Placed:
    """A new enrolment (its row as inserted) and the waitlist place it was given (None
    unless waitlisted)."""

    enrolment: NewEnrolment
    waitlist_rank: int | None


def enrol(
    actor: User, course: Course, user: User | None = None, *, now: datetime | None = None
) -> Enrolment:
    """Enrol ``user`` (the actor themself by default) in ``course``.

    Returns the enrolment: ``enrolled``, ``waitlisted`` (course full) or ``pending``
    (the course needs approval, for self-enrolment). A second request for the same
    learner, even one racing the first, raises ``already_enrolled`` and changes nothing.
    """
    return attach(_enrol(actor, course, user if user is not None else actor, now=now).enrolment)


def enrol_in_course(
    actor: User, course_id: int, user: User | None = None, *, now: datetime | None = None
) -> Placed:
    """``enrol`` by course id, also answering the waitlist place given, so that the
    pages and the API tell the learner at once. The course and what the rules read
    about the learner come in one statement, which also locks the course row (as
    ``lock_course`` does): an enrolment either takes a seat, which locks the row anyway,
    or joins the queue, which must hold the lock; locking as it reads saves the
    waitlisted a round trip. The course's figures are read as the lock is granted
    (PostgreSQL re-reads a row it waited for); the facts are the learner's own, which
    other learners' enrolments do not change."""
    learner = user if user is not None else actor
    row = db.session.execute(
        course_and_facts_statement(), {"course_id": course_id, "user_id": learner.id}
    ).one_or_none()
    if row is None:
        raise NotFound()
    facts = Facts(row[1], row[2], int(row[3] or 0))
    return _enrol(actor, row[0], learner, now=now, facts=facts, locked=True)


def _enrol(
    actor: User,
    course: Course,
    learner: User,
    *,
    now: datetime | None = None,
    facts: Facts | None = None,
    locked: bool = False,
) -> Placed:
    now = now or utcnow()
    on_behalf = learner.id != actor.id
    if on_behalf:
        require_course_manager(actor, course)
        if not learner.is_active:
            raise invalid_user()
    elif course.status == PublicationStatus.DRAFT and not can_manage_course(actor, course):
        raise NotFound()  # drafts are invisible to learners
    facts = facts or read_facts(learner, course)
    if facts.active_id is not None:
        raise already_enrolled(db.session.get(Enrolment, facts.active_id))
    refusal = enrolment_refusal(learner, course, on_behalf=on_behalf, now=now, facts=facts)
    if refusal is not None:
        raise refusal

    values: dict[str, Any] = {
        "course_id": course.id,
        "user_id": learner.id,
        "enrolled_by_id": actor.id if on_behalf else None,
        "decided_by_id": None,
        "created_at": now,
        "updated_at": now,
        "status": EnrolmentStatus.PENDING,
        "waitlist_position": None,
        "credited_hours": 0.0,
        "completed_at": None,
        "cancelled_at": None,
    }
    if on_behalf or not course.approval_required:
        values["status"], values["waitlist_position"], _ = seat_or_place(
            course, place_on_insert=True, locked=locked
        )
    new, place = insert_unless_enrolled(values)
    if new is None:
        # A concurrent request for the same learner got there first. Seats taken above
        # go back when the caller rolls back, as it does on every DomainError.
        raise already_enrolled(active_enrolment(learner, course))
    if on_behalf:
        status = str(new.status)
        staff_action(actor, "add", new, course, now, {"status": status}, status=status)
    return Placed(new, place)


def cancel(
    actor: User, enrolment: Enrolment, *, reason: str = "", now: datetime | None = None
) -> Enrolment:
    """Withdraw an enrolment: the learner themself, or a trainer of the course or an
    admin (a removal, audited and notified). A freed seat goes to the waitlist's head."""
    now = now or utcnow()
    course = enrolment.course
    manager = can_manage_course(actor, course)
    own = enrolment.user_id == actor.id
    if not (own or manager):
        raise NotFound()  # someone else's enrolment does not exist for this actor
    lock_course(course)
    reload_enrolment(enrolment)
    if enrolment.status not in CANCELLABLE_STATUSES:
        raise ValidationFailed(
            _l("This enrolment can no longer be cancelled."), code="not_cancellable"
        )
    if (
        own
        and not manager
        and enrolment.status == EnrolmentStatus.ENROLLED
        and course.cancel_deadline is not None
        and now >= course.cancel_deadline
    ):
        raise ValidationFailed(
            _l(
                "The cancellation deadline (%(time)s) has passed; please contact the trainer.",
                time=local_label(course.cancel_deadline),
            ),
            code="cancel_deadline",
        )
    held_seat = enrolment.status == EnrolmentStatus.ENROLLED
    before = enrolment.status
    enrolment.status = EnrolmentStatus.CANCELLED
    enrolment.waitlist_position = None
    enrolment.cancelled_at = now
    db.session.flush()
    if held_seat:
        release_seat(course)
        fill_free_seats(actor, course, now=now)
    if not own:
        reason = (reason or "").strip()[:200]
        staff_action(
            actor,
            "remove",
            enrolment,
            course,
            now,
            {"reason": reason},
            status_before=str(before),
            reason=reason,
        )
    return enrolment


def _pending_for_decision(actor: User, enrolment: Enrolment) -> Course:
    course = enrolment.course
    require_course_manager(actor, course)
    lock_course(course)
    reload_enrolment(enrolment)
    if enrolment.status != EnrolmentStatus.PENDING:
        raise ValidationFailed(
            _l("Only enrolments awaiting approval can be approved or rejected."),
            code="not_pending",
        )
    return course


def approve(actor: User, enrolment: Enrolment, *, now: datetime | None = None) -> Enrolment:
    """Approve a pending enrolment: a seat if one is free, else the end of the waitlist."""
    course = _pending_for_decision(actor, enrolment)
    place_pending(course, enrolment)
    enrolment.decided_by_id = actor.id
    status = str(enrolment.status)
    staff_action(actor, "approve", enrolment, course, now, {"status": status}, status=status)
    return enrolment


def reject(
    actor: User, enrolment: Enrolment, *, reason: str = "", now: datetime | None = None
) -> Enrolment:
    course = _pending_for_decision(actor, enrolment)
    reason = (reason or "").strip()[:200]
    enrolment.status = EnrolmentStatus.REJECTED
    enrolment.decided_by_id = actor.id
    db.session.flush()
    staff_action(actor, "reject", enrolment, course, now, {"reason": reason}, reason=reason)
    return enrolment


def promote(actor: User, enrolment: Enrolment, *, now: datetime | None = None) -> Enrolment:
    """Move a learner off the waitlist into a seat now, ahead of the queue.

    The waitlist only exists while the course is full, so this adds one seat to the
    capacity (recorded in the audit entry) rather than ever overbooking.
    """
    course = enrolment.course
    require_course_manager(actor, course)
    lock_course(course)
    reload_enrolment(enrolment)
    if enrolment.status != EnrolmentStatus.WAITLISTED:
        raise ValidationFailed(_l("This learner is not on the waitlist."), code="not_waitlisted")
    capacity_before = course.capacity
    if not take_seats(course):
        course.capacity = (course.capacity or 0) + 1
        db.session.flush()
        if not take_seats(course):  # pragma: no cover - the lock makes this impossible
            raise Conflict(
                _l("The course's seats changed; please try again."), code="seats_changed"
            )
    position = enrolment.waitlist_position
    enrolment.status = EnrolmentStatus.ENROLLED
    enrolment.waitlist_position = None
    db.session.flush()
    staff_action(
        actor,
        "promote",
        enrolment,
        course,
        now,
        {},
        waitlist_position=position,
        capacity_before=capacity_before,
        capacity_after=course.capacity,
    )
    return enrolment
