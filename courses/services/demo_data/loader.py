"""The loader: checks, then one intake after another — people (``users``), programmes and
courses with their sessions (``courses``) and rosters (``rosters``), next year's drafts —
all in the caller's transaction, through one writer."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from courses.db import db, utcnow
from courses.errors import Conflict, ValidationFailed
from courses.models import Course, User
from courses.services import stats
from courses.services.accounts import hash_password
from courses.services.demo_data.bulk_writer import BulkWriter
from courses.services.demo_data.catalogue import COURSES
from courses.services.demo_data.courses import CourseLoader
from courses.services.demo_data.intake import Intake
from courses.services.demo_data.parts import SHANGHAI, LoadRun
from courses.services.demo_data.people import DEMO_PASSWORD
from courses.services.demo_data.rosters import RosterLoader
from courses.services.demo_data.summary import SeedSummary
from courses.services.demo_data.users import UserLoader


def is_empty() -> bool:
    """True when the database holds neither users nor courses."""
    has_users = db.session.scalar(sa.select(sa.exists().where(User.id.is_not(None))))
    has_courses = db.session.scalar(sa.select(sa.exists().where(Course.id.is_not(None))))
    return not has_users and not has_courses


def current_year() -> int:
    return utcnow().astimezone(SHANGHAI).year


def seed(year: int | None = None, scale: int = 1, *, now: datetime | None = None) -> SeedSummary:
    """Load the demo academy for ``year`` (default: this year in Asia/Shanghai), in the
    current transaction: the caller commits, then calls :func:`refresh_statistics`.

    ``scale`` multiplies intakes, trainers, learners and everything they generate.
    ``now`` (default: the current time) separates what already happened — attendance,
    completions, feedback — from what is still open for enrolment.
    The statistics' summary tables are computed from what was loaded.
    Raises ``Conflict`` when the database already holds users or courses.
    """
    if scale < 1:
        raise ValidationFailed(fields={"scale": [_l("The scale must be 1 or more.")]})
    if year is not None and not 2000 <= year <= 2100:
        raise ValidationFailed(fields={"year": [_l("Choose a year between 2000 and 2100.")]})
    if not is_empty():
        raise Conflict(
            _l(
                "The database already holds users or courses; "
                "demo data is only loaded into an empty database."
            )
        )
    year = year or current_year()
    now = now or utcnow()
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    loader = _Loader(year=year, scale=scale, now=now.astimezone(UTC))
    summary = loader.run()
    stats.recompute_all()  # rows written by bulk statements: no flush reports them
    return summary


def refresh_statistics() -> None:
    """``ANALYZE`` every table, to run once the load is committed.

    Without fresh statistics after a bulk load PostgreSQL's planner keeps its
    empty-table estimates (a scan of every user to find a page's trainers) until
    autovacuum comes by, and SQLite's has none at all (``sqlite_stat1``), so the first
    catalogue requests would be slow.
    """
    db.session.execute(sa.text("ANALYZE"))


class _Loader:
    """Writes the organisations once, then every intake in turn, through one writer."""

    def __init__(self, *, year: int, scale: int, now: datetime) -> None:
        self.year = year
        self.scale = scale
        self.writer = BulkWriter()
        self.summary = SeedSummary(year=year, scale=scale)
        run = LoadRun(
            year=year,
            now=now,
            writer=self.writer,
            summary=self.summary,
            minutes_per_hour=int(current_app.config.get("MINUTES_PER_CLASS_HOUR", 45)),
        )
        self.users = UserLoader(run, password_hash=hash_password(DEMO_PASSWORD))
        self.rosters = RosterLoader(run)
        self.courses = CourseLoader(run, rosters=self.rosters)

    def run(self) -> SeedSummary:
        self.users.load_organisations()
        for number in range(1, self.scale + 1):
            intake = Intake(
                number=number,
                rng=random.Random(f"academy-demo:{self.year}:intake:{number}"),
                admin_id=None,
            )
            self.users.load_people(intake)
            self.courses.load_programmes(intake)
            for spec in COURSES:
                self.courses.load_course(intake, spec)
            self.courses.load_drafts(intake)
        self.writer.flush()
        self.writer.reset_sequences()
        self.summary.unique_participants = len(self.rosters.participants)
        self.summary.class_hours = round(self.summary.class_hours, 2)
        return self.summary
