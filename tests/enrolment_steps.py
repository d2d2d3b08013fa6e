"""What the enrolment tests share: a course with sessions, enrolling and committing at a
fixed moment, and reading back the seats and the waitlist places."""

from __future__ import annotations

from datetime import UTC, datetime

from courses.db import db
from courses.models import Course, EnrolmentStatus
from courses.services import enrolments, rosters
from tests.factories import make_admin, make_course

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
