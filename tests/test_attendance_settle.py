"""Settling (courses.services.attendance.settle): after a course's last session,
completions are settled, by the ``settle-courses`` command and by the periodic Celery
task, run here by a real worker on Redis; sessions and courses are settled once."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import redis
import sqlalchemy as sa

from courses.db import db
from courses.models import Enrolment, EnrolmentStatus
from courses.services import attendance
from tests.attendance_helpers import OVER, PAST, _enrolment, _settle, _two_session_course
from tests.celery_worker import output, real_worker
from tests.conftest import make_app
from tests.factories import make_course, make_enrolment, make_trainer, make_user
from workers import celery_config

REDIS_URL = os.environ.get("ACADEMY_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def _finished_course():  # type: ignore[no-untyped-def]
    """A course whose two sessions are over: one learner came to both, one to one."""
    trainer = make_trainer()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)
    course = make_course(trainers=[trainer], sessions=2, first_session_at=start)
    keen, absent = make_user(), make_user()
    keen_enrolment = make_enrolment(course, keen)
    short_enrolment = make_enrolment(course, absent)
    during = course.sessions[0].ends_at  # marked while the course was still running
    for session in course.sessions:
        attendance.mark(trainer, session, [{"user_id": keen.id, "status": "present"}], now=during)
    attendance.mark(
        trainer, course.sessions[0], [{"user_id": absent.id, "status": "present"}], now=during
    )
    db.session.commit()
    return keen_enrolment.id, short_enrolment.id


def _status(enrolment_id: int) -> EnrolmentStatus:
    db.session.expire_all()
    return db.session.scalar(sa.select(Enrolment.status).where(Enrolment.id == enrolment_id))


def test_the_command_settles_finished_courses(app, app_ctx):  # type: ignore[no-untyped-def]
    keen, short = _finished_course()
    assert _status(short) == EnrolmentStatus.ENROLLED
    result = app.test_cli_runner().invoke(args=["settle-courses"])
    assert result.exit_code == 0, result.output
    # Both sessions had not been settled: the second's marks, made before it took
    # place, count now; settling them completed or closed every enrolment.
    assert "Settled 2 session(s) and 0 course(s)." in result.output
    assert _status(short) == EnrolmentStatus.INCOMPLETE
    assert _status(keen) == EnrolmentStatus.COMPLETED
    again = app.test_cli_runner().invoke(args=["settle-courses"])
    assert "Settled 0 session(s) and 0 course(s)." in again.output


def test_beat_runs_the_settling_task_periodically():  # type: ignore[no-untyped-def]
    schedule = celery_config("redis://127.0.0.1:6379/0")["beat_schedule"]
    assert any(job["task"] == "academy.settle_finished_courses" for job in schedule.values())


def test_a_real_worker_settles_finished_courses(app, app_ctx):  # type: ignore[no-untyped-def]
    redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()  # fails, never skips
    redis.Redis.from_url(REDIS_URL).flushdb()
    keen, short = _finished_course()
    with real_worker(app, REDIS_URL, "academy-settle") as worker:
        sender = make_app(ACADEMY_BROKER_URL=REDIS_URL).extensions["celery"]
        sender.send_task("academy.settle_finished_courses")
        deadline = time.monotonic() + 60
        while _status(short) != EnrolmentStatus.INCOMPLETE and time.monotonic() < deadline:
            assert worker.poll() is None, output(worker)
            db.session.rollback()
            time.sleep(0.3)
        assert _status(short) == EnrolmentStatus.INCOMPLETE
        assert _status(keen) == EnrolmentStatus.COMPLETED


def test_the_embedded_default_settles_without_a_broker(app, app_ctx):  # type: ignore[no-untyped-def]
    """``academy demo`` has no beat: a thread in the serving process runs the job."""
    from workers.inprocess import PeriodicJobs, start_periodic_jobs

    assert start_periodic_jobs(make_app(ACADEMY_BROKER_URL=REDIS_URL)) is None
    keen, short = _finished_course()
    jobs = PeriodicJobs(app, interval=0.2)
    jobs.start()
    try:
        deadline = time.monotonic() + 30
        while _status(short) != EnrolmentStatus.INCOMPLETE and time.monotonic() < deadline:
            db.session.rollback()
            time.sleep(0.1)
    finally:
        jobs.stop()
        jobs.join(timeout=10)
    assert not jobs.is_alive()
    assert _status(short) == EnrolmentStatus.INCOMPLETE
    assert _status(keen) == EnrolmentStatus.COMPLETED


def test_after_the_last_session_an_enrolment_short_of_the_threshold_is_incomplete(app_ctx):  # type: ignore[no-untyped-def]
    trainer = make_trainer()
    course, learner, enrolment = _two_session_course(trainer)
    keen = make_user()
    keen_enrolment = make_enrolment(course, keen)
    between = PAST + timedelta(days=1)  # the first session is over, the second to come
    for session in course.sessions:
        attendance.mark(trainer, session, [{"user_id": keen.id, "status": "present"}], now=between)
    attendance.mark(
        trainer, course.sessions[0], [{"user_id": learner.id, "status": "present"}], now=between
    )
    db.session.commit()
    assert _enrolment(keen_enrolment.id).status == EnrolmentStatus.ENROLLED
    last_end = course.sessions[1].ends_at
    assert _settle(last_end - timedelta(minutes=1)) == attendance.Settlement(1, 0)
    assert _enrolment(enrolment.id).status == EnrolmentStatus.ENROLLED
    assert _settle(last_end + timedelta(minutes=1)) == attendance.Settlement(1, 0)
    assert _enrolment(enrolment.id).status == EnrolmentStatus.INCOMPLETE
    assert _enrolment(keen_enrolment.id).status == EnrolmentStatus.COMPLETED
    assert _settle(last_end + timedelta(minutes=2)) == attendance.Settlement(0, 0)
    # A later correction can still complete it.
    attendance.mark(
        trainer,
        course.sessions[1],
        [{"user_id": learner.id, "status": "present"}],
        now=last_end + timedelta(days=1),
    )
    db.session.commit()
    assert _enrolment(enrolment.id).status == EnrolmentStatus.COMPLETED


def test_a_finished_course_whose_sessions_were_settled_still_settles(app_ctx):  # type: ignore[no-untyped-def]
    trainer = make_trainer()
    course, _learner, enrolment = _two_session_course(trainer)
    for session in course.sessions:
        session.settled_at = session.ends_at
    db.session.commit()
    assert _settle(OVER) == attendance.Settlement(0, 1)
    assert _enrolment(enrolment.id).status == EnrolmentStatus.INCOMPLETE
