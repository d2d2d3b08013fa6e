"""The embedded default's stand-in for beat (``academy demo``, no broker): one daemon
thread in the serving process runs the periodic jobs on beat's schedule, so a course
that ends while the demo runs settles and completes without a worker.

With a broker configured this is not started: exactly one ``celery beat`` runs the
same jobs (``workers.celery_config``'s ``beat_schedule``).
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

from courses.db import db
from courses.services import attendance
from workers import SETTLE_EVERY_SECONDS, job_context

log = logging.getLogger(__name__)


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


class PeriodicJobs(threading.Thread):
    """Runs ``settle_once`` at start and then every ``interval`` seconds until stopped.
    A failed run is logged with its trace and tried again at the next tick: the job is
    idempotent, so nothing is lost by trying again."""

    def __init__(self, app: Flask, interval: float = SETTLE_EVERY_SECONDS) -> None:
        super().__init__(name="academy-periodic-jobs", daemon=True)
        self.app = app
        self.interval = interval
        self._stopped = threading.Event()

    def run(self) -> None:
        while True:
            try:
                settled = settle_once(self.app)
                if settled.sessions or settled.courses:
                    log.info(
                        "settled %s session(s) and %s course(s)", settled.sessions, settled.courses
                    )
            except Exception:  # logged and retried at the next tick (the job is idempotent)
                log.exception("the periodic settle job failed; it runs again in %ss", self.interval)
            if self._stopped.wait(self.interval):
                return

    def stop(self) -> None:
        self._stopped.set()


def start_periodic_jobs(app: Flask) -> PeriodicJobs | None:
    """Start the thread when no broker is configured (the embedded default)."""
    if app.config.get("BROKER_URL"):
        return None
    jobs = PeriodicJobs(app)
    jobs.start()
    return jobs
