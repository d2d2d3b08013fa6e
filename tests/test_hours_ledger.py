"""The hours ledger (courses.services.hours.ledger): credited hours by year and
registration cycle across a year boundary (in Shanghai time), outside hours marked as
such, the requirement in force, a fixed number of statements, and who sees whose."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.errors import PermissionDenied
from courses.models import AttendanceStatus, AuditLogEntry, QualificationLevel
from courses.services import hours
from tests.factories import make_admin, make_user
from tests.hours_steps import (  # _keep_default_requirements: autouse
    TODAY,
    _keep_default_requirements,  # noqa: F401
    _learner,
    _social_worker,
    attend,
    course_with_sessions,
)


def test_the_ledger_sums_by_year_and_cycle_across_the_year_boundary(app_ctx):
    user = _social_worker(cycle_starts_on=date(2024, 1, 1))
    other = _social_worker()
    # 15:30 UTC on 31 Dec 2024 is 23:30 in Shanghai: still 2024.
    # 16:30 UTC on 31 Dec 2024 is 00:30 on 1 Jan 2025 in Shanghai: already 2025.
    eve, new_year = (
        datetime(2024, 12, 31, 15, 30, tzinfo=UTC),
        datetime(2024, 12, 31, 16, 30, tzinfo=UTC),
    )
    winter, (s_eve, s_new_year) = course_with_sessions("跨年夜课程", [eve, new_year])
    spring, (s_spring, s_absent) = course_with_sessions(
        "春季课程",
        [datetime(2025, 3, 3, 1, 0, tzinfo=UTC), datetime(2025, 3, 10, 1, 0, tzinfo=UTC)],
    )
    old, (s_old,) = course_with_sessions("上个周期", [datetime(2023, 11, 1, 1, 0, tzinfo=UTC)])
    attend(user, s_eve, 2.0)
    attend(user, s_new_year, 1.5, AttendanceStatus.LATE)
    attend(user, s_spring, 2.67)
    attend(user, s_absent, 0, AttendanceStatus.ABSENT)  # no credit: not listed
    attend(user, s_old, 3.0)
    attend(other, s_spring, 2.67)  # someone else's hours never count

    this_year = hours.ledger(user, 2025, today=TODAY)
    assert this_year.year == 2025
    assert this_year.year_hours == pytest.approx(4.17)
    assert [(c.title, c.hours) for c in this_year.courses] == [
        ("跨年夜课程", 1.5),
        ("春季课程", 2.67),
    ]
    winter_row = this_year.courses[0]
    assert [(s.session_id, s.credited_hours, s.status) for s in winter_row.sessions] == [
        (s_new_year.id, 1.5, AttendanceStatus.LATE)
    ]
    assert [s.session_id for s in this_year.courses[1].sessions] == [s_spring.id]
    assert this_year.courses[1].sessions[0].title == "春季课程第1讲"

    cycle = this_year.cycle
    assert (cycle.starts_on, cycle.ends_on) == (date(2024, 1, 1), date(2026, 12, 31))
    assert cycle.hours == pytest.approx(6.17)  # 2024's 2.0 + 2025's 4.17, not 2023's 3.0
    assert cycle.required_hours == 90
    assert cycle.progress == pytest.approx(6.17 / 90, abs=1e-4)
    assert cycle.remaining_hours == pytest.approx(83.83)

    last_year = hours.ledger(user, 2024, today=TODAY)
    assert last_year.year_hours == pytest.approx(2.0)
    assert [(c.course_id, c.hours) for c in last_year.courses] == [(winter.id, 2.0)]
    assert last_year.cycle == cycle  # the current cycle whatever year is shown

    assert hours.ledger(user, 2023, today=TODAY).year_hours == pytest.approx(3.0)
    assert spring.id and old.id


def test_outside_hours_count_and_are_marked_as_such(app_ctx):
    admin = make_admin()
    user = _learner(
        qualification_level=QualificationLevel.ASSISTANT, cycle_starts_on=date(2024, 1, 1)
    )
    _, (session,) = course_with_sessions("督导课程", [datetime(2025, 4, 1, 1, 0, tzinfo=UTC)])
    attend(user, session, 2.0)
    hours.add_external_hours(
        admin, user, " 省社工协会年会 ", "6.5", date(2025, 5, 10), "凭参会证明", today=TODAY
    )
    hours.add_external_hours(admin, user, "区级督导培训", 70, date(2023, 12, 31), "", today=TODAY)
    db.session.commit()

    ledger = hours.ledger(user, 2025, today=TODAY)
    assert ledger.year_hours == pytest.approx(8.5)
    assert ledger.year_academy_hours == pytest.approx(2.0)
    assert ledger.year_external_hours == pytest.approx(6.5)
    assert [(e.title, e.hours, e.earned_on, e.note, e.external) for e in ledger.external] == [
        ("省社工协会年会", 6.5, date(2025, 5, 10), "凭参会证明", True)
    ]
    assert [c.title for c in ledger.courses] == ["督导课程"]  # outside hours are not courses
    assert ledger.cycle.hours == pytest.approx(8.5)  # 2023's 70 hours are in the last cycle
    assert ledger.cycle.external_hours == pytest.approx(6.5)
    assert ledger.cycle.required_hours == 72

    hours.add_external_hours(admin, user, "专题研修", 100, date(2024, 2, 1), "", today=TODAY)
    capped = hours.ledger(user, 2025, today=TODAY).cycle
    assert capped.hours == pytest.approx(108.5)
    assert capped.progress == 1.0
    assert capped.remaining_hours == 0


def test_the_ledger_uses_the_requirement_an_admin_sets(app_ctx):
    admin = make_admin()
    user = _social_worker(cycle_starts_on=date(2024, 1, 1))
    _, (session,) = course_with_sessions("伦理课程", [datetime(2025, 2, 1, 1, 0, tzinfo=UTC)])
    attend(user, session, 10.0)
    assert hours.ledger(user, today=TODAY).cycle.required_hours == 90

    hours.set_requirement(admin, "social_worker", "40", 2)
    db.session.commit()
    ledger = hours.ledger(user, today=TODAY)
    assert ledger.requirement.required_hours == 40 and ledger.requirement.cycle_years == 2
    assert (ledger.cycle.starts_on, ledger.cycle.ends_on) == (date(2024, 1, 1), date(2025, 12, 31))
    assert ledger.cycle.progress == pytest.approx(0.25)
    assert ledger.cycle.remaining_hours == pytest.approx(30)
    entry = db.session.scalars(
        sa.select(AuditLogEntry).where(AuditLogEntry.action == "qualification_requirement.changed")
    ).one()
    assert entry.actor_id == admin.id
    assert entry.data["before"] == {"required_hours": 90, "cycle_years": 3}
    assert entry.data["after"] == {"required_hours": 40, "cycle_years": 2}
    # Other levels keep theirs.
    assert {r.level: r.required_hours for r in hours.requirements()} == {
        QualificationLevel.ASSISTANT: 72,
        QualificationLevel.SOCIAL_WORKER: 40,
        QualificationLevel.SENIOR: 90,
    }


def test_learners_without_a_qualification_have_no_requirement(app_ctx):
    user = make_user()
    _, (session,) = course_with_sessions("志愿者课程", [datetime(2025, 2, 1, 1, 0, tzinfo=UTC)])
    attend(user, session, 2.0)
    ledger = hours.ledger(user, today=TODAY)
    assert ledger.requirement is None and ledger.cycle is None
    assert ledger.year == 2025 and ledger.year_hours == 2.0


def test_the_ledger_takes_the_same_statements_for_one_course_or_many(app_ctx, count_queries):
    user = _social_worker(cycle_starts_on=date(2024, 1, 1))
    counts = []
    for number in range(1, 6):
        _, (first, second) = course_with_sessions(
            f"课程{number}",
            [
                datetime(2025, 1, number, 1, 0, tzinfo=UTC),
                datetime(2025, 2, number, 1, 0, tzinfo=UTC),
            ],
        )
        attend(user, first, 2.0)
        attend(user, second, 1.0)
        hours.add_external_hours(
            make_admin(), user, f"院外{number}", 1, date(2025, 3, number), "", today=TODAY
        )
        db.session.commit()
        _ = user.qualification_level
        with count_queries() as statements:
            ledger = hours.ledger(user, 2025, today=TODAY)
        counts.append(len(statements))
        assert len(ledger.courses) == number
        assert ledger.year_hours == pytest.approx(4.0 * number)
    assert len(set(counts)) == 1 and counts[0] <= 5


def test_a_learner_sees_only_their_own_ledger(app_ctx):
    learner, other = make_user(), make_user()
    with pytest.raises(PermissionDenied):
        hours.ledger_for(learner, other)
    assert hours.ledger_for(learner, learner).user_id == learner.id
    assert hours.ledger_for(make_admin(), other).user_id == other.id
