"""Seats and the waitlist: the atomic seat update, the course lock, the insert that
lets the one-active-enrolment index decide, waitlist positions and promotion.

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
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from courses.db import UTCDateTime, db, dialect_statement, utcnow
from courses.errors import Conflict, NotFound
from courses.models import Course, Enrolment, EnrolmentStatus, User
from courses.models.enrolments import ACTIVE_PREDICATE
from courses.services import stats
from courses.services.enrolments.notify import notify_learner

#: Enrolments that hold one of the course's seats (``courses.seats_taken``).
SEAT_STATUSES = (EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED, EnrolmentStatus.INCOMPLETE)


_courses = Course.__table__


_enrolments = Enrolment.__table__


# ---- seats and places (always under the course lock, except the first try) ------------


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


def take_seats(course: Course, count: int = 1) -> bool:
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


def release_seat(course: Course) -> None:
    row = db.session.execute(
        sa.update(_courses)
        .where(_courses.c.id == course.id, _courses.c.seats_taken > 0)
        .values(seats_taken=_courses.c.seats_taken - 1)
        .returning(_courses.c.seats_taken)
    ).one_or_none()
    if row is not None:
        set_committed_value(course, "seats_taken", row.seats_taken)


def reload_enrolment(enrolment: Enrolment) -> None:
    """Re-read the enrolment's state after taking the course lock."""
    row = db.session.execute(
        sa.select(Enrolment.status, Enrolment.waitlist_position).where(Enrolment.id == enrolment.id)
    ).one()
    set_committed_value(enrolment, "status", row.status)
    set_committed_value(enrolment, "waitlist_position", row.waitlist_position)


def _next_place(course_id: int) -> tuple[int, int]:
    """The next stored position on the course's waitlist, and the place (1 = next) it
    gives: one more than the last position, one more than the number waiting."""
    last, waiting = db.session.execute(_statements().last_position, {"course_id": course_id}).one()
    return int(last or 0) + 1, int(waiting or 0) + 1


def seat_or_place(
    course: Course, *, place_on_insert: bool = False, locked: bool = False
) -> tuple[EnrolmentStatus, int | None, int | None]:
    """Take a seat for an enrolment, or give it the next place on the waitlist.

    A course that looks free is tried first without the lock (the conditional UPDATE
    locks the row when it takes the seat). Otherwise, or when that fails, the course row
    is locked and re-read: a seat freed meanwhile is taken, else the next place is given
    under the lock, so places are unique and in the order the lock was granted. With
    ``place_on_insert`` the place is left to the insert that follows under the same lock
    (``insert_unless_enrolled``), and position and place come back as None. ``locked``:
    the caller read the course under the lock already.
    """
    if not locked:
        looks_full = course.capacity is not None and course.seats_taken >= course.capacity
        if not looks_full and take_seats(course):
            return EnrolmentStatus.ENROLLED, None, None
        lock_course(course)
    if (course.capacity is None or course.seats_taken < course.capacity) and take_seats(course):
        return EnrolmentStatus.ENROLLED, None, None
    if place_on_insert:
        return EnrolmentStatus.WAITLISTED, None, None
    position, place = _next_place(course.id)
    return EnrolmentStatus.WAITLISTED, position, place


def place_pending(course: Course, enrolment: Enrolment) -> None:
    """Give an existing (pending) enrolment a seat or a place on the waitlist."""
    status, position, _place_shown = seat_or_place(course)
    enrolment.status = status
    enrolment.waitlist_position = position
    db.session.flush()


# ---- the insert: the one-active-enrolment index decides ----------------------------------


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


def insert_unless_enrolled(values: dict[str, Any]) -> tuple[NewEnrolment | None, int | None]:
    """Insert the enrolment row, or nothing (None) when an active one exists already;
    also the waitlist place given (None unless waitlisted).

    ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` on both databases: the partial
    unique index decides, without a savepoint, and PostgreSQL waits for a concurrent
    insert of the same learner to commit or roll back before deciding.

    A waitlisted row without a position (``seat_or_place(place_on_insert=True)``, so
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
            stats.touch(values["course_id"])  # a row written by SQL: no flush sees it
            values = values | {"waitlist_position": given.waitlist_position}
            return NewEnrolment(id=given.id, **values), given.place
        position, place = _next_place(values["course_id"])
        values = values | {"waitlist_position": position}
    row = db.session.execute(_insert_statement(), values).one_or_none()
    if row is None:
        return None, None
    stats.touch(values["course_id"])  # a row written by SQL: no flush sees it
    return NewEnrolment(id=row.id, **values), place


@functools.cache
def _waitlist_insert_statement() -> sa.Select[Any]:
    """PostgreSQL: insert a waitlisted enrolment at the next position and answer its id,
    position and place, in one statement (see ``insert_unless_enrolled``)."""
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


def attach(new: NewEnrolment) -> Enrolment:
    """The inserted row as a model object in the session, as if loaded by a query (no
    statement). Only callers that go on with the object pay for building it."""
    enrolment = Enrolment(**asdict(new))
    make_transient_to_detached(enrolment)
    db.session.add(enrolment)
    return enrolment


# ---- promotion ----------------------------------------------------------------------------


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
    if not take_seats(course, len(heads)):  # cannot happen under the lock; never overbook
        raise Conflict(_l("The course's seats changed; please try again."), code="seats_changed")
    for enrolment in heads:
        enrolment.status = EnrolmentStatus.ENROLLED
        enrolment.waitlist_position = None
    db.session.flush()
    for enrolment in heads:
        notify_learner(enrolment, "promoted", course, now=now)
    return heads
