"""An enrolment as the pages and the API answer it: its values with its waitlist place
(``waitlist_rank``, 1 = next), the rank of its stored position among those still
waiting, computed in SQL (``rank_expression``) and read in the same statement as the
status, so that the two agree.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from courses.db import db
from courses.models import Enrolment, EnrolmentStatus
from courses.services.enrolments import Placed


@functools.cache
def rank_expression() -> sa.ColumnElement[Any]:
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


class WaitlistPlace:
    """``waitlist_position``, the name the pages and the API use, is the place shown
    (``waitlist_rank``), never the stored ticket."""

    waitlist_rank: int | None

    @property
    def waitlist_position(self) -> int | None:
        return self.waitlist_rank


@dataclass(frozen=True)
class EnrolmentView(WaitlistPlace):
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
        rank_expression(),
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
