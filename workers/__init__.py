"""Celery for Academy: the app factory hook and its configuration (SPEC §6).

Nothing runs at import time. ``celery_init_app`` is called by ``academy.create_app``;
the worker process builds the Flask app in ``workers.celery`` (its only entry point):

    celery -A workers worker --loglevel=INFO
    celery -A workers beat
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask
from kombu import Queue

from courses.db import write_intent

#: Longest a task may run; the broker's visibility timeout is set well above it so a
#: slow task is not handed to a second worker while the first is still on it.
TASK_TIME_LIMIT = 15 * 60
#: How often sessions that have ended (and courses whose last session has ended) are
#: settled: a completion, and so a certificate, follows a course's end within this.
SETTLE_EVERY_SECONDS = 60
#: How often beat sends outbox rows again whose lease ran out (a lost message).
SWEEP_EVERY_SECONDS = 30
#: How often the reconciler looks for certificates that should exist and do not.
RECONCILE_EVERY_SECONDS = 300
#: When beat recomputes every statistic from the raw records: 03:00 in Asia/Shanghai
#: (beat keeps UTC), when no one is at work.
STATS_RECOMPUTE_AT_UTC = (19, 0)
STATS_RECOMPUTE_AT = crontab(hour=STATS_RECOMPUTE_AT_UTC[0], minute=STATS_RECOMPUTE_AT_UTC[1])
QUEUES = ("default", "certificates", "stats", "reports", "mail")


def celery_config(broker_url: str | None) -> dict[str, Any]:
    return {
        "broker_url": broker_url or "memory://",
        "task_always_eager": False,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,
        "result_backend": None,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_time_limit": TASK_TIME_LIMIT,
        "task_soft_time_limit": TASK_TIME_LIMIT - 60,
        "broker_transport_options": {"visibility_timeout": TASK_TIME_LIMIT * 4},
        "broker_connection_retry_on_startup": True,
        "task_default_queue": "default",
        # Queues by purpose; a plain worker consumes them all, production may run one
        # worker per queue (``-Q certificates``).
        "task_queues": [Queue(name) for name in QUEUES],
        "task_routes": {
            "academy.certificates.*": {"queue": "certificates"},
            "academy.stats.*": {"queue": "stats"},
            "academy.reports.*": {"queue": "reports"},
            "academy.mail.*": {"queue": "mail"},
        },
        "timezone": "UTC",
        "enable_utc": True,
        "imports": ("workers.tasks", "workers.outbox", "workers.certificates", "workers.stats"),
        # Periodic jobs, declared as data; exactly one beat runs them.
        "beat_schedule": {
            "settle-finished-courses": {
                "task": "academy.settle_finished_courses",
                "schedule": SETTLE_EVERY_SECONDS,
            },
            "sweep-outbox": {"task": "academy.outbox.sweep", "schedule": SWEEP_EVERY_SECONDS},
            "reconcile-certificates": {
                "task": "academy.certificates.reconcile",
                "schedule": RECONCILE_EVERY_SECONDS,
            },
            "recompute-statistics": {
                "task": "academy.stats.recompute",
                "schedule": STATS_RECOMPUTE_AT,
            },
        },
    }


@contextmanager
def job_context(app: Flask) -> Iterator[None]:
    """What every task and periodic job runs in: an application context of ``app``, with
    SQLite write intent (``courses.db.write_intent``) so that its transactions take the
    write lock when they begin. Set here once; tasks do not repeat it."""
    with app.app_context(), write_intent():
        yield


def celery_init_app(app: Flask) -> Celery:
    """Bind a Celery app to ``app``: every task runs in ``job_context``."""

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with job_context(app):
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(celery_config(app.config.get("BROKER_URL")))
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    from workers import relay

    relay.init_app(app)
    return celery_app
