"""What learners, trainers and admins do (courses.services.enrolments.actions):
cancelling and its deadline, approving and rejecting, enrolling on someone's behalf
and moving someone off the waitlist."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.errors import NotFound, PermissionDenied, ValidationFailed
from courses.models import AuditLogEntry, Course, Enrolment, EnrolmentStatus
from courses.services import enrolments
from tests.enrolment_steps import NOW, _course, _enrol, _ranks, _seats
from tests.factories import make_admin, make_enrolment, make_trainer, make_user


def test_cancel_deadline_binds_a_seat_but_not_the_waitlist(app_ctx):
    course = _course(capacity=1, cancel_deadline=NOW)
    seat = _enrol(make_user(), course, now=NOW - timedelta(hours=1))
    waiting_user = make_user()
    waiting = _enrol(waiting_user, course, now=NOW - timedelta(hours=1))
    with pytest.raises(ValidationFailed) as raised:
        enrolments.cancel(seat.user, seat, now=NOW)
    assert raised.value.code == "cancel_deadline"
    db.session.rollback()
    enrolments.cancel(waiting_user, waiting, now=NOW + timedelta(days=1))
    db.session.commit()
    assert waiting.status == EnrolmentStatus.CANCELLED


def test_nobody_else_may_cancel_an_enrolment(app_ctx):
    course = _course()
    seat = _enrol(make_user(), course)
    with pytest.raises(NotFound):
        enrolments.cancel(make_user(), seat, now=NOW)
    with pytest.raises(NotFound):
        enrolments.cancel(make_trainer(), seat, now=NOW)  # a trainer of another course


def test_completed_enrolments_cannot_be_cancelled(app_ctx):
    course = _course()
    learner = make_user()
    done = make_enrolment(course, learner, EnrolmentStatus.COMPLETED)
    with pytest.raises(ValidationFailed) as raised:
        enrolments.cancel(learner, done, now=NOW)
    assert raised.value.code == "not_cancellable"


def test_approval_waits_then_takes_a_seat_or_the_waitlist(app_ctx):
    trainer = make_trainer()
    course = _course(capacity=1, approval_required=True, trainers=[trainer])
    a, b, c = make_user(), make_user(), make_user()
    requests = [_enrol(user, course) for user in (a, b, c)]
    assert {e.status for e in requests} == {EnrolmentStatus.PENDING}
    assert _seats(course) == 0
    enrolments.approve(trainer, requests[1], now=NOW)
    enrolments.approve(trainer, requests[0], now=NOW)
    enrolments.reject(trainer, requests[2], reason="名额已满", now=NOW)
    db.session.commit()
    assert requests[1].status == EnrolmentStatus.ENROLLED
    assert requests[0].status == EnrolmentStatus.WAITLISTED
    assert requests[2].status == EnrolmentStatus.REJECTED
    assert requests[2].decided_by_id == trainer.id
    actions = sorted(
        db.session.scalars(
            sa.select(AuditLogEntry.action).where(AuditLogEntry.object_type == "enrolment")
        )
    )
    assert actions == ["enrolment.approve", "enrolment.approve", "enrolment.reject"]
    with pytest.raises(ValidationFailed) as raised:
        enrolments.approve(trainer, requests[2], now=NOW)
    assert raised.value.code == "not_pending"
    db.session.rollback()
    # a rejected learner may ask again
    assert _enrol(c, course).status == EnrolmentStatus.PENDING


def test_only_the_course_s_trainers_and_admins_decide(app_ctx):
    course = _course(approval_required=True, trainers=[make_trainer()])
    request = _enrol(make_user(), course)
    with pytest.raises(PermissionDenied):
        enrolments.approve(make_trainer(), request, now=NOW)
    with pytest.raises(PermissionDenied):
        enrolments.reject(request.user, request, now=NOW)
    enrolments.approve(make_admin(), request, now=NOW)
    assert request.status == EnrolmentStatus.ENROLLED


def test_staff_enrol_on_behalf_outside_the_window_without_approval(app_ctx):
    trainer = make_trainer()
    course = _course(
        capacity=1,
        approval_required=True,
        trainers=[trainer],
        enrol_closes_at=NOW - timedelta(days=1),
    )
    a, b = make_user(), make_user()
    assert enrolments.enrol(trainer, course, a, now=NOW).status == EnrolmentStatus.ENROLLED
    assert enrolments.enrol(trainer, course, b, now=NOW).status == EnrolmentStatus.WAITLISTED
    db.session.commit()
    entries = db.session.scalars(
        sa.select(AuditLogEntry).where(AuditLogEntry.action == "enrolment.add")
    ).all()
    assert {e.data["user_id"] for e in entries} == {a.id, b.id}
    with pytest.raises(PermissionDenied):
        enrolments.enrol(make_user(), course, make_user(), now=NOW)
    inactive = make_user()
    inactive.is_active = False
    db.session.commit()
    with pytest.raises(ValidationFailed) as raised:
        enrolments.enrol(trainer, course, inactive, now=NOW)
    assert raised.value.code == "invalid_user"


def test_moving_off_the_waitlist_adds_a_seat_instead_of_overbooking(app_ctx):
    trainer = make_trainer()
    course = _course(capacity=1, trainers=[trainer])
    users = [make_user() for _ in range(3)]
    mine = [_enrol(user, course) for user in users]
    enrolments.promote(trainer, mine[2], now=NOW)
    db.session.commit()
    db.session.expire_all()
    course = db.session.get(Course, course.id)
    assert (course.capacity, course.seats_taken) == (2, 2)
    assert _ranks(course) == [(users[1].id, 1)]
    entry = db.session.scalar(
        sa.select(AuditLogEntry).where(AuditLogEntry.action == "enrolment.promote")
    )
    assert (entry.data["capacity_before"], entry.data["capacity_after"]) == (1, 2)
    with pytest.raises(ValidationFailed) as raised:
        enrolments.promote(trainer, db.session.get(Enrolment, mine[0].id), now=NOW)
    assert raised.value.code == "not_waitlisted"
