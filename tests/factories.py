"""Factory functions with sensible defaults: ``make_user(roles=["trainer"])``.

Each flushes and commits so that the row is visible to the test client's requests.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from courses.db import db
from courses.models import (
    Course,
    CourseLevel,
    CourseMode,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    Organisation,
    Programme,
    PublicationStatus,
    Role,
    SessionMode,
    User,
)
from courses.services import accounts, tokens

DEFAULT_PASSWORD = "correct-horse-9"
_counter = itertools.count(1)


def make_organisation(name: str | None = None, **kwargs: Any) -> Organisation:
    organisation = Organisation(name=name or f"测试机构{next(_counter)}", **kwargs)
    db.session.add(organisation)
    db.session.commit()
    return organisation


def make_user(
    name: str | None = None,
    *,
    roles: tuple[Role | str, ...] | list[Role | str] = (Role.LEARNER,),
    email: str | None = None,
    phone: str | None = None,
    password: str = DEFAULT_PASSWORD,
    organisation: Organisation | None = None,
    **kwargs: Any,
) -> User:
    n = next(_counter)
    if email is None and phone is None:
        email = f"user{n}@example.org"
        phone = f"139{n:08d}"
    user = accounts.create_user(
        accounts.NewUser(
            name=name or f"学员{n}",
            password=password,
            email=email,
            phone=phone,
            organisation_id=organisation.id if organisation else None,
            roles=roles,
            **kwargs,
        )
    )
    db.session.commit()
    return user


def make_admin(**kwargs: Any) -> User:
    return make_user(roles=(Role.ADMIN,), **kwargs)


def make_trainer(**kwargs: Any) -> User:
    return make_user(roles=(Role.TRAINER,), **kwargs)


def make_token(user: User) -> str:
    secret, _token = tokens.issue(user)
    db.session.commit()
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def make_programme(title: str | None = None, **kwargs: Any) -> Programme:
    kwargs.setdefault("status", PublicationStatus.PUBLISHED)
    programme = Programme(title=title or f"培育计划{next(_counter)}", **kwargs)
    db.session.add(programme)
    db.session.commit()
    return programme


def make_course(
    title: str | None = None,
    *,
    trainers: list[User] | tuple[User, ...] = (),
    sessions: int = 0,
    first_session_at: datetime | None = None,
    **kwargs: Any,
) -> Course:
    """A published course (by default) with ``sessions`` weekly 2-hour offline sessions."""
    kwargs.setdefault("topic", "社区治理")
    kwargs.setdefault("level", CourseLevel.BEGINNER)
    kwargs.setdefault("mode", CourseMode.OFFLINE)
    kwargs.setdefault("capacity", 30)
    kwargs.setdefault("status", PublicationStatus.PUBLISHED)
    course = Course(title=title or f"课程{next(_counter)}", **kwargs)
    course.trainers = list(trainers)
    db.session.add(course)
    db.session.flush()
    start = first_session_at or datetime(2030, 3, 4, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
    for number in range(sessions):
        make_session(course, starts_at=start + timedelta(weeks=number), commit=False)
    db.session.commit()
    return course


def make_session(
    course: Course,
    *,
    starts_at: datetime | None = None,
    duration: timedelta = timedelta(hours=2),
    commit: bool = True,
    **kwargs: Any,
) -> CourseSession:
    starts_at = starts_at or datetime(2030, 3, 4, 1, 30, tzinfo=UTC)
    kwargs.setdefault("mode", SessionMode.OFFLINE)
    kwargs.setdefault("class_hours", round(duration.total_seconds() / 60 / 45, 2))
    kwargs.setdefault("venue", "桂城街道社会工作服务中心")
    session = CourseSession(
        course_id=course.id, starts_at=starts_at, ends_at=starts_at + duration, **kwargs
    )
    db.session.add(session)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return session


def make_enrolment(
    course: Course, user: User, status: EnrolmentStatus = EnrolmentStatus.ENROLLED, **kwargs: Any
) -> Enrolment:
    """An enrolment written directly (no capacity rules): for setting up other tests."""
    enrolment = Enrolment(course_id=course.id, user_id=user.id, status=status, **kwargs)
    db.session.add(enrolment)
    if status in (EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED, EnrolmentStatus.INCOMPLETE):
        course.seats_taken += 1
    db.session.commit()
    return enrolment
