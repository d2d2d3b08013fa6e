"""The Celery app is configured for reliability and its entry point runs a real worker."""

from __future__ import annotations

import os
import time

import redis

from tests.celery_worker import output, real_worker
from tests.conftest import make_app
from workers import celery_config

REDIS_URL = os.environ.get("ACADEMY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def test_celery_follows_the_reliability_rules():
    config = celery_config("redis://127.0.0.1:6379/0")
    assert config["task_acks_late"] is True
    assert config["task_reject_on_worker_lost"] is True
    assert config["worker_prefetch_multiplier"] == 1
    assert config["task_serializer"] == "json"
    assert config["accept_content"] == ["json"]
    assert config["task_ignore_result"] is True
    assert config["task_always_eager"] is False
    # A slow task is never handed to a second worker while the first is still on it.
    assert config["broker_transport_options"]["visibility_timeout"] > config["task_time_limit"]


def test_app_without_broker_keeps_tasks_in_process(app):
    celery_app = app.extensions["celery"]
    assert celery_app.conf.broker_url == "memory://"


def test_worker_entry_point_starts_a_real_worker_on_redis(app):
    redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()  # fails, never skips
    with real_worker(app, REDIS_URL, "academy-test") as worker:
        client_app = make_app(ACADEMY_BROKER_URL=REDIS_URL).extensions["celery"]
        replies: list = []
        deadline = time.monotonic() + 30
        while not replies and time.monotonic() < deadline and worker.poll() is None:
            replies = client_app.control.ping(timeout=1.0)
        assert worker.poll() is None, output(worker)
        assert any(name.startswith("academy-test@") for reply in replies for name in reply)


def _record_write_intent(monkeypatch) -> list[bool]:  # type: ignore[no-untyped-def]
    """Make the settle service note the write intent it runs with (and settle nothing)."""
    from courses.db import _sqlite_write_intent
    from courses.services import attendance

    seen: list[bool] = []

    def settle() -> attendance.Settlement:
        seen.append(_sqlite_write_intent.get())
        return attendance.Settlement(sessions=0, courses=0)

    monkeypatch.setattr(attendance, "settle_finished_courses", settle)
    return seen


def test_a_task_runs_with_write_intent_set_by_the_task_class(app, monkeypatch):
    import workers.tasks  # noqa: F401 (registers the tasks)
    from courses.db import _sqlite_write_intent

    seen = _record_write_intent(monkeypatch)
    task = app.extensions["celery"].tasks["academy.settle_finished_courses"]
    assert task() == {"sessions": 0, "courses": 0}
    assert seen == [True]
    assert _sqlite_write_intent.get() is False


def test_the_in_process_job_runs_with_write_intent(app, monkeypatch):
    from courses.db import _sqlite_write_intent
    from workers.inprocess import settle_once

    seen = _record_write_intent(monkeypatch)
    settle_once(app)
    assert seen == [True]
    assert _sqlite_write_intent.get() is False
