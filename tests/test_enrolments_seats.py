"""Seats and the waitlist (courses.services.enrolments.seats): seats while free, then
the waitlist in arrival order, the insert that only the one-active-enrolment index
stops, and the head of the queue promoted into every freed or added seat."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.errors import ValidationFailed
from courses.models import Enrolment, EnrolmentStatus, Notice, OutboxEvent
from courses.services import courses as course_service
from courses.services import enrolments
from courses.services.enrolments import seats
from courses.services.stats.tracking import TOPIC as STATS_TOPIC
from tests.enrolment_steps import NOW, _course, _enrol, _ranks, _seats
from tests.factories import make_trainer, make_user


def test_enrols_while_seats_are_free_then_waitlists_in_arrival_order(app_ctx):
    course = _course(capacity=2)
    learners = [make_user() for _ in range(5)]
    results = [_enrol(learner, course) for learner in learners]
    assert [e.status for e in results] == [EnrolmentStatus.ENROLLED] * 2 + [
        EnrolmentStatus.WAITLISTED
    ] * 3
    assert [e.waitlist_position for e in results[2:]] == [1, 2, 3]
    assert _seats(course) == 2
    assert _ranks(course) == [(learners[2].id, 1), (learners[3].id, 2), (learners[4].id, 3)]


def test_unlimited_capacity_never_waitlists(app_ctx):
    course = _course(capacity=None)
    for _ in range(3):
        assert _enrol(make_user(), course).status == EnrolmentStatus.ENROLLED
    assert _seats(course) == 3


def test_an_insert_ignores_only_a_second_active_enrolment(app_ctx):
    """The insert ignores a clash on the one-active-enrolment index alone: a waitlist
    position given twice (which the course lock prevents) is an error, never a silent
    "already enrolled"."""
    course = _course(capacity=1)
    _enrol(make_user(), course)
    waiting = _enrol(make_user(), course)
    assert waiting.waitlist_position == 1
    values = {
        "course_id": course.id,
        "user_id": make_user().id,
        "enrolled_by_id": None,
        "decided_by_id": None,
        "status": EnrolmentStatus.WAITLISTED,
        "waitlist_position": 1,
        "credited_hours": 0.0,
        "created_at": NOW,
        "updated_at": NOW,
        "completed_at": None,
        "cancelled_at": None,
    }
    with pytest.raises(sa.exc.IntegrityError):
        seats.insert_unless_enrolled(values)
    db.session.rollback()
    values |= {"user_id": waiting.user_id, "waitlist_position": 2}
    assert seats.insert_unless_enrolled(values) == (None, None)
    db.session.rollback()


def test_cancelling_a_seat_promotes_the_head_of_the_waitlist(app_ctx):
    course = _course(capacity=1)
    first, second, third = make_user(), make_user(), make_user()
    seat = _enrol(first, course)
    _enrol(second, course)
    _enrol(third, course)
    enrolments.cancel(first, seat, now=NOW)
    db.session.commit()
    db.session.expire_all()
    statuses = {
        e.user_id: (e.status, e.waitlist_position) for e in db.session.scalars(sa.select(Enrolment))
    }
    assert statuses[first.id] == (EnrolmentStatus.CANCELLED, None)
    assert statuses[second.id] == (EnrolmentStatus.ENROLLED, None)
    assert statuses[third.id][0] == EnrolmentStatus.WAITLISTED
    assert _ranks(course) == [(third.id, 1)]
    assert _seats(course) == 1
    notice = db.session.scalar(sa.select(Notice).where(Notice.user_id == second.id))
    assert notice.kind == "enrolment_promoted"
    assert notice.data["course_title"] == course.title
    event = db.session.scalar(sa.select(OutboxEvent).where(OutboxEvent.topic != STATS_TOPIC))
    assert event.topic == "enrolment.notify"
    assert event.payload["kind"] == "promoted"


def test_leaving_the_waitlist_frees_no_seat_and_keeps_the_order(app_ctx):
    course = _course(capacity=1)
    learners = [make_user() for _ in range(4)]
    mine = [_enrol(learner, course) for learner in learners]
    enrolments.cancel(learners[2], mine[2], now=NOW)
    db.session.commit()
    assert _seats(course) == 1
    assert _ranks(course) == [(learners[1].id, 1), (learners[3].id, 2)]


def test_raising_the_capacity_promotes_in_order_and_lowering_below_seats_is_refused(app_ctx):
    trainer = make_trainer()
    course = _course(capacity=1, trainers=[trainer])
    users = [make_user() for _ in range(4)]
    for user in users:
        _enrol(user, course)
    course_service.update_course(trainer, course, {"capacity": 3})
    db.session.commit()
    assert _seats(course) == 3
    assert _ranks(course) == [(users[3].id, 1)]
    with pytest.raises(ValidationFailed) as raised:
        course_service.update_course(trainer, course, {"capacity": 2})
    assert raised.value.code == "capacity_below_enrolled"
    db.session.rollback()
    course_service.update_course(trainer, course, {"capacity": None})
    db.session.commit()
    assert _seats(course) == 4
    assert _ranks(course) == []


def test_a_rejoining_learner_goes_to_the_end_of_the_queue(app_ctx):
    course = _course(capacity=1)
    users = [make_user() for _ in range(3)]
    mine = [_enrol(user, course) for user in users]
    enrolments.cancel(users[1], mine[1], now=NOW)
    db.session.commit()
    again = _enrol(users[1], course)
    assert again.status == EnrolmentStatus.WAITLISTED
    assert _ranks(course) == [(users[2].id, 1), (users[1].id, 2)]
