"""Who may manage what: one place for the ownership rules pages and API share."""

from __future__ import annotations

import sqlalchemy as sa

from courses.db import db
from courses.errors import PermissionDenied
from courses.models import Course, Programme, Role, User, course_trainers


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
