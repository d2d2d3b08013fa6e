"""A course's roster (courses.services.rosters.course_roster) for its trainers and
admins, in a fixed number of statements."""

from __future__ import annotations

import pytest

from courses.errors import PermissionDenied
from courses.models import EnrolmentStatus
from courses.services import rosters
from tests.enrolment_steps import _course, _enrol
from tests.factories import make_trainer, make_user


def test_roster_lists_in_a_fixed_number_of_statements(app_ctx, count_queries):
    trainer = make_trainer()
    course = _course(capacity=3, trainers=[trainer])
    for _ in range(8):
        _enrol(make_user(), course)
    _ = (trainer.id, course.id)  # loaded before counting
    with count_queries() as statements:
        page = rosters.roster(trainer, course, per_page=50)
        _ = [(row.user.name, row.organisation_name, row.waitlist_rank) for row in page.items]
    assert len(statements) <= 3  # permission, total, rows
    assert page.total == 8
    assert [row.status for row in page.items].count(EnrolmentStatus.WAITLISTED) == 5
    assert [row.waitlist_rank for row in page.items][-5:] == [1, 2, 3, 4, 5]
    with pytest.raises(PermissionDenied):
        rosters.roster(make_trainer(), course)
