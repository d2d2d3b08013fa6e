"""Enrolment rules (courses.services.enrolments): seats, waitlist, approval,
prerequisites, window, cancellation and what staff do on a roster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from courses.models import (
    AuditLogEntry,
    Course,
    Enrolment,
    EnrolmentStatus,
    Notice,
    OutboxEvent,
    PublicationStatus,
)
from courses.services import courses as course_service
from courses.services import enrolments, rosters
from tests.factories import make_admin, make_course, make_enrolment, make_trainer, make_user

NOW = datetime(2030, 3, 1, 2, 0, tzinfo=UTC)


def _course(**kwargs):  # type: ignore[no-untyped-def]
    kwargs.setdefault("sessions", 2)
    return make_course(**kwargs)


def _enrol(user, course, **kwargs):  # type: ignore[no-untyped-def]
    enrolment = enrolments.enrol(user, course, now=kwargs.pop("now", NOW), **kwargs)
    db.session.commit()
    return enrolment


def _seats(course: Course) -> int:
    db.session.expire_all()
    return db.session.get(Course, course.id).seats_taken


def _ranks(course: Course) -> list[tuple[int, int]]:
    """(user id, waitlist place) of everyone waiting, in order."""
    page = rosters.roster(make_admin(), course, status=EnrolmentStatus.WAITLISTED)
    return [(row.user.id, row.waitlist_rank) for row in page.items]


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


def test_enrolling_twice_is_a_conflict_and_changes_nothing(app_ctx):
    course = _course(capacity=5)
    learner = make_user()
    _enrol(learner, course)
    with pytest.raises(Conflict) as raised:
        enrolments.enrol(learner, course, now=NOW)
    assert raised.value.code == "already_enrolled"
    assert raised.value.status == 409
    db.session.rollback()
    assert _seats(course) == 1
    assert db.session.scalar(sa.select(sa.func.count(Enrolment.id))) == 1


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
        enrolments._insert_unless_enrolled(values)
    db.session.rollback()
    values |= {"user_id": waiting.user_id, "waitlist_position": 2}
    assert enrolments._insert_unless_enrolled(values) == (None, None)
    db.session.rollback()


def test_window_refuses_before_it_opens_and_after_it_closes(app_ctx):
    course = _course(
        enrol_opens_at=NOW + timedelta(days=1), enrol_closes_at=NOW + timedelta(days=2)
    )
    learner = make_user()
    with pytest.raises(ValidationFailed) as raised:
        enrolments.enrol(learner, course, now=NOW)
    assert raised.value.code == "enrolment_not_open"
    assert "2030-03-02 10:00" in str(raised.value.message)  # shown in Asia/Shanghai
    with pytest.raises(ValidationFailed) as raised:
        enrolments.enrol(learner, course, now=NOW + timedelta(days=2))
    assert raised.value.code == "enrolment_closed"
    assert _enrol(learner, course, now=NOW + timedelta(days=1, hours=1)).status == "enrolled"


def test_a_course_that_has_ended_takes_no_enrolments(app_ctx):
    course = _course(first_session_at=NOW - timedelta(days=10))
    with pytest.raises(ValidationFailed) as raised:
        enrolments.enrol(make_user(), course, now=NOW)
    assert raised.value.code == "enrolment_closed"


def test_drafts_are_invisible_and_archived_courses_closed(app_ctx):
    draft = _course(status=PublicationStatus.DRAFT)
    with pytest.raises(NotFound):
        enrolments.enrol(make_user(), draft, now=NOW)
    archived = _course(status=PublicationStatus.ARCHIVED)
    with pytest.raises(ValidationFailed) as raised:
        enrolments.enrol(make_user(), archived, now=NOW)
    assert raised.value.code == "course_not_open"


def test_prerequisites_name_what_is_missing(app_ctx):
    basics = _course(title="社工实务入门")
    ethics = _course(title="社会工作伦理")
    advanced = _course(title="个案管理进阶")
    advanced.prerequisites = [basics, ethics]
    db.session.commit()
    learner = make_user()
    make_enrolment(basics, learner, EnrolmentStatus.COMPLETED)
    with pytest.raises(ValidationFailed) as raised:
        enrolments.enrol(learner, advanced, now=NOW)
    assert raised.value.code == "prerequisite_unmet"
    assert "社会工作伦理" in str(raised.value.message)
    assert "社工实务入门" not in str(raised.value.message)
    assert raised.value.details["missing_prerequisites"] == [
        {"id": ethics.id, "title": "社会工作伦理"}
    ]
    make_enrolment(ethics, learner, EnrolmentStatus.COMPLETED)
    assert _enrol(learner, advanced).status == EnrolmentStatus.ENROLLED


def test_enrolled_but_not_completed_prerequisite_does_not_count(app_ctx):
    basics = _course()
    advanced = _course(prerequisites=[basics])
    learner = make_user()
    make_enrolment(basics, learner, EnrolmentStatus.ENROLLED)
    with pytest.raises(ValidationFailed) as raised:
        enrolments.enrol(learner, advanced, now=NOW)
    assert raised.value.code == "prerequisite_unmet"


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
    event = db.session.scalar(sa.select(OutboxEvent))
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


def test_a_trainer_removes_after_the_deadline_audited_and_notified(app_ctx):
    trainer = make_trainer()
    course = _course(capacity=1, cancel_deadline=NOW, trainers=[trainer])
    learner, next_in_line = make_user(), make_user()
    seat = _enrol(learner, course, now=NOW - timedelta(hours=2))
    _enrol(next_in_line, course, now=NOW - timedelta(hours=1))
    enrolments.cancel(trainer, seat, reason="重复报名", now=NOW + timedelta(days=1))
    db.session.commit()
    entry = db.session.scalar(
        sa.select(AuditLogEntry).where(AuditLogEntry.action == "enrolment.remove")
    )
    assert entry.actor_id == trainer.id
    assert entry.data["reason"] == "重复报名"
    kinds = {n.user_id: n.kind for n in db.session.scalars(sa.select(Notice))}
    assert kinds == {learner.id: "enrolment_removed", next_in_line.id: "enrolment_promoted"}


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


def test_my_enrolments_show_place_next_session_and_cancellability(app_ctx, count_queries):
    learner = make_user()
    full = _course(capacity=1, title="满员课程")
    _enrol(make_user(), full)
    open_course = _course(title="开放课程", cancel_deadline=NOW - timedelta(days=1))
    _enrol(learner, full)
    _enrol(learner, open_course, now=NOW - timedelta(days=2))
    _ = learner.id  # loaded before counting
    with count_queries() as statements:
        page = rosters.my_enrolments(learner, now=NOW)
    assert len(statements) == 2
    by_title = {item.course.title: item for item in page.items}
    assert by_title["满员课程"].status == EnrolmentStatus.WAITLISTED
    assert by_title["满员课程"].waitlist_rank == 1
    assert by_title["满员课程"].can_cancel  # leaving the waitlist is always possible
    assert by_title["开放课程"].status == EnrolmentStatus.ENROLLED
    assert not by_title["开放课程"].can_cancel  # the deadline has passed
    assert by_title["开放课程"].next_session_at == datetime(2030, 3, 4, 1, 30, tzinfo=UTC)


def test_roster_lists_in_a_fixed_number_of_statements(app_ctx, count_queries):
    trainer = make_trainer()
    course = _course(capacity=3, trainers=[trainer])
    for _ in range(8):
        _enrol(make_user(), course)
    _ = (trainer.id, course.id)  # loaded before counting
    with count_queries() as statements:
        page = rosters.roster(trainer, course, per_page=50)
        _ = [(row.user.name, row.organisation_name, row.waitlist_rank) for row in page.items]
    assert len(statements) <= 3  # permission, total, rows
    assert page.total == 8
    assert [row.status for row in page.items].count(EnrolmentStatus.WAITLISTED) == 5
    assert [row.waitlist_rank for row in page.items][-5:] == [1, 2, 3, 4, 5]
    with pytest.raises(PermissionDenied):
        rosters.roster(make_trainer(), course)
