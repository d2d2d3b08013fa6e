"""The hours pages: a learner's ledger with its year picker (in a fixed number of
statements), the admins' outside-hours and requirements pages, and 403 for learners."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from courses.db import db
from courses.models import ExternalHoursRecord, QualificationLevel
from courses.services import hours
from tests.factories import make_admin, make_user
from tests.hours_steps import (  # _keep_default_requirements: autouse
    _keep_default_requirements,  # noqa: F401
    _social_worker,
    attend,
    course_with_sessions,
)


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
