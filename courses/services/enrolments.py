"""Enrolment (报名): self-enrolment, the FIFO waitlist, approval, prerequisites,
cancellation, and what trainers and admins do on a roster.

How capacity holds under any concurrency
----------------------------------------
``courses.seats_taken`` counts the enrolments that hold a seat (enrolled, completed,
incomplete). A seat is taken only by one conditional statement,
``UPDATE courses SET seats_taken = seats_taken + 1 WHERE id = … AND seats_taken <
capacity RETURNING …``, and a CHECK constraint refuses any row with more seats taken
than the capacity, so no interleaving of requests, processes or workers can overbook.

Every change to a course's existing enrolments (cancelling, approving, promoting,
raising the capacity) first locks the course row (``SELECT … FOR NO KEY UPDATE`` on
PostgreSQL; on SQLite the request's ``BEGIN IMMEDIATE`` write lock) and re-reads what
it changes, so the waitlist is ordered by one writer at a time:

* a learner who finds no seat joins the waitlist under that lock, after checking once
  more for a seat, with the next stored position (``max + 1``): positions are unique,
  never reused out of order, and a newcomer never overtakes the queue;
* a seat freed by a cancellation or a removal, or created by a larger capacity, goes to
  the head of the waitlist in the same transaction, so nobody waits while a seat is
  free.

The stored ``waitlist_position`` is a ticket that never changes while the learner
waits; the place shown to people (1 = next) is its rank among those still waiting
(``courses.services.rosters``).

Rules and their codes (``ValidationFailed`` 422 unless stated)
--------------------------------------------------------------

========================  ===========================================================
``course_not_open``       the course is a draft or archived
``enrolment_not_open``    the enrolment window has not opened yet (self-enrolment)
``enrolment_closed``      the window has closed or the course is over (self-enrolment)
``prerequisite_unmet``    a required course is not completed; the message names them
``already_enrolled``      409: an active enrolment exists (enrolled, waiting, pending…)
``invalid_user``          enrolling on behalf of an unknown or deactivated account
``cancel_deadline``       an enrolled learner cancelling after the course's deadline
``not_cancellable``       cancelling a completed, cancelled or rejected enrolment
``not_pending``           approving or rejecting what is not awaiting approval
``not_waitlisted``        moving someone off the waitlist who is not on it
========================  ===========================================================

Learners enrol themselves inside the window; trainers of the course and admins may
enrol anyone on their behalf at any time (the window and approval do not apply to
them, prerequisites and capacity do). The cancellation deadline binds a learner who
holds a seat; leaving the waitlist or withdrawing a request is always possible, and
trainers and admins may remove anyone who has not finished the course.

Every change a trainer or admin makes is written to the audit log; the learner gets
an in-app notice and an outbox event (``enrolment.notify``) for the e-mail.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import lazyload, load_only, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from courses.db import UTCDateTime, database_id, db, dialect_statement, utcnow
from courses.errors import Conflict, DomainError, NotFound, ValidationFailed
from courses.models import (
    ACTIVE_ENROLMENT_STATUSES,
    Course,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    Notice,
    OutboxEvent,
    PublicationStatus,
    User,
    course_prerequisites,
)
from courses.models.enrolments import ACTIVE_PREDICATE
from courses.services import audit
from courses.services.permissions import can_manage_course, require_course_manager
from courses.settings import to_local

#: Enrolments that hold one of the course's seats (``courses.seats_taken``).
SEAT_STATUSES = (EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED, EnrolmentStatus.INCOMPLETE)
#: Enrolments a learner may still withdraw (or staff remove).
CANCELLABLE_STATUSES = (
    EnrolmentStatus.PENDING,
    EnrolmentStatus.ENROLLED,
    EnrolmentStatus.WAITLISTED,
)
NOTIFY_TOPIC = "enrolment.notify"
_courses = Course.__table__
_enrolments = Enrolment.__table__


def _local_label(moment: datetime) -> str:
    return to_local(moment).strftime("%Y-%m-%d %H:%M")


# ---- reading what decides ---------------------------------------------------------------


@functools.cache
def _invalid_user() -> ValidationFailed:
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
        raise _invalid_user()
    return user


def learner_by_login(login: str | None) -> User:
    """The same, found by the e-mail or mobile number a trainer types on the roster."""
    from courses.services.accounts import find_by_login

    user = find_by_login(login)
    if user is None or not user.is_active:
        raise _invalid_user()
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
class _Facts:
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
def _course_and_facts_statement() -> sa.Select[Any]:
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


def _facts(user: User, course: Course) -> _Facts:
    row = db.session.execute(_facts_statement(), {"user_id": user.id, "course_id": course.id}).one()
    return _Facts(row[0], row[1], int(row[2] or 0))


def enrolment_refusal(
    user: User,
    course: Course,
    *,
    on_behalf: bool = False,
    now: datetime | None = None,
    facts: _Facts | None = None,
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
    facts = facts or _facts(user, course)
    if not on_behalf:
        if course.enrol_opens_at is not None and now < course.enrol_opens_at:
            return ValidationFailed(
                _l("Enrolment opens on %(time)s.", time=_local_label(course.enrol_opens_at)),
                code="enrolment_not_open",
            )
        if course.enrol_closes_at is not None and now >= course.enrol_closes_at:
            return ValidationFailed(
                _l("Enrolment closed on %(time)s.", time=_local_label(course.enrol_closes_at)),
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


def _already_enrolled(enrolment: Enrolment | None) -> Conflict:
    messages = {
        EnrolmentStatus.PENDING: _l("Your enrolment is already awaiting approval."),
        EnrolmentStatus.WAITLISTED: _l("You are already on the waitlist for this course."),
        EnrolmentStatus.COMPLETED: _l("You have already completed this course."),
        EnrolmentStatus.INCOMPLETE: _l("You have already taken this course."),
    }
    status = enrolment.status if enrolment is not None else EnrolmentStatus.ENROLLED
    message = messages.get(status, _l("You are already enrolled in this course."))
    return Conflict(message, code="already_enrolled", enrolment_id=getattr(enrolment, "id", None))


# ---- seats and the waitlist (always under the course lock, except the first try) ---------


@dataclass(frozen=True)
class _Statements:
    lock: sa.Select[Any]
    take_seats: sa.Update
    last_position: sa.Select[Any]


@functools.cache
def _statements() -> _Statements:
    """The statements of the hot path, built once (building costs more than running)."""
    course_id, count = sa.bindparam("course_id"), sa.bindparam("count")
    return _Statements(
        lock=sa.select(_courses.c.capacity, _courses.c.seats_taken)
        .where(_courses.c.id == course_id)
        .with_for_update(key_share=True),
        take_seats=sa.update(_courses)
        .where(
            _courses.c.id == course_id,
            sa.or_(
                _courses.c.capacity.is_(None),
                _courses.c.seats_taken + count <= _courses.c.capacity,
            ),
        )
        .values(
            seats_taken=_courses.c.seats_taken + count,
            updated_at=sa.bindparam("now", type_=UTCDateTime()),
        )
        .returning(_courses.c.seats_taken, _courses.c.capacity),
        # On the table's columns, not the model's: a statement that names no ORM entity
        # skips the ORM's per-execution work.
        last_position=sa.select(
            sa.func.max(_enrolments.c.waitlist_position),
            sa.func.count(_enrolments.c.waitlist_position),
        ).where(_enrolments.c.course_id == course_id),
    )


@dialect_statement
def _insert_statement(insert: Any) -> Any:
    return _unless_active(insert(_enrolments)).returning(_enrolments.c.id)


def _unless_active(insert: Any) -> Any:
    """``ON CONFLICT … DO NOTHING`` on the one-active-enrolment index alone: a clash on
    any other constraint (a waitlist position given twice) stays an error."""
    return insert.on_conflict_do_nothing(
        index_elements=[_enrolments.c.user_id, _enrolments.c.course_id],
        index_where=sa.text(ACTIVE_PREDICATE),
    )


def lock_course(course: Course) -> None:
    """Lock the course row until the transaction ends and refresh its seat figures.

    ``FOR NO KEY UPDATE`` on PostgreSQL, so that inserting enrolments (whose foreign
    key takes a key-share lock) is not blocked; SQLite compiles no lock clause, and
    its writers are serialised by ``BEGIN IMMEDIATE`` instead.
    """
    row = db.session.execute(_statements().lock, {"course_id": course.id}).one_or_none()
    if row is None:
        raise NotFound()
    set_committed_value(course, "capacity", row.capacity)
    set_committed_value(course, "seats_taken", row.seats_taken)


def _take_seats(course: Course, count: int = 1) -> bool:
    """Take ``count`` seats in one conditional UPDATE; False (and nothing changed) if
    fewer are free."""
    row = db.session.execute(
        _statements().take_seats, {"course_id": course.id, "count": count, "now": utcnow()}
    ).one_or_none()
    if row is None:
        return False
    set_committed_value(course, "seats_taken", row.seats_taken)
    set_committed_value(course, "capacity", row.capacity)
    return True


def _release_seat(course: Course) -> None:
    row = db.session.execute(
        sa.update(_courses)
        .where(_courses.c.id == course.id, _courses.c.seats_taken > 0)
        .values(seats_taken=_courses.c.seats_taken - 1)
        .returning(_courses.c.seats_taken)
    ).one_or_none()
    if row is not None:
        set_committed_value(course, "seats_taken", row.seats_taken)


def _next_place(course_id: int) -> tuple[int, int]:
    """The next stored position on the course's waitlist, and the place (1 = next) it
    gives: one more than the last position, one more than the number waiting."""
    last, waiting = db.session.execute(_statements().last_position, {"course_id": course_id}).one()
    return int(last or 0) + 1, int(waiting or 0) + 1


def _seat_or_place(
    course: Course, *, place_on_insert: bool = False, locked: bool = False
) -> tuple[EnrolmentStatus, int | None, int | None]:
    """Take a seat for an enrolment, or give it the next place on the waitlist.

    A course that looks free is tried first without the lock (the conditional UPDATE
    locks the row when it takes the seat). Otherwise, or when that fails, the course row
    is locked and re-read: a seat freed meanwhile is taken, else the next place is given
    under the lock, so places are unique and in the order the lock was granted. With
    ``place_on_insert`` the place is left to the insert that follows under the same lock
    (``_insert_unless_enrolled``), and position and place come back as None. ``locked``:
    the caller read the course under the lock already.
    """
    if not locked:
        looks_full = course.capacity is not None and course.seats_taken >= course.capacity
        if not looks_full and _take_seats(course):
            return EnrolmentStatus.ENROLLED, None, None
        lock_course(course)
    if (course.capacity is None or course.seats_taken < course.capacity) and _take_seats(course):
        return EnrolmentStatus.ENROLLED, None, None
    if place_on_insert:
        return EnrolmentStatus.WAITLISTED, None, None
    position, place = _next_place(course.id)
    return EnrolmentStatus.WAITLISTED, position, place


def _place(course: Course, enrolment: Enrolment) -> None:
    """Give an existing (pending) enrolment a seat or a place on the waitlist."""
    status, position, _place_shown = _seat_or_place(course)
    enrolment.status = status
    enrolment.waitlist_position = position
    db.session.flush()


@dataclass(frozen=True)
class NewEnrolment:
    """An enrolment's row as inserted: the values given and the id it got."""

    id: int
    course_id: int
    user_id: int
    enrolled_by_id: int | None
    decided_by_id: int | None
    status: EnrolmentStatus
    waitlist_position: int | None
    credited_hours: float
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    cancelled_at: datetime | None


