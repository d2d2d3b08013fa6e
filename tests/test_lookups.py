"""courses.services.lookups: one row by id or NotFound (permissions are checked
elsewhere), and the enrolling path's course without its trainers."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from courses.db import db
from courses.errors import NotFound
from courses.services import lookups
from tests.factories import make_course, make_enrolment, make_session, make_user


def test_each_lookup_answers_the_row_or_not_found(app_ctx):  # type: ignore[no-untyped-def]
    course = make_course()
    session = make_session(course)
    enrolment = make_enrolment(course, make_user())
    assert lookups.get_course(course.id) is course
    assert lookups.get_session(session.id) is session
    assert lookups.get_enrolment(enrolment.id) is enrolment
    for find in (lookups.get_course, lookups.get_session, lookups.get_enrolment):
        with pytest.raises(NotFound):
            find(987654)


def test_the_enrolling_path_leaves_the_trainers_unloaded(app_ctx):  # type: ignore[no-untyped-def]
    course_id = make_course().id
    db.session.expunge_all()
    course = lookups.get_course(course_id, with_trainers=False)
    assert "trainers" in inspect(course).unloaded
    db.session.expunge_all()
    assert "trainers" not in inspect(lookups.get_course(course_id)).unloaded
