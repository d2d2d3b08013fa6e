"""Finding one row by id, or ``NotFound``: the course, session and enrolment look-ups
every service, page and API handler shares (permissions are not checked here; see
``courses.services.permissions``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import lazyload

from courses.db import db
from courses.errors import NotFound
from courses.models import Course, CourseSession, Enrolment


def get_course(course_id: int, *, with_trainers: bool = True) -> Course:
    """The course; ``with_trainers=False`` leaves its trainers unloaded (enrolling, the
    hottest path, never needs them)."""
    options = () if with_trainers else (lazyload(Course.trainers),)
    course = db.session.get(Course, course_id, options=options)
    if course is None:
        raise NotFound(_l("No such course."))
    return course


def get_session(session_id: int) -> CourseSession:
    session = db.session.get(CourseSession, session_id)
    if session is None:
        raise NotFound(_l("No such session."))
    return session


def get_enrolment(enrolment_id: int) -> Enrolment:
    enrolment = db.session.get(Enrolment, enrolment_id)
    if enrolment is None:
        raise NotFound()
    return enrolment