def _insert_unless_enrolled(values: dict[str, Any]) -> tuple[NewEnrolment | None, int | None]:
    """Insert the enrolment row, or nothing (None) when an active one exists already;
    also the waitlist place given (None unless waitlisted).

    ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` on both databases: the partial
    unique index decides, without a savepoint, and PostgreSQL waits for a concurrent
    insert of the same learner to commit or roll back before deciding.

    A waitlisted row without a position (``_seat_or_place(place_on_insert=True)``, so
    under the course lock) gets the next one here: on PostgreSQL in the insert itself,
    one statement that reads the queue and inserts (it starts after the lock was
    granted, so it sees every place given before), one round trip less while the lock
    is held; SQLite, in process, reads the queue first.
    """
    dialect = db.session.get_bind().dialect.name
    place = None
    if values["status"] == EnrolmentStatus.WAITLISTED and values["waitlist_position"] is None:
        if dialect == "postgresql":
            given = db.session.execute(_waitlist_insert_statement(), values).one_or_none()
            if given is None:
                return None, None
            values = values | {"waitlist_position": given.waitlist_position}
            return NewEnrolment(id=given.id, **values), given.place
        position, place = _next_place(values["course_id"])
        values = values | {"waitlist_position": position}
    row = db.session.execute(_insert_statement(), values).one_or_none()
    if row is None:
        return None, None
    return NewEnrolment(id=row.id, **values), place


