"""The hours ledger (课时台账): credited hours by year and registration cycle across a
year boundary (in Shanghai time), outside hours marked as such, requirements that
admins change, and the pages of learners and admins."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.errors import PermissionDenied, ValidationFailed
from courses.models import (
    AttendanceMethod,
    AttendanceRecord,
    AttendanceStatus,
    AuditLogEntry,
    ExternalHoursRecord,
    QualificationLevel,
    QualificationRequirement,
)
from courses.services import hours
from courses.services.hours import current_cycle
from tests.factories import (
    make_admin,
    make_course,
    make_session,
    make_user,
)

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


# ---- the cycle rule -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("anchor", "years", "today", "expected"),
    [
        (date(2024, 1, 1), 3, date(2025, 6, 1), (date(2024, 1, 1), date(2027, 1, 1))),
        (date(2024, 1, 1), 3, date(2027, 1, 1), (date(2027, 1, 1), date(2030, 1, 1))),
        (date(2024, 1, 1), 3, date(2026, 12, 31), (date(2024, 1, 1), date(2027, 1, 1))),
        (date(2024, 7, 1), 3, date(2024, 6, 30), (date(2021, 7, 1), date(2024, 7, 1))),
        (date(2020, 2, 29), 3, date(2023, 3, 1), (date(2023, 2, 28), date(2026, 2, 28))),
        (date(2019, 9, 1), 2, date(2025, 8, 31), (date(2023, 9, 1), date(2025, 9, 1))),
    ],
)
def test_the_current_cycle_contains_today(anchor, years, today, expected):
    assert current_cycle(anchor, years, today) == expected


def test_without_a_cycle_start_cycles_align_to_the_year_the_account_was_made(app_ctx):
    user = _social_worker()
    user.created_at = datetime(2022, 5, 20, 3, 0, tzinfo=UTC)
    db.session.commit()
    ledger = hours.ledger(user, today=TODAY)
    assert (ledger.cycle.starts_on, ledger.cycle.ends_on) == (date(2025, 1, 1), date(2027, 12, 31))
    # An account made at 23:30 on 31 December 2021 in Shanghai (15:30 UTC) counts as 2021.
    user.created_at = datetime(2021, 12, 31, 15, 30, tzinfo=UTC)
    db.session.commit()
    assert hours.ledger(user, today=TODAY).cycle.starts_on == date(2024, 1, 1)


# ---- the ledger -----------------------------------------------------------------------------


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


# ---- outside hours and requirements: rules ----------------------------------------------------


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


def test_a_learner_sees_only_their_own_ledger(app_ctx):
    learner, other = make_user(), make_user()
    with pytest.raises(PermissionDenied):
        hours.ledger_for(learner, other)
    assert hours.ledger_for(learner, learner).user_id == learner.id
    assert hours.ledger_for(make_admin(), other).user_id == other.id


# ---- the pages ------------------------------------------------------------------------------


def _html(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _this_year() -> int:
    return hours.local_today().year


def test_my_hours_page_shows_courses_sessions_and_outside_hours(app_ctx, login_as):
    year = _this_year()
    learner = _social_worker(cycle_starts_on=date(year, 1, 1))
    course, (session,) = course_with_sessions("社区营造", [datetime(year, 1, 10, 1, 0, tzinfo=UTC)])
    attend(learner, session, 2.67)
    hours.add_external_hours(make_admin(), learner, "市级继续教育", 6, date(year, 1, 1), "凭证书")
    db.session.commit()
    html = _html(login_as(learner).get("/me/hours"))
    assert 'href="/me/hours"' in html and 'aria-current="page">' in html  # nav link
    assert "社区营造" in html and f'id="session-{session.id}"' in html and "2.67" in html
    assert "<details>" in html  # sessions collapsed under their course
    external = html[html.index('data-kind="external"') :]
    assert "市级继续教育" in external and "凭证书" in external
    assert '<progress class="hours-progress" id="cycle-progress" max="100" value="9.6"' in html
    assert f"{year}-01-01" in html and f"{year + 2}-12-31" in html  # the cycle's dates
    assert f'href="/me/hours?year={year}"' in html
    assert course.id


def test_my_hours_page_picks_a_year(app_ctx, login_as):
    year = _this_year()
    learner = make_user()
    _, (old, new) = course_with_sessions(
        "两年课程",
        [datetime(year - 1, 5, 1, 1, 0, tzinfo=UTC), datetime(year, 1, 5, 1, 0, tzinfo=UTC)],
    )
    attend(learner, old, 1.25)
    attend(learner, new, 2.5)
    client = login_as(learner)
    html = _html(client.get(f"/me/hours?year={year - 1}"))
    assert f'id="session-{old.id}"' in html and f'id="session-{new.id}"' not in html
    assert f'href="/me/hours?year={year - 1}" aria-current="page"' in html
    nonsense = client.get("/me/hours?year=1066")
    assert nonsense.status_code == 200  # falls back to this year
    assert f'id="session-{new.id}"' in _html(nonsense)


def test_my_hours_page_runs_the_same_statements_for_one_course_or_many(
    app_ctx, login_as, count_queries
):
    year = _this_year()
    learner = _social_worker(cycle_starts_on=date(year, 1, 1))
    client = login_as(learner)
    counts = []
    for number in range(1, 5):
        _, sessions = course_with_sessions(
            f"课程{number}",
            [
                datetime(year, 1, number, 1, 0, tzinfo=UTC),
                datetime(year, 1, number + 7, 1, 0, tzinfo=UTC),
            ],
        )
        for session in sessions:
            attend(learner, session, 1.0)
        with count_queries() as statements:
            response = client.get("/me/hours")
        assert response.status_code == 200
        assert _html(response).count('data-kind="academy"') == number
        counts.append(len(statements))
    assert len(set(counts)) == 1, counts


def test_admins_add_and_delete_outside_hours_on_the_user_page(app_ctx, login_as, flashed):
    admin = make_admin()
    learner = make_user(qualification_level=QualificationLevel.ASSISTANT)
    client = login_as(admin)
    page = _html(client.get(f"/admin/users/{learner.id}"))
    assert 'id="hours"' in page and 'name="external-title"' in page
    assert 'href="/admin/requirements"' in page

    today = hours.local_today()
    response = client.post(
        f"/admin/users/{learner.id}/external-hours",
        data={
            "external-title": "省级督导培训",
            "external-hours": "12.5",
            "external-earned_on": today.isoformat(),
            "external-note": "外出学习",
        },
    )
    assert response.status_code == 302, _html(response)
    record = db.session.scalars(sa.select(ExternalHoursRecord)).one()
    assert (record.user_id, record.title, record.hours, record.added_by_id) == (
        learner.id,
        "省级督导培训",
        12.5,
        admin.id,
    )
    page = _html(client.get(f"/admin/users/{learner.id}"))
    assert f'id="external-{record.id}"' in page and "外出学习" in page

    refused = client.post(
        f"/admin/users/{learner.id}/external-hours",
        data={
            "external-title": "太多",
            "external-hours": "500",
            "external-earned_on": "2024-01-01",
        },
    )
    assert refused.status_code == 422
    assert 'id="external-hours-error"' in _html(refused)

    deleted = client.post(
        f"/admin/users/{learner.id}/external-hours/delete", data={"delete-record_id": record.id}
    )
    assert deleted.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(ExternalHoursRecord.id))) == 0
    assert flashed[-1][0] == "success"


def test_learners_get_403_on_the_admin_hours_pages(app_ctx, login_as):
    learner = make_user()
    record = hours.add_external_hours(make_admin(), learner, "研修", 3, date(2024, 1, 1), "")
    db.session.commit()
    client = login_as(learner)
    added = client.post(
        f"/admin/users/{learner.id}/external-hours",
        data={
            "external-title": "自己加",
            "external-hours": "50",
            "external-earned_on": "2024-01-01",
        },
    )
    assert added.status_code == 403
    deleting = client.post(
        f"/admin/users/{learner.id}/external-hours/delete", data={"delete-record_id": record.id}
    )
    assert deleting.status_code == 403
    assert client.get("/admin/requirements").status_code == 403
    changing = client.post(
        "/admin/requirements",
        data={
            "level": "social_worker",
            "social_worker-required_hours": "1",
            "social_worker-cycle_years": "1",
        },
    )
    assert changing.status_code == 403
    db.session.expire_all()
    assert [r.title for r in db.session.scalars(sa.select(ExternalHoursRecord))] == ["研修"]
    assert hours.requirement_for(QualificationLevel.SOCIAL_WORKER).required_hours == 90


def test_admins_edit_the_requirements_page(app_ctx, login_as):
    client = login_as(make_admin())
    html = _html(client.get("/admin/requirements"))
    assert 'id="requirement-assistant_social_worker"' in html
    assert 'id="requirement-none"' not in html
    assert 'name="social_worker-required_hours"' in html and 'value="90.00"' in html
    response = client.post(
        "/admin/requirements",
        data={
            "level": "social_worker",
            "social_worker-required_hours": "96",
            "social_worker-cycle_years": "4",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert hours.requirement_for(QualificationLevel.SOCIAL_WORKER) == hours.Requirement(
        QualificationLevel.SOCIAL_WORKER, 96.0, 4
    )
    refused = client.post(
        "/admin/requirements",
        data={
            "level": "senior_social_worker",
            "senior_social_worker-required_hours": "96",
            "senior_social_worker-cycle_years": "0",
        },
    )
    assert refused.status_code == 422
    assert 'id="senior_social_worker-cycle_years-error"' in _html(refused)
    db.session.expire_all()
    assert hours.requirement_for(QualificationLevel.SENIOR).cycle_years == 3
