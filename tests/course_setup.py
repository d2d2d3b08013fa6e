"""What the course-management tests share: the data of a valid course and session, the
refusal and audit helpers, and the fixtures of a trainer and their draft course (a test
module binds them by name: ``trainer, draft = course_setup.trainer, course_setup.draft``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.errors import ValidationFailed
from courses.models import AuditLogEntry, CourseLevel, CourseMode, PublicationStatus, SessionMode
from tests.factories import make_course, make_trainer

T0 = datetime(2030, 3, 4, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai


def course_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "社区心理健康服务",
        "summary": "心理健康服务的基本方法",
        "topic": "心理健康",
        "level": CourseLevel.BEGINNER,
        "mode": CourseMode.OFFLINE,
        "capacity": 30,
    }
    data.update(overrides)
    return data


def session_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "starts_at": T0,
        "ends_at": T0 + timedelta(hours=2),
        "mode": SessionMode.OFFLINE,
        "venue": "桂城街道社会工作服务中心",
    }
    data.update(overrides)
    return data


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditLogEntry.action).order_by(AuditLogEntry.id)))


def refused(code: str, call, *args, **kwargs) -> ValidationFailed:  # type: ignore[no-untyped-def]
    """Run ``call``, expect the rule ``code`` to refuse it, and roll back as a request would."""
    with pytest.raises(ValidationFailed) as caught:
        call(*args, **kwargs)
    db.session.rollback()
    assert caught.value.code == code, (caught.value.code, caught.value.fields)
    assert caught.value.fields, "the message must name the field"
    return caught.value


def fresh(obj):  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


@pytest.fixture
def trainer(app_ctx):  # type: ignore[no-untyped-def]
    return make_trainer(name="王讲师")


@pytest.fixture
def draft(trainer):  # type: ignore[no-untyped-def]
    return make_course("草稿课程", trainers=[trainer], status=PublicationStatus.DRAFT)