@functools.cache
def _waitlist_insert_statement() -> sa.Select[Any]:
    """PostgreSQL: insert a waitlisted enrolment at the next position and answer its id,
    position and place, in one statement (see ``_insert_unless_enrolled``)."""
    columns = _enrolments.c
    queue = (
        sa.select(
            sa.func.coalesce(sa.func.max(columns.waitlist_position), 0).label("last"),
            sa.func.count(columns.waitlist_position).label("waiting"),
        )
        .where(columns.course_id == sa.bindparam("course_id"))
        .cte("queue")
    )
    given = [field.name for field in fields(NewEnrolment) if field.name != "id"]
    # Typed casts: a bare parameter in a select list (a NULL above all) has no type.
    row = sa.select(
        *(
            queue.c.last + 1
            if name == "waitlist_position"
            else sa.cast(sa.bindparam(name, type_=columns[name].type), columns[name].type)
            for name in given
        )
    ).select_from(queue)
    inserted = (
        _unless_active(postgresql.insert(_enrolments).from_select(given, row))
        .returning(columns.id, columns.waitlist_position)
        .cte("inserted")
    )
    return sa.select(
        inserted.c.id, inserted.c.waitlist_position, (queue.c.waiting + 1).label("place")
    ).join_from(inserted, queue, sa.true())


