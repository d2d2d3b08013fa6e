"""Course editing: who may manage a course, and the course rules of
``courses.services.courses.editing`` and ``.relations`` (SPEC §3 item 3, issue 3 items 1–2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.errors import PermissionDenied
from courses.models import Course, CourseSession, PublicationStatus, course_prerequisites
from courses.services import courses as service
from tests import course_setup
from tests.course_setup import T0, actions, count, course_data, fresh, refused, session_data
from tests.factories import (
    make_admin,
    make_course,
    make_enrolment,
    make_programme,
    make_trainer,
    make_user,
)

# The trainer and their draft course, as every course-management test module has them.
trainer, draft = course_setup.trainer, course_setup.draft


# --- who may manage ------------------------------------------------------------------------------


def test_a_trainer_creates_a_draft_course_and_becomes_its_trainer(trainer):
    course = service.create_course(trainer, course_data())
    db.session.commit()
    course = fresh(course)
    assert course.status == PublicationStatus.DRAFT
    assert [t.id for t in course.trainers] == [trainer.id]
    assert course.created_by_id == trainer.id
    assert course.completion_threshold == pytest.approx(0.8)
    assert actions() == ["user.create", "course.create"]


def test_a_learner_cannot_create_a_course(app_ctx):
    learner = make_user()
    with pytest.raises(PermissionDenied):
        service.create_course(learner, course_data())
    db.session.rollback()
    assert count(Course) == 0


def test_a_trainer_cannot_edit_nor_add_sessions_to_another_trainers_course(trainer):
    other = make_course("别人的课程", trainers=[make_trainer()], status=PublicationStatus.DRAFT)
    with pytest.raises(PermissionDenied):
        service.update_course(trainer, other, {"title": "改名"})
    db.session.rollback()
    with pytest.raises(PermissionDenied):
        service.add_session(trainer, other, session_data())
    db.session.rollback()
    assert fresh(other).title == "别人的课程"
    assert count(CourseSession) == 0


def test_an_admin_manages_every_course_and_names_its_trainers(app_ctx):
    admin = make_admin()
    first, second = make_trainer(), make_trainer()
    course = service.create_course(admin, course_data(trainer_ids=[first.id, second.id]))
    db.session.commit()
    assert {t.id for t in fresh(course).trainers} == {first.id, second.id}
    service.update_course(admin, course, {"trainer_ids": [second.id], "title": "新标题"})
    db.session.commit()
    course = fresh(course)
    assert [t.id for t in course.trainers] == [second.id]
    assert course.title == "新标题"


def test_a_trainer_cannot_choose_trainers(trainer, draft):
    """Issue 12 item 4: only admins choose trainers, whichever caller the change comes from."""
    colleague, outsider = make_trainer(), make_trainer()
    draft.trainers = [trainer, colleague]
    db.session.commit()
    for wanted in ([outsider.id], [trainer.id, colleague.id, outsider.id], [trainer.id], []):
        with pytest.raises(PermissionDenied) as caught:
            service.update_course(trainer, draft, {"trainer_ids": wanted, "title": "改名"})
        db.session.rollback()
        assert caught.value.code == "trainer_choice_not_allowed", wanted
        course = fresh(draft)
        assert {t.id for t in course.trainers} == {trainer.id, colleague.id}
        assert course.title == "草稿课程"
    with pytest.raises(PermissionDenied) as caught:
        service.create_course(trainer, course_data(trainer_ids=[outsider.id]))
    db.session.rollback()
    assert caught.value.code == "trainer_choice_not_allowed"
    assert count(Course) == 1


def test_a_trainer_may_send_back_the_trainers_the_course_has(trainer, draft):
    """A client that returns the course as it read it (``trainer_ids`` included) is not
    refused: nothing is chosen."""
    colleague = make_trainer()
    draft.trainers = [trainer, colleague]
    db.session.commit()
    service.update_course(
        trainer, draft, {"trainer_ids": [colleague.id, trainer.id], "title": "新"}
    )
    service.update_course(trainer, draft, {"trainer_ids": [colleague.id]})  # self is kept
    created = service.create_course(trainer, course_data(trainer_ids=[trainer.id]))
    db.session.commit()
    assert {t.id for t in fresh(draft).trainers} == {trainer.id, colleague.id}
    assert fresh(draft).title == "新"
    assert [t.id for t in fresh(created).trainers] == [trainer.id]


# --- course rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"capacity": 0}, "invalid_capacity", "capacity"),
        ({"capacity": -5}, "invalid_capacity", "capacity"),
        (
            {"enrol_opens_at": T0, "enrol_closes_at": T0 - timedelta(days=1)},
            "enrol_window_order",
            "enrol_closes_at",
        ),
        ({"enrol_opens_at": T0, "enrol_closes_at": T0}, "enrol_window_order", "enrol_closes_at"),
        ({"completion_threshold": 0}, "invalid_threshold", "completion_threshold"),
        ({"completion_threshold": 1.2}, "invalid_threshold", "completion_threshold"),
        ({"completion_threshold": -0.5}, "invalid_threshold", "completion_threshold"),
        ({"programme_id": 999_999}, "invalid_programme", "programme_id"),
        ({"prerequisite_ids": [999_999]}, "invalid_prerequisite", "prerequisite_ids"),
        ({"title": "  "}, "required", "title"),
        ({"level": "expert"}, "invalid_choice", "level"),
        ({"status": PublicationStatus.PUBLISHED}, "no_sessions", "status"),
    ],
)
def test_each_course_rule_refuses_a_new_course_and_saves_nothing(trainer, changes, code, field):
    error = refused(code, service.create_course, trainer, course_data(**changes))
    assert field in error.fields
    assert count(Course) == 0
    assert "course.create" not in actions()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"capacity": 0}, "invalid_capacity"),
        ({"enrol_opens_at": T0, "enrol_closes_at": T0 - timedelta(hours=1)}, "enrol_window_order"),
        ({"completion_threshold": 1.01}, "invalid_threshold"),
        ({"programme_id": 999_999}, "invalid_programme"),
        ({"status": "published"}, "no_sessions"),
    ],
)
def test_each_course_rule_refuses_an_edit_and_changes_nothing(trainer, draft, changes, code):
    refused(code, service.update_course, trainer, draft, {"title": "不该保存", **changes})
    course = fresh(draft)
    assert course.title == "草稿课程"
    assert course.status == PublicationStatus.DRAFT
    assert course.capacity == 30
    assert "course.update" not in actions()


def test_a_learner_is_not_a_trainer(trainer):
    learner = make_user()
    error = refused(
        "invalid_trainer",
        service.create_course,
        make_admin(),
        course_data(trainer_ids=[trainer.id, learner.id]),
    )
    assert "trainer_ids" in error.fields
    refused(
        "invalid_trainer", service.create_course, make_admin(), course_data(trainer_ids=[999_999])
    )
    assert count(Course) == 0


def test_several_broken_rules_are_reported_together(trainer):
    error = refused(
        "invalid_capacity",
        service.create_course,
        trainer,
        course_data(capacity=0, completion_threshold=2, enrol_opens_at=T0, enrol_closes_at=T0),
    )
    assert set(error.fields) == {"capacity", "completion_threshold", "enrol_closes_at"}


def test_capacity_cannot_drop_below_the_seats_taken(trainer, draft):
    for _n in range(3):
        make_enrolment(draft, make_user())
    refused("capacity_below_enrolled", service.update_course, trainer, draft, {"capacity": 2})
    assert fresh(draft).capacity == 30
    service.update_course(trainer, draft, {"capacity": 3})
    db.session.commit()
    assert fresh(draft).capacity == 3


def test_a_course_cannot_be_its_own_prerequisite(trainer, draft):
    refused(
        "prerequisite_cycle",
        service.update_course,
        trainer,
        draft,
        {"prerequisite_ids": [draft.id]},
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(course_prerequisites)) == 0


def test_a_prerequisite_cycle_through_several_courses_is_refused(trainer):
    a, b, c, d = (
        make_course(name, trainers=[trainer], status=PublicationStatus.DRAFT)
        for name in ("甲", "乙", "丙", "丁")
    )
    # a needs b, b needs c, c needs d: d may not need a (nor b, nor c).
    service.update_course(trainer, a, {"prerequisite_ids": [b.id]})
    service.update_course(trainer, b, {"prerequisite_ids": [c.id]})
    service.update_course(trainer, c, {"prerequisite_ids": [d.id]})
    db.session.commit()
    for target in (a, b, c):
        refused(
            "prerequisite_cycle",
            service.update_course,
            trainer,
            d,
            {"prerequisite_ids": [target.id]},
        )
    assert fresh(d).prerequisites == []
    # A diamond is not a cycle: a may also need c and d directly.
    service.update_course(trainer, a, {"prerequisite_ids": [b.id, c.id, d.id]})
    db.session.commit()
    assert {p.id for p in fresh(a).prerequisites} == {b.id, c.id, d.id}


def test_publishing_needs_a_session_then_archiving_works(trainer, draft):
    refused("no_sessions", service.set_status, trainer, draft, PublicationStatus.PUBLISHED)
    assert fresh(draft).status == PublicationStatus.DRAFT
    service.add_session(trainer, draft, session_data())
    service.set_status(trainer, draft, PublicationStatus.PUBLISHED)
    db.session.commit()
    assert fresh(draft).status == PublicationStatus.PUBLISHED
    service.set_status(trainer, draft, "archived")
    db.session.commit()
    assert fresh(draft).status == PublicationStatus.ARCHIVED
    assert actions()[-3:] == ["session.create", "course.publish", "course.archive"]


def test_a_course_joins_a_programme_its_trainer_manages(trainer, draft):
    programme = make_programme(created_by_id=trainer.id)
    service.update_course(trainer, draft, {"programme_id": programme.id})
    db.session.commit()
    assert fresh(draft).programme_id == programme.id


# --- the same rules for pages and API (issue 12 item 4) ------------------------------------------


def test_no_course_joins_an_archived_programme(trainer, draft):
    archived = make_programme(created_by_id=trainer.id, status=PublicationStatus.ARCHIVED)
    refused(
        "invalid_programme", service.update_course, trainer, draft, {"programme_id": archived.id}
    )
    refused(
        "invalid_programme",
        service.update_course,
        make_admin(),
        draft,
        {"programme_id": archived.id},
    )
    refused(
        "invalid_programme", service.create_course, trainer, course_data(programme_id=archived.id)
    )
    assert fresh(draft).programme_id is None
    # A course already in it stays there through other edits.
    inside = make_course(trainers=[trainer], programme_id=archived.id)
    service.update_course(trainer, inside, {"title": "改名", "programme_id": archived.id})
    db.session.commit()
    assert fresh(inside).programme_id == archived.id


def test_programme_choices_are_what_the_service_accepts(trainer, draft):
    from courses.services import programmes

    mine = make_programme("我的计划", created_by_id=trainer.id, status=PublicationStatus.DRAFT)
    make_programme("已归档", created_by_id=trainer.id, status=PublicationStatus.ARCHIVED)
    theirs = make_programme("别人的计划", created_by_id=make_trainer().id)
    assert [p.id for p in programmes.programme_choices(trainer)] == [mine.id]
    inside = make_course(trainers=[trainer], programme_id=theirs.id)
    assert {p.id for p in programmes.programme_choices(trainer, inside)} == {mine.id, theirs.id}
    assert {p.id for p in programmes.programme_choices(make_admin())} == {mine.id, theirs.id}
