"""What admins keep (courses.services.hours.admin): outside hours and requirements,
checked, audited and refused to anyone else."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.errors import PermissionDenied, ValidationFailed
from courses.models import AuditLogEntry, ExternalHoursRecord, QualificationLevel
from courses.services import hours
from tests.factories import make_admin, make_user
from tests.hours_steps import (  # _keep_default_requirements: autouse
    TODAY,
    _keep_default_requirements,  # noqa: F401
)


@pytest.mark.parametrize(
    ("title", "amount", "earned_on", "code"),
    [
        ("  ", 2, date(2025, 1, 1), "title_required"),
        ("研修", 0, date(2025, 1, 1), "invalid_hours"),
        ("研修", -1, date(2025, 1, 1), "invalid_hours"),
        ("研修", "200.01", date(2025, 1, 1), "invalid_hours"),
        ("研修", "1.234", date(2025, 1, 1), "invalid_hours"),
        ("研修", "abc", date(2025, 1, 1), "invalid_hours"),
        ("研修", 2, date(2025, 6, 2), "invalid_date"),
        ("研修", 2, None, "invalid_date"),
    ],
)
def test_outside_hours_are_checked(app_ctx, title, amount, earned_on, code):
    user = make_user()
    with pytest.raises(ValidationFailed) as caught:
        hours.add_external_hours(make_admin(), user, title, amount, earned_on, "", today=TODAY)
    assert caught.value.code == code
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(ExternalHoursRecord.id))) == 0


def test_only_admins_add_and_delete_outside_hours_and_both_are_audited(app_ctx):
    admin = make_admin()
    user = make_user()
    with pytest.raises(PermissionDenied):
        hours.add_external_hours(user, user, "自学", 5, date(2025, 1, 1), "", today=TODAY)
    db.session.rollback()
    record = hours.add_external_hours(
        admin, user, "研修", 200, date(2025, 1, 1), "备注", today=TODAY
    )
    db.session.commit()
    with pytest.raises(PermissionDenied):
        hours.delete_external_hours(user, record)
    db.session.rollback()
    hours.delete_external_hours(admin, record)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(ExternalHoursRecord.id))) == 0
    entries = db.session.execute(
        sa.select(AuditLogEntry.action, AuditLogEntry.actor_id, AuditLogEntry.data)
        .where(AuditLogEntry.action.like("external_hours.%"))
        .order_by(AuditLogEntry.id)
    ).all()
    assert [(a, actor) for a, actor, _ in entries] == [
        ("external_hours.added", admin.id),
        ("external_hours.deleted", admin.id),
    ]
    assert entries[1][2]["title"] == "研修" and entries[1][2]["user_id"] == user.id


@pytest.mark.parametrize(
    ("level", "required", "years", "code"),
    [
        ("none", 10, 3, "invalid_level"),
        ("wizard", 10, 3, "invalid_level"),
        ("social_worker", -1, 3, "invalid_required_hours"),
        ("social_worker", 1001, 3, "invalid_required_hours"),
        ("social_worker", 90, 0, "invalid_cycle_years"),
        ("social_worker", 90, 11, "invalid_cycle_years"),
        ("social_worker", 90, "3", "invalid_cycle_years"),
    ],
)
def test_requirements_are_checked(app_ctx, level, required, years, code):
    with pytest.raises(ValidationFailed) as caught:
        hours.set_requirement(make_admin(), level, required, years)
    assert caught.value.code == code


def test_only_admins_change_requirements(app_ctx):
    with pytest.raises(PermissionDenied):
        hours.set_requirement(make_user(), "social_worker", 10, 1)
    db.session.rollback()
    assert hours.requirement_for(QualificationLevel.SOCIAL_WORKER).required_hours == 90