def _attach(new: NewEnrolment) -> Enrolment:
    """The inserted row as a model object in the session, as if loaded by a query (no
    statement). Only callers that go on with the object pay for building it."""
    enrolment = Enrolment(**asdict(new))
    make_transient_to_detached(enrolment)
    db.session.add(enrolment)
    return enrolment


def fill_free_seats(
    actor: User | None, course: Course, now: datetime | None = None
) -> list[Enrolment]:
    """Promote the head of the waitlist into every free seat (call under the course
    lock, as every caller in this module does); returns those promoted."""
    capacity, taken = course.capacity, course.seats_taken
    free = None if capacity is None else capacity - taken
    if free is not None and free <= 0:
        return []
    statement = (
        sa.select(Enrolment)
        .where(Enrolment.course_id == course.id, Enrolment.status == EnrolmentStatus.WAITLISTED)
        .order_by(Enrolment.waitlist_position)
        .execution_options(populate_existing=True)
    )
    if free is not None:
        statement = statement.limit(free)
    heads = list(db.session.scalars(statement))
    if not heads:
        return []
    if not _take_seats(course, len(heads)):  # cannot happen under the lock; never overbook
        raise Conflict(_l("The course's seats changed; please try again."), code="seats_changed")
    for enrolment in heads:
        enrolment.status = EnrolmentStatus.ENROLLED
        enrolment.waitlist_position = None
    db.session.flush()
    for enrolment in heads:
        _notify(enrolment, "promoted", course, now=now)
    return heads


#: The notice each staff action sends the learner (``enrolment_<kind>``).
_NOTICE_OF_ACTION = {
    "add": "added",
    "remove": "removed",
    "approve": "approved",
    "reject": "rejected",
    "promote": "promoted",
}


def _staff_action(
    actor: User,
    action: str,
    enrolment: Enrolment | NewEnrolment,
    course: Course,
    now: datetime | None,
    notice: dict[str, object],
    **audit_data: object,
) -> None:
    """What every change by a trainer or admin leaves behind: an audit entry
    (``enrolment.<action>``) and the learner's notice with its outbox event."""
    audit.record(
        actor,
        f"enrolment.{action}",
        "enrolment",
        enrolment.id,
        course_id=course.id,
        user_id=enrolment.user_id,
        **audit_data,
    )
    _notify(enrolment, _NOTICE_OF_ACTION[action], course, now=now, **notice)


def _notify(
    enrolment: Enrolment | NewEnrolment,
    kind: str,
    course: Course,
    *,
    now: datetime | None = None,
    **data: object,
) -> None:
    """An in-app notice for the learner and the outbox event that will e-mail it."""
    payload = {"course_id": course.id, "course_title": course.title, **data}
    db.session.add(
        Notice(
            user_id=enrolment.user_id,
            kind=f"enrolment_{kind}",
            data=payload,
            created_at=now or utcnow(),
        )
    )
    db.session.add(
        OutboxEvent(
            topic=NOTIFY_TOPIC,
            payload={"enrolment_id": enrolment.id, "kind": kind},
            dedup_key=f"enrolment.{kind}:{enrolment.id}",
        )
    )


