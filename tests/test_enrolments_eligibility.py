"""Who may enrol (courses.services.enrolments.eligibility): one active enrolment, the
window, the course's state and the prerequisites."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.errors import Conflict, NotFound, ValidationFailed
from courses.models import Enrolment, EnrolmentStatus, PublicationStatus
from courses.services import enrolments
from tests.enrolment_steps import NOW, _course, _enrol, _seats
from tests.factories import make_enrolment, make_user


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
