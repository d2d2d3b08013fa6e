"""What the hours tests share: the default requirements put back after each test (an
autouse fixture: import it into every hours test module), credited attendance, courses
with sessions, and learners with a cycle start and a qualification."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.models import (
    AttendanceMethod,
    AttendanceRecord,
    AttendanceStatus,
    QualificationLevel,
    QualificationRequirement,
)
from tests.factories import make_course, make_session, make_user

TODAY = date(2025, 6, 1)


@pytest.fixture(autouse=True)
def _keep_default_requirements(app) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The requirements table survives between tests (it holds seeded defaults): put
    the defaults back after each test."""
    yield
    with app.app_context():
        db.session.remove()
        db.session.execute(sa.delete(QualificationRequirement))
        db.session.execute(
            sa.insert(QualificationRequirement),
            [
                {"level": QualificationLevel.ASSISTANT, "required_hours": 72, "cycle_years": 3},
                {"level": QualificationLevel.SOCIAL_WORKER, "required_hours": 90, "cycle_years": 3},
                {"level": QualificationLevel.SENIOR, "required_hours": 90, "cycle_years": 3},
            ],
        )
        db.session.commit()


def attend(user, session, credited: float, status=AttendanceStatus.PRESENT):  # type: ignore[no-untyped-def]
    record = AttendanceRecord(
        session_id=session.id,
        user_id=user.id,
        status=status,
        method=AttendanceMethod.ROLL_CALL,
        minutes=int(credited * 45),
        credited_hours=credited,
    )
    db.session.add(record)
    db.session.commit()
    return record


def course_with_sessions(title: str, starts: list[datetime]):  # type: ignore[no-untyped-def]
    course = make_course(title)
    sessions = [
        make_session(course, starts_at=start, title=f"{title}第{n}讲")
        for n, start in enumerate(starts, start=1)
    ]
    return course, sessions


def _learner(cycle_starts_on: date | None = None, **kwargs):  # type: ignore[no-untyped-def]
    user = make_user(**kwargs)
    if cycle_starts_on is not None:
        user.cycle_starts_on = cycle_starts_on
        db.session.commit()
    return user


def _social_worker(**kwargs):  # type: ignore[no-untyped-def]
    kwargs.setdefault("qualification_level", QualificationLevel.SOCIAL_WORKER)
    return _learner(**kwargs)
