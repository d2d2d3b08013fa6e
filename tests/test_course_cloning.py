"""Cloning a course for a new run: ``courses.services.courses.cloning`` (SPEC §3 item 3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from courses.db import db
from courses.errors import PermissionDenied
from courses.models import Course, CourseSession, PublicationStatus
from courses.services import courses as service
from tests import course_setup
from tests.course_setup import T0, actions, count, fresh, refused
from tests.factories import make_course, make_enrolment, make_programme, make_trainer, make_user

# The trainer of the course-management tests.
trainer = course_setup.trainer


# --- cloning -------------------------------------------------------------------------------------


def test_cloning_makes_a_shifted_draft_with_trainers_prerequisites_and_sessions(trainer):
    basics = make_course("基础课", trainers=[trainer])
    programme = make_programme()
    course = make_course(
        "个案工作实务",
        trainers=[trainer],
        sessions=2,
        programme_id=programme.id,
        enrol_opens_at=T0 - timedelta(days=30),
        enrol_closes_at=T0 - timedelta(days=1),
    )
    course.prerequisites = [basics]
    make_enrolment(course, make_user())
    db.session.commit()

    copy = service.clone_course(trainer, course, shift_by=timedelta(days=364))
    db.session.commit()
    copy = fresh(copy)
    assert copy.id != course.id
    assert copy.status == PublicationStatus.DRAFT
    assert copy.cloned_from_id == course.id
    assert copy.seats_taken == 0
    assert copy.title == "个案工作实务"
    assert copy.programme_id == programme.id
    assert [t.id for t in copy.trainers] == [trainer.id]
    assert [p.id for p in copy.prerequisites] == [basics.id]
    assert [s.starts_at for s in copy.sessions] == [
        T0 + timedelta(days=364),
        T0 + timedelta(days=371),
    ]
    assert copy.enrol_closes_at == T0 + timedelta(days=363)
    assert service.course_class_hours(copy) == service.course_class_hours(course)
    # The original is untouched.
    assert [s.starts_at for s in fresh(course).sessions] == [T0, T0 + timedelta(days=7)]
    assert actions()[-1] == "course.clone"


def test_cloning_to_a_new_first_session_date(trainer):
    course = make_course(trainers=[trainer], sessions=3)
    new_start = datetime(2031, 9, 1, 1, 30, tzinfo=UTC)
    copy = service.clone_course(trainer, course, first_session_at=new_start, title="第二期")
    db.session.commit()
    copy = fresh(copy)
    assert copy.title == "第二期"
    assert [s.starts_at for s in copy.sessions] == [
        new_start,
        new_start + timedelta(weeks=1),
        new_start + timedelta(weeks=2),
    ]


def test_only_managers_clone(trainer):
    course = make_course(trainers=[make_trainer()], sessions=1)
    with pytest.raises(PermissionDenied):
        service.clone_course(trainer, course, shift_by=timedelta(days=7))
    db.session.rollback()
    assert count(Course) == 1


# --- the same rules for pages and API (issue 12 item 4) ------------------------------------------


def test_a_clone_moves_to_a_date_at_the_first_sessions_time_of_day(trainer):
    course = make_course(trainers=[trainer], sessions=2)  # Mondays 09:30 Shanghai
    copy = service.clone_course(trainer, course, first_session_on=datetime(2031, 3, 5).date())
    db.session.commit()
    assert [s.starts_at for s in fresh(copy).sessions] == [
        datetime(2031, 3, 5, 1, 30, tzinfo=UTC),
        datetime(2031, 3, 12, 1, 30, tzinfo=UTC),
    ]


@pytest.mark.parametrize(
    ("moves", "code"),
    [
        ({"shift_by": timedelta(days=7), "first_session_at": T0}, "conflicting_clone_dates"),
        (
            {"first_session_at": T0, "first_session_on": datetime(2031, 3, 5).date()},
            "conflicting_clone_dates",
        ),
        ({"first_session_on": datetime(9999, 12, 31).date()}, "date_out_of_range"),
        ({"shift_by": timedelta(days=3_000_000)}, "date_out_of_range"),
    ],
)
def test_clone_date_rules_refuse_and_copy_nothing(trainer, moves, code):
    course = make_course(trainers=[trainer], sessions=2)
    refused(code, service.clone_course, trainer, course, **moves)
    assert count(Course) == 1
    assert count(CourseSession) == 2


def test_a_clones_sessions_meet_the_rules_of_a_new_session(trainer):
    course = make_course(trainers=[trainer], sessions=1)
    course.sessions[0].venue = None  # an offline session without a venue: no longer accepted
    db.session.commit()
    refused("missing_location", service.clone_course, trainer, course, shift_by=timedelta(days=7))
    assert count(Course) == 1
