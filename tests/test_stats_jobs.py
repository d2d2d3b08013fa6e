"""The full recompute of the statistics: ``academy stats recompute``, the nightly job of
the embedded default (no broker), and the demo data's figures right after loading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from courses.db import db
from courses.models import StatCourseMonth, StatLearnerMonth, StatParticipant
from courses.services import attendance, demo_data, enrolments, stats
from tests.factories import make_admin, make_course, make_user
from workers import inprocess

TABLES = (StatCourseMonth, StatLearnerMonth, StatParticipant)
PAST = datetime(2025, 3, 3, 1, 30, tzinfo=UTC)


def _counts() -> dict[str, int]:
    return {
        table.__tablename__: int(db.session.scalar(sa.select(sa.func.count()).select_from(table)))
        for table in TABLES
    }


def _wipe() -> None:
    for table in TABLES:
        db.session.execute(sa.delete(table))
    db.session.commit()


def _course_with_a_learner() -> int:
    admin = make_admin()
    course = make_course("个案管理", sessions=2, first_session_at=PAST)
    learner = make_user(name="周小健")
    enrolments.enrol(admin, course, learner, now=PAST - timedelta(days=1))
    db.session.commit()
    for held in course.sessions:
        marks = [{"user_id": learner.id, "status": "present"}]
        attendance.mark(admin, held, marks, now=PAST + timedelta(days=30))
    db.session.commit()
    return course.id


def test_the_command_rebuilds_rows_lost_or_wrong(app, app_ctx):
    course_id = _course_with_a_learner()
    stats.recompute_all()
    db.session.commit()
    kept = _counts()
    assert kept["stat_course_months"] == 1 and kept["stat_participants"] == 1
    _wipe()
    db.session.add(StatCourseMonth(course_id=course_id, month=202001, sessions=7))
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["stats", "recompute"])

    assert result.exit_code == 0, result.output
    assert "Recomputed the statistics" in result.output
    assert "1 stat_course_months" in result.output
    db.session.expire_all()
    assert _counts() == kept
    assert db.session.get(StatCourseMonth, (course_id, 202001)) is None


def test_the_embedded_nightly_job_recomputes(app, app_ctx):
    _course_with_a_learner()
    _wipe()
    rows = inprocess.recompute_statistics_once(app)
    assert rows["stat_participants"] == 1
    assert _counts()["stat_participants"] == 1


def test_the_nightly_recompute_waits_for_beats_hour():
    evening = datetime(2025, 3, 3, 18, 30, tzinfo=UTC)
    assert inprocess.seconds_until_recompute(evening) == 30 * 60
    later = evening + timedelta(hours=1)
    assert inprocess.seconds_until_recompute(later) == 23.5 * 3600
    jobs = inprocess.PeriodicJobs.__new__(inprocess.PeriodicJobs)
    inprocess.PeriodicJobs.__init__(jobs, app=None)  # type: ignore[arg-type]
    assert "recompute statistics" in {name for name, _job, _every in jobs.jobs}


def test_the_demo_year_reads_like_the_academys_report(app, app_ctx):
    demo_data.seed(year=2025)
    db.session.commit()
    admin = make_admin()

    year = stats.figures(admin, stats.Period.year(2025)).summary

    assert year.courses >= 40
    assert year.class_hours == 160
    assert year.participant_times >= 3600
