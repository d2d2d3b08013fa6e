"""The embedded default's stand-in for beat and the workers (``academy demo``, no
broker): one daemon thread in the serving process runs the periodic jobs on beat's
schedule (settling, the certificate reconciler, the nightly recompute of the
statistics), and the in-process outbox relay (``workers.relay``) drains the outbox, so a
course that ends while the demo runs settles, completes and gets its certificates
without any other service.

With a broker configured this is not started: exactly one ``celery beat`` runs the
same jobs (``workers.celery_config``'s ``beat_schedule``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask

from courses.db import db
from courses.services import attendance
from workers import (
    RECONCILE_EVERY_SECONDS,
    SETTLE_EVERY_SECONDS,
    STATS_RECOMPUTE_AT_UTC,
    job_context,
)

log = logging.getLogger(__name__)
DAY = 24 * 3600.0


def settle_once(app: Flask) -> attendance.Settlement:
    """One run of the settle job, committed, in its own ``job_context`` (as a Celery
    task runs: an application context with write intent)."""
    with job_context(app):
        try:
            settled = attendance.settle_finished_courses()
            db.session.commit()
            return settled
        finally:
            db.session.remove()


def recompute_statistics_once(app: Flask) -> dict[str, int]:
    """One full recompute of the statistics, in its own ``job_context``."""
    from workers.stats import recompute_once

    with job_context(app):
        try:
            return recompute_once()
        finally:
            db.session.remove()


def seconds_until_recompute(now: datetime | None = None) -> float:
    """Seconds from ``now`` to the next nightly recompute, beat's hour in UTC."""
    now = now or datetime.now(UTC)
    hour, minute = STATS_RECOMPUTE_AT_UTC
    next_run = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if next_run <= now:
        next_run += timedelta(days=1)
    return (next_run - now).total_seconds()


def reconcile_once(app: Flask) -> dict[str, int]:
    """One run of the certificate reconciler, in its own ``job_context``."""
    from workers.certificates import reconcile_once as reconcile

    with job_context(app):
        try:
            return reconcile()
        finally:
            db.session.remove()


class PeriodicJobs(threading.Thread):
    """Runs each job at start and then every its interval until stopped. A failed run
    is logged with its trace and tried again at its next tick: the jobs are idempotent,
    so nothing is lost by trying again."""

    def __init__(self, app: Flask, interval: float = SETTLE_EVERY_SECONDS) -> None:
        super().__init__(name="academy-periodic-jobs", daemon=True)
        self.app = app
        self.interval = interval
        self.jobs: list[tuple[str, Callable[[Flask], Any], float]] = [
            ("settle", settle_once, interval),
            ("reconcile", reconcile_once, max(interval, RECONCILE_EVERY_SECONDS)),
            ("recompute statistics", recompute_statistics_once, DAY),
        ]
        self._next = {name: 0.0 for name, _, _ in self.jobs}
        self._next["recompute statistics"] = time.monotonic() + seconds_until_recompute()
        self._stopped = threading.Event()

    def run(self) -> None:
        while True:
            for name, job, every in self.jobs:
                if time.monotonic() < self._next[name]:
                    continue
                self._next[name] = time.monotonic() + every
                try:
                    result = job(self.app)
                    log.debug("periodic job %s: %s", name, result)
                except Exception:  # logged and retried at its next tick (idempotent)
                    log.exception("the periodic %s job failed; it runs again in %ss", name, every)
            if self._stopped.wait(self.interval):
                return

    def stop(self) -> None:
        self._stopped.set()


def start_periodic_jobs(app: Flask) -> PeriodicJobs | None:
    """Start the thread and the in-process relay when no broker is configured."""
    if app.config.get("BROKER_URL"):
        return None
    from workers.relay import start_in_process_relay

    start_in_process_relay(app)
    jobs = PeriodicJobs(app)
    jobs.start()
    return jobs
