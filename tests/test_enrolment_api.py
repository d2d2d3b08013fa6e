"""Enrolment through the JSON API: enrol, cancel, approve/reject, promote, rosters and
"my enrolments", answered as 201/200, 401, 403, 404, 409 and 422
``{"error": {"code", "message", ...}}`` with the codes of ``courses.services.enrolments``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from openapi_spec_validator import validate

from courses.db import db
from courses.models import (
    AuditLogEntry,
    Course,
    Enrolment,
    EnrolmentStatus,
    Notice,
    PublicationStatus,
    User,
)
from tests.factories import (
    bearer,
    make_admin,
    make_course,
    make_enrolment,
    make_session,
    make_token,
    make_trainer,
    make_user,
)

ENROLMENT_KEYS = {
    "id",
    "course_id",
    "user_id",
    "status",
    "waitlist_position",
    "credited_hours",
    "created_at",
}


def now() -> datetime:
    return datetime.now(UTC)


def auth(user: User) -> dict[str, str]:
    return bearer(make_token(user))


def assert_error(response, status: int, code: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    return error


def enrol(client, course: Course, headers: dict[str, str], **body: Any):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/courses/{course.id}/enrolments", json=body, headers=headers)


def enrolled_ok(response) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) >= ENROLMENT_KEYS, body
    return body


def ok(response) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def count_enrolments(course: Course | None = None) -> int:
    db.session.expire_all()
    statement = sa.select(sa.func.count(Enrolment.id))
    if course is not None:
        statement = statement.where(Enrolment.course_id == course.id)
    return db.session.scalar(statement)


def course_json(client, course: Course, headers: dict[str, str] | None = None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return ok(client.get(f"/api/v1/courses/{course.id}", headers=headers or {}))


def mine(client, headers: dict[str, str], **query: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return ok(client.get("/api/v1/me/enrolments", query_string=query, headers=headers))


def roster(client, course: Course, headers: dict[str, str], **query: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return ok(
        client.get(f"/api/v1/courses/{course.id}/enrolments", query_string=query, headers=headers)
    )


def my_entry(client, headers: dict[str, str], course: Course) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    items = [i for i in mine(client, headers)["items"] if i["course"]["id"] == course.id]
    assert len(items) == 1, items
    return items[0]


@pytest.fixture
def trainer(app_ctx) -> User:  # type: ignore[no-untyped-def]
    return make_trainer(name="李讲师")


# --- enrolling ---------------------------------------------------------------------------------


def test_seats_first_then_the_waitlist_in_arrival_order(client, trainer):
    course = make_course("社区心理健康服务", trainers=[trainer], sessions=2, capacity=2)
    learners = [make_user() for _ in range(4)]
    bodies = [enrolled_ok(enrol(client, course, auth(learner))) for learner in learners]

    assert [b["status"] for b in bodies] == ["enrolled", "enrolled", "waitlisted", "waitlisted"]
    assert [b["waitlist_position"] for b in bodies] == [None, None, 1, 2]
    assert [b["user_id"] for b in bodies] == [learner.id for learner in learners]
    assert {b["course_id"] for b in bodies} == {course.id}
    assert len({b["id"] for b in bodies}) == 4
    for body in bodies:
        assert body["credited_hours"] == 0
        created = datetime.fromisoformat(body["created_at"])
        assert abs(created - now()) < timedelta(minutes=5)
    stored = db.session.get(Enrolment, bodies[0]["id"])
    assert (stored.user_id, stored.status) == (learners[0].id, EnrolmentStatus.ENROLLED)

    detail = course_json(client, course)
    assert (detail["capacity"], detail["seats_left"]) == (2, 0)
    db.session.expire_all()
    assert db.session.get(Course, course.id).seats_taken == 2


def test_an_unlimited_course_never_waitlists(client, app_ctx):
    course = make_course(sessions=1, capacity=None)
    for _ in range(3):
        body = enrolled_ok(enrol(client, course, auth(make_user())))
        assert (body["status"], body["waitlist_position"]) == ("enrolled", None)


def test_a_course_needing_approval_answers_pending_and_takes_no_seat(client, app_ctx):
    course = make_course(sessions=1, capacity=1, approval_required=True)
    first = enrolled_ok(enrol(client, course, auth(make_user())))
    second = enrolled_ok(enrol(client, course, auth(make_user())))
    assert (first["status"], first["waitlist_position"]) == ("pending", None)
    assert (second["status"], second["waitlist_position"]) == ("pending", None)
    assert course_json(client, course)["seats_left"] == 1


@pytest.mark.parametrize("capacity", [1, 5])
def test_a_second_request_is_409_already_enrolled_and_changes_nothing(client, app_ctx, capacity):
    course = make_course(sessions=1, capacity=capacity)
    make_enrolment(course, make_user())  # with capacity 1 the learner waits
    learner = auth(make_user())
    first = enrolled_ok(enrol(client, course, learner))
    error = assert_error(enrol(client, course, learner), 409, "already_enrolled")
    assert error["enrolment_id"] == first["id"]
    assert count_enrolments(course) == 2
    assert my_entry(client, learner, course)["status"] == first["status"]


def test_a_pending_request_also_blocks_a_second_one(client, app_ctx):
    course = make_course(sessions=1, approval_required=True)
    learner = auth(make_user())
    enrolled_ok(enrol(client, course, learner))
    assert_error(enrol(client, course, learner), 409, "already_enrolled")
    assert count_enrolments(course) == 1


def test_a_learner_may_enrol_again_after_cancelling(client, app_ctx):
    course = make_course(sessions=1)
    learner = auth(make_user())
    first = enrolled_ok(enrol(client, course, learner))
    ok(client.delete(f"/api/v1/enrolments/{first['id']}", headers=learner))
    again = enrolled_ok(enrol(client, course, learner))
    assert again["id"] != first["id"]
    assert again["status"] == "enrolled"


@pytest.mark.parametrize(
    ("window", "code"),
    [
        ({"enrol_opens_at": timedelta(days=2)}, "enrolment_not_open"),
        (
            {"enrol_opens_at": timedelta(days=2), "enrol_closes_at": timedelta(days=9)},
            "enrolment_not_open",
        ),
        ({"enrol_closes_at": -timedelta(minutes=5)}, "enrolment_closed"),
        (
            {"enrol_opens_at": -timedelta(days=9), "enrol_closes_at": -timedelta(days=1)},
            "enrolment_closed",
        ),
    ],
)
def test_the_enrolment_window_binds_learners(client, app_ctx, window, code):
    moments = {name: now() + offset for name, offset in window.items()}
    course = make_course(sessions=1, **moments)
    assert_error(enrol(client, course, auth(make_user())), 422, code)
    assert count_enrolments() == 0


def test_inside_the_window_a_learner_enrols(client, app_ctx):
    course = make_course(
        sessions=1,
        enrol_opens_at=now() - timedelta(days=1),
        enrol_closes_at=now() + timedelta(days=1),
    )
    assert enrolled_ok(enrol(client, course, auth(make_user())))["status"] == "enrolled"


def test_a_course_whose_sessions_have_ended_is_closed(client, app_ctx):
    course = make_course(sessions=2, first_session_at=now() - timedelta(days=30))
    assert_error(enrol(client, course, auth(make_user())), 422, "enrolment_closed")
    assert count_enrolments() == 0


def test_a_course_under_way_still_takes_enrolments(client, app_ctx):
    course = make_course(sessions=3, first_session_at=now() - timedelta(days=8))
    assert enrolled_ok(enrol(client, course, auth(make_user())))["status"] == "enrolled"


def test_missing_prerequisites_are_named_in_the_message_and_the_body(client, app_ctx):
    done = make_course("社会工作概论", sessions=1)
    missing = make_course("个案工作基础", sessions=1)
    course = make_course("高级个案督导", sessions=1)
    course.prerequisites = [done, missing]
    db.session.commit()
    user = make_user()
    make_enrolment(done, user, EnrolmentStatus.COMPLETED)
    make_enrolment(missing, user, EnrolmentStatus.ENROLLED)  # not completed: does not count
    learner = auth(user)

    error = assert_error(enrol(client, course, learner), 422, "prerequisite_unmet")
    assert error["missing_prerequisites"] == [{"id": missing.id, "title": "个案工作基础"}]
    assert "个案工作基础" in error["message"]
    assert "社会工作概论" not in error["message"]
    assert count_enrolments(course) == 0

    stranger = auth(make_user())
    error = assert_error(enrol(client, course, stranger), 422, "prerequisite_unmet")
    assert {p["id"] for p in error["missing_prerequisites"]} == {done.id, missing.id}
    assert "个案工作基础" in error["message"] and "社会工作概论" in error["message"]

    db.session.execute(
        sa.update(Enrolment)
        .where(Enrolment.user_id == user.id, Enrolment.course_id == missing.id)
        .values(status=EnrolmentStatus.COMPLETED)
    )
    db.session.commit()
    assert enrolled_ok(enrol(client, course, learner))["status"] == "enrolled"


def test_archived_courses_are_not_open_and_drafts_are_invisible_to_learners(client, trainer):
    archived = make_course(sessions=1, status=PublicationStatus.ARCHIVED)
    draft = make_course(sessions=1, status=PublicationStatus.DRAFT, trainers=[trainer])
    learner = auth(make_user())
    assert_error(enrol(client, archived, learner), 422, "course_not_open")
    assert_error(enrol(client, draft, learner), 404, "not_found")
    assert_error(enrol(client, draft, auth(trainer)), 422, "course_not_open")
    assert_error(
        client.post("/api/v1/courses/999999/enrolments", json={}, headers=learner),
        404,
        "not_found",
    )
    assert count_enrolments() == 0


def test_enrolling_needs_a_valid_token(client, app_ctx):
    course = make_course(sessions=1)
    assert_error(
        client.post(f"/api/v1/courses/{course.id}/enrolments", json={}), 401, "unauthorized"
    )
    assert_error(enrol(client, course, bearer("not-a-real-token")), 401, "unauthorized")
    assert count_enrolments() == 0


def test_a_trainer_enrols_a_learner_on_behalf_outside_the_window_and_without_approval(
    client, trainer
):
    course = make_course(
        sessions=1,
        capacity=1,
        trainers=[trainer],
        approval_required=True,
        enrol_closes_at=now() - timedelta(days=1),
    )
    learner, later = make_user(), make_user()
    body = enrolled_ok(enrol(client, course, auth(trainer), user_id=learner.id))
    assert (body["user_id"], body["status"]) == (learner.id, "enrolled")
    stored = db.session.get(Enrolment, body["id"])
    assert stored.enrolled_by_id == trainer.id

    waiting = enrolled_ok(enrol(client, course, auth(make_admin()), user_id=later.id))
    assert (waiting["user_id"], waiting["status"]) == (later.id, "waitlisted")
    assert waiting["waitlist_position"] == 1

    # the learners themselves are still bound by the closed window
    assert_error(enrol(client, course, auth(make_user())), 422, "enrolment_closed")
    assert_error(enrol(client, course, auth(trainer), user_id=learner.id), 409, "already_enrolled")
    assert my_entry(client, auth(learner), course)["status"] == "enrolled"


def test_on_behalf_still_checks_prerequisites(client, trainer):
    base = make_course("社会工作概论", sessions=1)
    course = make_course(sessions=1, trainers=[trainer], prerequisites=[base])
    error = assert_error(
        enrol(client, course, auth(trainer), user_id=make_user().id), 422, "prerequisite_unmet"
    )
    assert error["missing_prerequisites"] == [{"id": base.id, "title": "社会工作概论"}]


def test_only_the_course_s_trainers_and_admins_enrol_someone_else(client, trainer):
    course = make_course(sessions=1, trainers=[trainer])
    target = make_user()
    assert_error(enrol(client, course, auth(make_user()), user_id=target.id), 403, "forbidden")
    assert_error(enrol(client, course, auth(make_trainer()), user_id=target.id), 403, "forbidden")
    assert count_enrolments() == 0
    # naming yourself is an ordinary self-enrolment
    learner = make_user()
    body = enrolled_ok(enrol(client, course, auth(learner), user_id=learner.id))
    assert body["user_id"] == learner.id


def test_an_unknown_or_deactivated_account_is_invalid_user(client, trainer):
    course = make_course(sessions=1, trainers=[trainer])
    gone = make_user()
    gone.is_active = False
    db.session.commit()
    for user_id in (999999, gone.id):
        error = assert_error(
            enrol(client, course, auth(trainer), user_id=user_id), 422, "invalid_user"
        )
        assert error["fields"]["user_id"]
    assert count_enrolments() == 0


def test_a_learner_cannot_learn_which_accounts_exist_through_user_id(client, app_ctx):
    course = make_course(sessions=1)
    gone = make_user()
    gone.is_active = False
    db.session.commit()
    learner = auth(make_user())
    for user_id in (999999, gone.id, make_user().id):
        assert_error(enrol(client, course, learner, user_id=user_id), 403, "forbidden")
    assert count_enrolments() == 0


# --- cancelling --------------------------------------------------------------------------------


def test_cancelling_a_seat_promotes_the_first_waiter_and_moves_the_queue_up(client, app_ctx):
    course = make_course(sessions=2, capacity=1)
    seat_holder = auth(make_user())
    waiters = [auth(make_user()) for _ in range(3)]
    seat = enrolled_ok(enrol(client, course, seat_holder))
    for place, headers in enumerate(waiters, start=1):
        body = enrolled_ok(enrol(client, course, headers))
        assert (body["status"], body["waitlist_position"]) == ("waitlisted", place)

    body = ok(client.delete(f"/api/v1/enrolments/{seat['id']}", headers=seat_holder))
    assert body["id"] == seat["id"]
    assert (body["status"], body["waitlist_position"]) == ("cancelled", None)
    assert body["cancelled_at"] is not None

    first = my_entry(client, waiters[0], course)
    assert (first["status"], first["waitlist_position"]) == ("enrolled", None)
    assert [my_entry(client, h, course)["waitlist_position"] for h in waiters[1:]] == [1, 2]
    assert [my_entry(client, h, course)["status"] for h in waiters[1:]] == ["waitlisted"] * 2
    assert course_json(client, course)["seats_left"] == 0
    kinds = [n.kind for n in db.session.scalars(sa.select(Notice))]
    assert kinds == ["enrolment_promoted"]


def test_leaving_the_waitlist_frees_no_seat_and_closes_the_gap(client, app_ctx):
    course = make_course(sessions=1, capacity=1)
    seat_holder = auth(make_user())
    waiters = [auth(make_user()) for _ in range(3)]
    enrolled_ok(enrol(client, course, seat_holder))
    ids = [enrolled_ok(enrol(client, course, h))["id"] for h in waiters]
    body = ok(client.delete(f"/api/v1/enrolments/{ids[0]}", headers=waiters[0]))
    assert (body["status"], body["waitlist_position"]) == ("cancelled", None)
    assert my_entry(client, seat_holder, course)["status"] == "enrolled"
    assert [my_entry(client, h, course)["waitlist_position"] for h in waiters[1:]] == [1, 2]
    late = enrolled_ok(enrol(client, course, auth(make_user())))
    assert (late["status"], late["waitlist_position"]) == ("waitlisted", 3)


def test_after_the_deadline_a_seat_holder_cannot_cancel_but_a_waiter_can_leave(client, trainer):
    course = make_course(
        sessions=1, capacity=1, trainers=[trainer], cancel_deadline=now() + timedelta(days=1)
    )
    holder_user = make_user()
    holder, waiter, next_waiter = auth(holder_user), auth(make_user()), auth(make_user())
    seat = enrolled_ok(enrol(client, course, holder))
    waiting = enrolled_ok(enrol(client, course, waiter))
    next_in_line = enrolled_ok(enrol(client, course, next_waiter))
    course.cancel_deadline = now() - timedelta(hours=1)
    db.session.commit()

    assert my_entry(client, holder, course)["can_cancel"] is False
    assert my_entry(client, waiter, course)["can_cancel"] is True
    assert_error(
        client.delete(f"/api/v1/enrolments/{seat['id']}", headers=holder), 422, "cancel_deadline"
    )
    assert my_entry(client, holder, course)["status"] == "enrolled"

    left = ok(client.delete(f"/api/v1/enrolments/{waiting['id']}", headers=waiter))
    assert left["status"] == "cancelled"
    assert my_entry(client, next_waiter, course)["waitlist_position"] == 1

    removed = ok(
        client.delete(
            f"/api/v1/enrolments/{seat['id']}",
            query_string={"reason": "重复报名"},
            headers=auth(trainer),
        )
    )
    assert removed["status"] == "cancelled"
    promoted = my_entry(client, next_waiter, course)
    assert (promoted["id"], promoted["status"]) == (next_in_line["id"], "enrolled")
    entry = db.session.scalar(
        sa.select(AuditLogEntry).where(AuditLogEntry.action == "enrolment.remove")
    )
    assert (entry.actor_id, entry.object_id) == (trainer.id, seat["id"])
    assert entry.data["reason"] == "重复报名"
    notice = db.session.scalar(
        sa.select(Notice).where(
            Notice.user_id == holder_user.id, Notice.kind == "enrolment_removed"
        )
    )
    assert notice is not None and notice.data["reason"] == "重复报名"


def test_a_pending_request_can_be_withdrawn_after_the_deadline(client, app_ctx):
    course = make_course(
        sessions=1, approval_required=True, cancel_deadline=now() + timedelta(days=1)
    )
    learner = auth(make_user())
    pending = enrolled_ok(enrol(client, course, learner))
    course.cancel_deadline = now() - timedelta(hours=1)
    db.session.commit()
    assert my_entry(client, learner, course)["can_cancel"] is True
    body = ok(client.delete(f"/api/v1/enrolments/{pending['id']}", headers=learner))
    assert body["status"] == "cancelled"


def test_an_admin_removes_a_learner(client, app_ctx):
    course = make_course(sessions=1, cancel_deadline=now() - timedelta(days=1))
    seat = make_enrolment(course, make_user())
    body = ok(client.delete(f"/api/v1/enrolments/{seat.id}", headers=auth(make_admin())))
    assert body["status"] == "cancelled"
    assert course_json(client, course)["seats_left"] == 30


def test_someone_else_s_enrolment_is_404(client, trainer):
    course = make_course(sessions=1, trainers=[trainer])
    learner = auth(make_user())
    seat = enrolled_ok(enrol(client, course, learner))
    for headers in (auth(make_user()), auth(make_trainer())):
        assert_error(
            client.delete(f"/api/v1/enrolments/{seat['id']}", headers=headers), 404, "not_found"
        )
    assert_error(client.delete("/api/v1/enrolments/999999", headers=learner), 404, "not_found")
    assert_error(client.delete(f"/api/v1/enrolments/{seat['id']}"), 401, "unauthorized")
    assert my_entry(client, learner, course)["status"] == "enrolled"


def test_cancelling_twice_or_a_completed_enrolment_is_not_cancellable(client, app_ctx):
    course = make_course(sessions=1)
    learner_user = make_user()
    learner = auth(learner_user)
    seat = enrolled_ok(enrol(client, course, learner))
    ok(client.delete(f"/api/v1/enrolments/{seat['id']}", headers=learner))
    assert_error(
        client.delete(f"/api/v1/enrolments/{seat['id']}", headers=learner), 422, "not_cancellable"
    )
    assert course_json(client, course)["seats_left"] == 30

    other = make_course(sessions=1)
    done = make_enrolment(other, learner_user, EnrolmentStatus.COMPLETED)
    assert_error(
        client.delete(f"/api/v1/enrolments/{done.id}", headers=learner), 422, "not_cancellable"
    )


# --- approving and rejecting -------------------------------------------------------------------


def test_approving_takes_a_seat_then_the_waitlist(client, trainer):
    course = make_course(sessions=1, capacity=1, approval_required=True, trainers=[trainer])
    first_user = make_user()
    first_auth, second_auth = auth(first_user), auth(make_user())
    first = enrolled_ok(enrol(client, course, first_auth))
    second = enrolled_ok(enrol(client, course, second_auth))

    for headers in (first_auth, auth(make_trainer())):
        assert_error(
            client.post(f"/api/v1/enrolments/{first['id']}/approve", headers=headers),
            403,
            "forbidden",
        )
    assert my_entry(client, first_auth, course)["status"] == "pending"

    body = ok(client.post(f"/api/v1/enrolments/{first['id']}/approve", headers=auth(trainer)))
    assert (body["id"], body["status"], body["waitlist_position"]) == (
        first["id"],
        "enrolled",
        None,
    )
    body = ok(client.post(f"/api/v1/enrolments/{second['id']}/approve", headers=auth(make_admin())))
    assert (body["status"], body["waitlist_position"]) == ("waitlisted", 1)
    assert my_entry(client, second_auth, course)["waitlist_position"] == 1
    assert course_json(client, course)["seats_left"] == 0

    for enrolment_id in (first["id"], second["id"]):
        assert_error(
            client.post(f"/api/v1/enrolments/{enrolment_id}/approve", headers=auth(trainer)),
            422,
            "not_pending",
        )
    assert db.session.get(Enrolment, first["id"]).decided_by_id == trainer.id
    assert_error(
        client.post("/api/v1/enrolments/999999/approve", headers=auth(trainer)), 404, "not_found"
    )


def test_rejecting_with_a_reason(client, trainer):
    course = make_course(sessions=1, approval_required=True, trainers=[trainer])
    user = make_user()
    learner = auth(user)
    pending = enrolled_ok(enrol(client, course, learner))
    url = f"/api/v1/enrolments/{pending['id']}/reject"

    for headers in (learner, auth(make_trainer())):
        assert_error(client.post(url, json={"reason": "x"}, headers=headers), 403, "forbidden")

    body = ok(client.post(url, json={"reason": "名额已满"}, headers=auth(trainer)))
    assert (body["status"], body["waitlist_position"]) == ("rejected", None)
    assert mine(client, learner, status="rejected")["items"][0]["id"] == pending["id"]
    notice = db.session.scalar(sa.select(Notice).where(Notice.user_id == user.id))
    assert (notice.kind, notice.data["reason"]) == ("enrolment_rejected", "名额已满")
    entry = db.session.scalar(
        sa.select(AuditLogEntry).where(AuditLogEntry.action == "enrolment.reject")
    )
    assert (entry.actor_id, entry.data["reason"]) == (trainer.id, "名额已满")

    assert_error(client.post(url, json={}, headers=auth(trainer)), 422, "not_pending")
    assert_error(
        client.post(f"/api/v1/enrolments/{pending['id']}/approve", headers=auth(trainer)),
        422,
        "not_pending",
    )
    # a rejected learner may ask again
    assert enrolled_ok(enrol(client, course, learner))["status"] == "pending"


def test_a_rejection_reason_longer_than_200_characters_is_refused(client, trainer):
    course = make_course(sessions=1, approval_required=True, trainers=[trainer])
    pending = enrolled_ok(enrol(client, course, auth(make_user())))
    response = client.post(
        f"/api/v1/enrolments/{pending['id']}/reject",
        json={"reason": "长" * 201},
        headers=auth(trainer),
    )
    assert response.status_code == 422
    assert "reason" in response.get_json()["error"]["fields"]
    assert db.session.get(Enrolment, pending["id"]).status == EnrolmentStatus.PENDING


def test_an_enrolled_learner_cannot_be_rejected(client, trainer):
    course = make_course(sessions=1, trainers=[trainer])
    seat = enrolled_ok(enrol(client, course, auth(make_user())))
    assert_error(
        client.post(f"/api/v1/enrolments/{seat['id']}/reject", json={}, headers=auth(trainer)),
        422,
        "not_pending",
    )


# --- moving off the waitlist -------------------------------------------------------------------


def test_promoting_a_waiter_adds_a_seat(client, trainer):
    course = make_course(sessions=1, capacity=1, trainers=[trainer])
    seat = enrolled_ok(enrol(client, course, auth(make_user())))
    first_auth, second_auth = auth(make_user()), auth(make_user())
    enrolled_ok(enrol(client, course, first_auth))
    second = enrolled_ok(enrol(client, course, second_auth))
    url = f"/api/v1/enrolments/{second['id']}/promote"

    for headers in (second_auth, auth(make_trainer())):
        assert_error(client.post(url, headers=headers), 403, "forbidden")

    body = ok(client.post(url, headers=auth(trainer)))
    assert (body["id"], body["status"], body["waitlist_position"]) == (
        second["id"],
        "enrolled",
        None,
    )
    detail = course_json(client, course)
    assert (detail["capacity"], detail["seats_left"]) == (2, 0)
    assert my_entry(client, first_auth, course)["waitlist_position"] == 1
    entry = db.session.scalar(
        sa.select(AuditLogEntry).where(AuditLogEntry.action == "enrolment.promote")
    )
    assert (entry.data["capacity_before"], entry.data["capacity_after"]) == (1, 2)

    for enrolment_id in (seat["id"], second["id"]):
        assert_error(
            client.post(f"/api/v1/enrolments/{enrolment_id}/promote", headers=auth(make_admin())),
            422,
            "not_waitlisted",
        )
    assert course_json(client, course)["capacity"] == 2


# --- rosters -----------------------------------------------------------------------------------


def test_the_roster_is_for_the_course_s_trainers_and_admins(client, trainer):
    course = make_course(sessions=1, trainers=[trainer])
    learner = make_user()
    make_enrolment(course, learner)
    url = f"/api/v1/courses/{course.id}/enrolments"
    for headers in (auth(learner), auth(make_trainer())):
        assert_error(client.get(url, headers=headers), 403, "forbidden")
    assert_error(client.get(url), 401, "unauthorized")
    assert_error(
        client.get("/api/v1/courses/999999/enrolments", headers=auth(trainer)), 404, "not_found"
    )
    for headers in (auth(trainer), auth(make_admin())):
        body = roster(client, course, headers)
        assert set(body) == {"items", "total", "page", "per_page"}
        assert (body["total"], body["page"], len(body["items"])) == (1, 1, 1)


def test_the_roster_lists_pending_first_then_seats_then_the_waitlist_in_order(client, trainer):
    course = make_course(sessions=1, capacity=1, approval_required=True, trainers=[trainer])
    seat = make_user("王芳", email="wangfang@example.org", phone="13800000001")
    first = make_user("张伟", email="zhangwei@example.org", phone="13800000002")
    second = make_user("李娜", email="lina@example.org", phone="13900000003")
    asking = make_user("陈静", email="chenjing@example.org", phone="13900000004")
    leaving = make_user("刘洋", email="liuyang@example.org", phone="13700000005")
    staff = auth(trainer)
    for user in (seat, first, leaving, second):
        enrolled_ok(enrol(client, course, staff, user_id=user.id))
    gone = my_entry(client, auth(leaving), course)
    ok(client.delete(f"/api/v1/enrolments/{gone['id']}", headers=staff))
    enrolled_ok(enrol(client, course, auth(asking)))

    body = roster(client, course, staff)
    assert body["total"] == 5
    rows = [(i["user"]["name"], i["status"], i["waitlist_position"]) for i in body["items"]]
    assert rows == [
        ("陈静", "pending", None),
        ("王芳", "enrolled", None),
        ("张伟", "waitlisted", 1),
        ("李娜", "waitlisted", 2),
        ("刘洋", "cancelled", None),
    ]
    item = body["items"][1]
    assert set(item) >= ENROLMENT_KEYS
    assert item["user"] == {
        "id": seat.id,
        "name": "王芳",
        "phone": "13800000001",
        "email": "wangfang@example.org",
    }
    assert item["course_id"] == course.id and item["user_id"] == seat.id

    waiting = roster(client, course, staff, status="waitlisted")
    assert waiting["total"] == 2
    assert [(i["user"]["id"], i["waitlist_position"]) for i in waiting["items"]] == [
        (first.id, 1),
        (second.id, 2),
    ]
    assert [i["user"]["id"] for i in roster(client, course, staff, status="pending")["items"]] == [
        asking.id
    ]

    def names(**query: Any) -> list[str]:
        return [i["user"]["name"] for i in roster(client, course, staff, **query)["items"]]

    assert names(q="李娜") == ["李娜"]
    assert names(q="13900") == ["陈静", "李娜"]
    assert names(q="ZHANGWEI@") == ["张伟"]
    assert names(q="13900", status="waitlisted") == ["李娜"]
    assert names(q="nobody") == []
    assert names(q="   ") == ["陈静", "王芳", "张伟", "李娜", "刘洋"]
    assert names(q="%") == []

    page = roster(client, course, staff, per_page=2, page=2)
    assert (page["total"], page["page"], page["per_page"]) == (5, 2, 2)
    assert [i["user"]["name"] for i in page["items"]] == ["张伟", "李娜"]

    response = client.get(
        f"/api/v1/courses/{course.id}/enrolments", query_string={"status": "bogus"}, headers=staff
    )
    assert response.status_code == 422
    assert "status" in response.get_json()["error"]["fields"]


# --- my enrolments -----------------------------------------------------------------------------


def test_my_enrolments_are_mine_with_course_next_session_and_cancellability(client, app_ctx):
    deadline_passed = now() - timedelta(hours=1)
    under_way = make_course("家庭社会工作", capacity=5, cancel_deadline=deadline_passed)
    make_session(under_way, starts_at=now() - timedelta(days=7))
    upcoming = now() + timedelta(days=3)
    make_session(under_way, starts_at=upcoming)
    make_session(under_way, starts_at=upcoming + timedelta(days=7))
    full = make_course("老年社会工作", sessions=1, capacity=1, cancel_deadline=deadline_passed)
    open_course = make_course("社区营造", sessions=1)
    make_enrolment(full, make_user())

    user, other = make_user(), make_user()
    learner = auth(user)
    a = make_enrolment(under_way, user, created_at=now() - timedelta(days=3))
    b = make_enrolment(
        full,
        user,
        EnrolmentStatus.WAITLISTED,
        waitlist_position=4,
        created_at=now() - timedelta(days=2),
    )
    c = enrolled_ok(enrol(client, open_course, learner))
    make_enrolment(open_course, other)

    body = mine(client, learner)
    assert set(body) == {"items", "total", "page", "per_page"}
    assert body["total"] == 3
    items = body["items"]
    assert [i["id"] for i in items] == [c["id"], b.id, a.id]  # newest first
    assert {i["user_id"] for i in items} == {user.id}
    for item in items:
        assert ENROLMENT_KEYS | {"course", "next_session_at", "can_cancel"} <= set(item)
        assert set(item["course"]) == {"id", "title", "cancel_deadline"}
    by_course = {i["course"]["title"]: i for i in items}

    taking = by_course["家庭社会工作"]
    assert taking["course"]["id"] == under_way.id
    shown_deadline = datetime.fromisoformat(taking["course"]["cancel_deadline"])
    assert abs(shown_deadline - deadline_passed) < timedelta(seconds=1)
    assert abs(datetime.fromisoformat(taking["next_session_at"]) - upcoming) < timedelta(seconds=1)
    assert (taking["status"], taking["can_cancel"]) == ("enrolled", False)

    waiting = by_course["老年社会工作"]
    assert (waiting["status"], waiting["waitlist_position"], waiting["can_cancel"]) == (
        "waitlisted",
        1,
        True,
    )
    fresh = by_course["社区营造"]
    assert (fresh["status"], fresh["can_cancel"], fresh["course"]["cancel_deadline"]) == (
        "enrolled",
        True,
        None,
    )
    assert datetime.fromisoformat(fresh["next_session_at"]) == datetime(
        2030, 3, 4, 1, 30, tzinfo=UTC
    )

    filtered = mine(client, learner, status="waitlisted")
    assert filtered["total"] == 1
    assert [i["id"] for i in filtered["items"]] == [b.id]
    assert mine(client, learner, status="completed")["items"] == []
    assert mine(client, auth(other))["total"] == 1

    paged = mine(client, learner, per_page=1, page=2)
    assert (paged["total"], paged["per_page"], [i["id"] for i in paged["items"]]) == (3, 1, [b.id])
    assert_error(client.get("/api/v1/me/enrolments"), 401, "unauthorized")


def test_a_finished_course_has_no_next_session(client, app_ctx):
    course = make_course(sessions=1, first_session_at=now() - timedelta(days=3))
    user = make_user()
    make_enrolment(course, user, EnrolmentStatus.COMPLETED, credited_hours=2.5)
    item = mine(client, auth(user))["items"][0]
    assert item["next_session_at"] is None
    assert (item["status"], item["credited_hours"], item["can_cancel"]) == ("completed", 2.5, False)


def test_cancelled_enrolments_are_found_with_the_status_filter(client, app_ctx):
    course = make_course(sessions=1)
    learner = auth(make_user())
    seat = enrolled_ok(enrol(client, course, learner))
    ok(client.delete(f"/api/v1/enrolments/{seat['id']}", headers=learner))
    cancelled = mine(client, learner, status="cancelled")
    assert [(i["id"], i["status"], i["can_cancel"]) for i in cancelled["items"]] == [
        (seat["id"], "cancelled", False)
    ]
    assert mine(client, learner, status="enrolled")["items"] == []


# --- capacity changes --------------------------------------------------------------------------


def test_raising_the_capacity_promotes_waiters_in_order(client, trainer):
    course = make_course(sessions=1, capacity=1, trainers=[trainer])
    staff = auth(trainer)
    learners = [auth(make_user()) for _ in range(5)]
    for headers in learners:
        enrolled_ok(enrol(client, course, headers))

    response = client.patch(f"/api/v1/courses/{course.id}", json={"capacity": 3}, headers=staff)
    assert ok(response)["capacity"] == 3
    assert ok(response)["seats_left"] == 0
    states = [
        (my_entry(client, h, course)["status"], my_entry(client, h, course)["waitlist_position"])
        for h in learners
    ]
    assert states == [
        ("enrolled", None),
        ("enrolled", None),
        ("enrolled", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    promoted = {n.user_id for n in db.session.scalars(sa.select(Notice))}
    assert len(promoted) == 2

    assert_error(
        client.patch(f"/api/v1/courses/{course.id}", json={"capacity": 2}, headers=staff),
        422,
        "capacity_below_enrolled",
    )
    detail = course_json(client, course)
    assert (detail["capacity"], detail["seats_left"]) == (3, 0)
    waiting = roster(client, course, staff, status="waitlisted")
    assert [i["waitlist_position"] for i in waiting["items"]] == [1, 2]

    # lowering to exactly the seats taken is allowed and promotes nobody
    ok(client.patch(f"/api/v1/courses/{course.id}", json={"capacity": 3}, headers=staff))
    ok(client.patch(f"/api/v1/courses/{course.id}", json={"capacity": 4}, headers=staff))
    assert [my_entry(client, h, course)["status"] for h in learners[3:]] == [
        "enrolled",
        "waitlisted",
    ]
    assert my_entry(client, learners[4], course)["waitlist_position"] == 1


def test_removing_the_capacity_limit_seats_everyone_waiting(client, trainer):
    course = make_course(sessions=1, capacity=1, trainers=[trainer])
    learners = [auth(make_user()) for _ in range(3)]
    for headers in learners:
        enrolled_ok(enrol(client, course, headers))
    body = ok(
        client.patch(f"/api/v1/courses/{course.id}", json={"capacity": None}, headers=auth(trainer))
    )
    assert (body["capacity"], body["seats_left"]) == (None, None)
    assert [my_entry(client, h, course)["status"] for h in learners] == ["enrolled"] * 3
    db.session.expire_all()
    assert db.session.get(Course, course.id).seats_taken == 3


# --- the OpenAPI document ----------------------------------------------------------------------

ROUTES = {
    ("/api/v1/courses/{course_id}/enrolments", "post"): {"201", "403", "404", "409", "422"},
    ("/api/v1/courses/{course_id}/enrolments", "get"): {"200", "403", "404"},
    ("/api/v1/enrolments/{enrolment_id}", "delete"): {"200", "404", "422"},
    ("/api/v1/enrolments/{enrolment_id}/approve", "post"): {"200", "403", "404", "422"},
    ("/api/v1/enrolments/{enrolment_id}/reject", "post"): {"200", "403", "404", "422"},
    ("/api/v1/enrolments/{enrolment_id}/promote", "post"): {"200", "403", "404", "422"},
    ("/api/v1/me/enrolments", "get"): {"200"},
}


def test_every_enrolment_route_is_in_the_valid_openapi_document(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)

    registered = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api_enrolments."):
            path = rule.rule
            for argument in rule.arguments:
                path = path.replace(f"<int:{argument}>", f"{{{argument}}}")
            registered |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert registered == set(ROUTES)

    for (path, method), statuses in ROUTES.items():
        operation = spec["paths"][path][method]
        assert operation["security"] == [{"bearerAuth": []}], (path, method)
        documented = set(operation["responses"])
        success = min(documented)
        assert success in {"200", "201"}
        missing = statuses - documented
        assert not missing, (path, method, missing)

    schemas = spec["components"]["schemas"]
    enrol_op = spec["paths"]["/api/v1/courses/{course_id}/enrolments"]["post"]
    ref = enrol_op["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    assert set(schemas[ref.rsplit("/", 1)[-1]]["properties"]) >= ENROLMENT_KEYS
    body_ref = enrol_op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert "user_id" in schemas[body_ref.rsplit("/", 1)[-1]]["properties"]

    listing = spec["paths"]["/api/v1/me/enrolments"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert {"status", "page", "per_page"} <= names
    roster_op = spec["paths"]["/api/v1/courses/{course_id}/enrolments"]["get"]
    assert {"status", "q", "page", "per_page"} <= {p["name"] for p in roster_op["parameters"]}
    delete_op = spec["paths"]["/api/v1/enrolments/{enrolment_id}"]["delete"]
    assert "reason" in {p["name"] for p in delete_op["parameters"]}