def _reload(enrolment: Enrolment) -> None:
    """Re-read the enrolment's state after taking the course lock."""
    row = db.session.execute(
        sa.select(Enrolment.status, Enrolment.waitlist_position).where(Enrolment.id == enrolment.id)
    ).one()
    set_committed_value(enrolment, "status", row.status)
    set_committed_value(enrolment, "waitlist_position", row.waitlist_position)


# ---- what learners, trainers and admins do -----------------------------------------------


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
    return _attach(_enrol(actor, course, user if user is not None else actor, now=now).enrolment)


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
        _course_and_facts_statement(), {"course_id": course_id, "user_id": learner.id}
    ).one_or_none()
    if row is None:
        raise NotFound()
    facts = _Facts(row[1], row[2], int(row[3] or 0))
    return _enrol(actor, row[0], learner, now=now, facts=facts, locked=True)


def _enrol(
    actor: User,
    course: Course,
    learner: User,
    *,
    now: datetime | None = None,
    facts: _Facts | None = None,
    locked: bool = False,
) -> Placed:
    now = now or utcnow()
    on_behalf = learner.id != actor.id
    if on_behalf:
        require_course_manager(actor, course)
        if not learner.is_active:
            raise _invalid_user()
    elif course.status == PublicationStatus.DRAFT and not can_manage_course(actor, course):
        raise NotFound()  # drafts are invisible to learners
    facts = facts or _facts(learner, course)
    if facts.active_id is not None:
        raise _already_enrolled(db.session.get(Enrolment, facts.active_id))
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
        values["status"], values["waitlist_position"], _ = _seat_or_place(
            course, place_on_insert=True, locked=locked
        )
    new, place = _insert_unless_enrolled(values)
    if new is None:
        # A concurrent request for the same learner got there first. Seats taken above
        # go back when the caller rolls back, as it does on every DomainError.
        raise _already_enrolled(active_enrolment(learner, course))
    if on_behalf:
        status = str(new.status)
        _staff_action(actor, "add", new, course, now, {"status": status}, status=status)
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
    _reload(enrolment)
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
                time=_local_label(course.cancel_deadline),
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
        _release_seat(course)
        fill_free_seats(actor, course, now=now)
    if not own:
        reason = (reason or "").strip()[:200]
        _staff_action(
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
    _reload(enrolment)
    if enrolment.status != EnrolmentStatus.PENDING:
        raise ValidationFailed(
            _l("Only enrolments awaiting approval can be approved or rejected."),
            code="not_pending",
        )
    return course


def approve(actor: User, enrolment: Enrolment, *, now: datetime | None = None) -> Enrolment:
    """Approve a pending enrolment: a seat if one is free, else the end of the waitlist."""
    course = _pending_for_decision(actor, enrolment)
    _place(course, enrolment)
    enrolment.decided_by_id = actor.id
    status = str(enrolment.status)
    _staff_action(actor, "approve", enrolment, course, now, {"status": status}, status=status)
    return enrolment


def reject(
    actor: User, enrolment: Enrolment, *, reason: str = "", now: datetime | None = None
) -> Enrolment:
    course = _pending_for_decision(actor, enrolment)
    reason = (reason or "").strip()[:200]
    enrolment.status = EnrolmentStatus.REJECTED
    enrolment.decided_by_id = actor.id
    db.session.flush()
    _staff_action(actor, "reject", enrolment, course, now, {"reason": reason}, reason=reason)
    return enrolment


def promote(actor: User, enrolment: Enrolment, *, now: datetime | None = None) -> Enrolment:
    """Move a learner off the waitlist into a seat now, ahead of the queue.

    The waitlist only exists while the course is full, so this adds one seat to the
    capacity (recorded in the audit entry) rather than ever overbooking.
    """
    course = enrolment.course
    require_course_manager(actor, course)
    lock_course(course)
    _reload(enrolment)
    if enrolment.status != EnrolmentStatus.WAITLISTED:
        raise ValidationFailed(_l("This learner is not on the waitlist."), code="not_waitlisted")
    capacity_before = course.capacity
    if not _take_seats(course):
        course.capacity = (course.capacity or 0) + 1
        db.session.flush()
        if not _take_seats(course):  # pragma: no cover - the lock makes this impossible
            raise Conflict(
                _l("The course's seats changed; please try again."), code="seats_changed"
            )
    position = enrolment.waitlist_position
    enrolment.status = EnrolmentStatus.ENROLLED
    enrolment.waitlist_position = None
    db.session.flush()
    _staff_action(
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
