"""Who may manage what: one place for the ownership rules pages and API share."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.db import db
from courses.errors import NotFound, PermissionDenied
from courses.models import (
    AttendanceImport,
    Course,
    CourseMaterial,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    Programme,
    PublicationStatus,
    Role,
    User,
    course_trainers,
)

#: Learners with an enrolment in one of these states still see an archived course.
ARCHIVE_VIEWER_STATUSES = (EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED)
#: Learners with a seat (an enrolment in one of these states) see how to join online.
MEETING_VIEWER_STATUSES = (
    EnrolmentStatus.ENROLLED,
    EnrolmentStatus.COMPLETED,
    EnrolmentStatus.INCOMPLETE,
)


def can_create_courses(user: User | None) -> bool:
    return user is not None and user.is_authenticated and user.has_role(Role.TRAINER, Role.ADMIN)


def can_manage_course(user: User | None, course: Course) -> bool:
    """Admins manage every course; trainers only the courses they teach."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_admin:
        return True
    if not user.is_trainer:
        return False
    return (
        db.session.scalar(
            sa.select(course_trainers.c.course_id).where(
                course_trainers.c.course_id == course.id, course_trainers.c.user_id == user.id
            )
        )
        is not None
    )


def require_course_manager(user: User | None, course: Course) -> None:
    if not can_manage_course(user, course):
        raise PermissionDenied()


def can_choose_trainers(user: User | None) -> bool:
    """Only admins name a course's trainers; a trainer teaches what they create or edit."""
    return user is not None and user.is_authenticated and user.is_admin


def can_view_course(viewer: User | None, course: Course) -> bool:
    """Who sees a course's page, its sessions and materials (pages and API alike):

    published — everyone; draft — its trainers and admins only; archived — its trainers,
    admins and the learners who were enrolled in it (or completed it).
    """
    if course.status == PublicationStatus.PUBLISHED:
        return True
    if can_manage_course(viewer, course):
        return True
    if course.status != PublicationStatus.ARCHIVED or viewer is None:
        return False
    if not viewer.is_authenticated:
        return False
    return has_enrolment(viewer, course, ARCHIVE_VIEWER_STATUSES)


def can_see_meeting(viewer: User | None, course: Course) -> bool:
    """Who sees the online meeting's link and number (pages, API and calendar feeds):
    the course's trainers, admins and learners with a seat in it, never a visitor or a
    learner still waiting; a public link would let anyone join the meeting."""
    if viewer is None or not viewer.is_authenticated:
        return False
    if can_manage_course(viewer, course):
        return True
    return has_enrolment(viewer, course, MEETING_VIEWER_STATUSES)


def has_enrolment(viewer: User, course: Course, statuses: tuple[EnrolmentStatus, ...]) -> bool:
    """Whether ``viewer`` has an enrolment in ``course`` in one of ``statuses``."""
    found = db.session.scalar(
        sa.select(Enrolment.id)
        .where(
            Enrolment.course_id == course.id,
            Enrolment.user_id == viewer.id,
            Enrolment.status.in_(statuses),
        )
        .limit(1)
    )
    return found is not None


def require_course_visible(viewer: User | None, course: Course) -> None:
    """``NotFound`` (as for an unknown id) unless ``viewer`` may see the course."""
    if not can_view_course(viewer, course):
        raise NotFound()


def require_course_creator(user: User | None) -> None:
    if not can_create_courses(user):
        raise PermissionDenied()


def require_admin(user: User | None) -> None:
    if user is None or not user.is_authenticated or not user.is_admin:
        raise PermissionDenied()


def can_manage_programme(user: User | None, programme: Programme) -> bool:
    """Admins manage every programme; a trainer the programmes they built."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_admin:
        return True
    return user.is_trainer and programme.created_by_id == user.id


def require_programme_manager(user: User | None, programme: Programme) -> None:
    if not can_manage_programme(user, programme):
        raise PermissionDenied()


# ---- ownership lookups: the object a route names, if the user manages it ---------------------
#
# One lookup per kind of object. A route that manages something declares it
# (``academy.access``); the lookup runs before the request's body is read: 404 for an
# unknown id, 403 for someone who does not manage it.


def _get(model: type, object_id: int, message: str) -> Any:
    found = db.session.get(model, object_id)
    if found is None:
        raise NotFound(message)
    return found


def managed_course(user: User | None, course_id: int) -> Course:
    course = _get(Course, course_id, _l("No such course."))
    require_course_manager(user, course)
    return course


def managed_session(user: User | None, session_id: int) -> CourseSession:
    session = _get(CourseSession, session_id, _l("No such session."))
    require_course_manager(user, session.course)
    return session


def managed_programme(user: User | None, programme_id: int) -> Programme:
    programme = _get(Programme, programme_id, _l("No such programme."))
    require_programme_manager(user, programme)
    return programme


def managed_enrolment(user: User | None, enrolment_id: int) -> Enrolment:
    enrolment = _get(Enrolment, enrolment_id, _l("No such enrolment."))
    require_course_manager(user, enrolment.course)
    return enrolment


def managed_import(user: User | None, import_id: int) -> AttendanceImport:
    report_import = _get(AttendanceImport, import_id, _l("No such attendance report."))
    require_course_manager(user, report_import.session.course)
    return report_import


def managed_material(user: User | None, material_id: int) -> CourseMaterial:
    material = _get(CourseMaterial, material_id, _l("No such material."))
    managed_course(user, material.course_id)
    return material
