"""The statistics' summary tables: random sequences of what trainers and learners do
(enrol, cancel, check in, correct a roll-call, import a meeting report, rate, complete,
revoke, move a session, change organisation), and after each sequence the incrementally
kept rows equal a full recompute, and the figures equal a count by hand over the raw
records (``tests/stats_oracle``) on every dimension — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from courses.db import db
from courses.errors import DomainError
from courses.models import (
    Certificate,
    CertificateStatus,
    CourseMode,
    CourseSession,
    Enrolment,
    OutboxEvent,
    SessionMode,
    StatCourseMonth,
    StatLearnerMonth,
    StatParticipant,
    User,
)
from courses.services import accounts, attendance, certificates, enrolments, feedback, stats
from tests.conftest import empty_database
from tests.factories import make_admin, make_course, make_organisation, make_trainer, make_user
from tests.stats_oracle import NOTHING, expected, shown
from workers import relay

#: Sessions at 00:30 in Shanghai, 16:30 UTC the day before: the second of the online
#: course falls on 1 April in Shanghai and on 31 March in UTC.
ONLINE_START = datetime(2025, 3, 24, 16, 30, tzinfo=UTC)
OFFLINE_START = datetime(2025, 3, 3, 1, 30, tzinfo=UTC)
LATER = datetime(2025, 6, 1, tzinfo=UTC)
LEARNERS = 5
STATUSES = ("present", "late", "partial", "absent", "excused")

learner = st.integers(0, LEARNERS - 1)
course = st.integers(0, 1)
session = st.integers(0, 1)
action = st.one_of(
    st.tuples(st.just("enrol"), learner, course),
    st.tuples(st.just("cancel"), learner, course),
    st.tuples(st.just("mark"), learner, course, session, st.sampled_from(STATUSES)),
    st.tuples(st.just("import"), learner, course, session, st.integers(0, 150)),
    st.tuples(st.just("rate"), learner, course, st.integers(1, 5), st.integers(1, 5)),
    st.tuples(st.just("work"), st.just(0)),
    st.tuples(st.just("revoke"), learner, course),
    st.tuples(st.just("move"), course, st.integers(-40, 40)),
    st.tuples(st.just("organisation"), learner, st.integers(0, 2)),
)


class World:
    def __init__(self) -> None:
        accounts.use_fast_hashing_for_tests()
        self.admin = make_admin()
        self.trainer = make_trainer(name="陈老师")
        self.organisations = [make_organisation("桂城社工站"), make_organisation("大沥社工站")]
        self.learners = [
            make_user(name=f"学员{i}", organisation=self.organisations[i % 2] if i < 4 else None)
            for i in range(LEARNERS)
        ]
        offline = make_course(
            "个案管理",
            trainers=[self.trainer],
            sessions=2,
            first_session_at=OFFLINE_START,
            topic="个案工作",
            capacity=3,
        )
        online = make_course(
            "线上督导",
            trainers=[self.trainer, self.admin],
            sessions=2,
            first_session_at=ONLINE_START,
            topic="督导",
            mode=CourseMode.ONLINE,
            capacity=10,
            enrol_closes_at=None,
        )
        for one in online.sessions:
            one.mode = SessionMode.ONLINE
        make_course("草稿课程", trainers=[self.trainer], sessions=1, status="draft")
        db.session.commit()
        self.courses = [offline, online]

    def enrolment(self, user: User, course_index: int) -> Enrolment | None:
        return db.session.scalar(
            sa.select(Enrolment).where(
                Enrolment.user_id == user.id,
                Enrolment.course_id == self.courses[course_index].id,
                Enrolment.status.in_(("enrolled", "completed", "incomplete")),
            )
        )

    def session_of(self, course_index: int, number: int) -> CourseSession:
        return sorted(self.courses[course_index].sessions, key=lambda s: s.id)[number]

    def do(self, step: tuple, app) -> None:  # type: ignore[no-untyped-def,type-arg]
        kind, *args = step
        try:
            getattr(self, f"_{kind}")(*args) if kind != "work" else relay.drain(app)
            db.session.commit()
        except DomainError:
            db.session.rollback()

    def _enrol(self, i: int, c: int) -> None:
        enrolments.enrol(self.admin, self.courses[c], self.learners[i], now=OFFLINE_START)

    def _cancel(self, i: int, c: int) -> None:
        found = self.enrolment(self.learners[i], c)
        if found is not None and found.status == "enrolled":
            enrolments.cancel(self.admin, found, now=OFFLINE_START)

    def _mark(self, i: int, c: int, s: int, status: str) -> None:
        if self.enrolment(self.learners[i], c) is not None:
            marks = [{"user_id": self.learners[i].id, "status": status}]
            attendance.mark(self.trainer, self.session_of(c, s), marks, now=LATER)

    def _import(self, i: int, c: int, s: int, minutes: int) -> None:
        found = self.enrolment(self.learners[i], c)
        if found is not None:
            attendance.set_imported_minutes(self.session_of(c, s), found, minutes, now=LATER)

    def _rate(self, i: int, c: int, content: int, trainer: int) -> None:
        feedback.submit_feedback(self.learners[i], self.courses[c], content, trainer, 4, now=LATER)

    def _revoke(self, i: int, c: int) -> None:
        found = db.session.scalar(
            sa.select(Certificate).where(
                Certificate.user_id == self.learners[i].id,
                Certificate.course_id == self.courses[c].id,
                Certificate.status == CertificateStatus.VALID,
            )
        )
        if found is not None:
            certificates.revoke(found, self.admin, "考勤更正")

    def _move(self, c: int, days: int) -> None:
        first = self.session_of(c, 0)
        first.starts_at += timedelta(days=days)
        first.ends_at += timedelta(days=days)

    def _organisation(self, i: int, o: int) -> None:
        user = self.learners[i]
        user.organisation_id = self.organisations[o].id if o < 2 else None


def _rows() -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    tables = (StatCourseMonth, StatLearnerMonth, StatParticipant)
    rows = {}
    for table in tables:
        columns = list(table.__table__.columns)
        found = db.session.execute(sa.select(*columns).order_by(*table.__table__.primary_key))
        rows[table.__tablename__] = [
            tuple(round(v, 2) if isinstance(v, float) else v for v in row) for row in found
        ]
    return rows


def _work_off(app) -> None:  # type: ignore[no-untyped-def]
    relay.drain(app)
    waiting = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxEvent)
        .where(OutboxEvent.topic == stats.TOPIC, OutboxEvent.status != "done")
    )
    assert waiting == 0


GROUPS = (None, "month", "year", "course", "organisation", "trainer", "topic", "mode")


def _assert_figures_match_the_records(admin: User) -> None:
    for first, last in ((202501, 202512), (202503, 202503), (202504, 202506)):
        period = stats.Period(first, last)
        for group_by in GROUPS:
            answer = stats.figures(admin, period, group_by)
            want = expected(group_by, first, last)
            if group_by is None:
                got = {None: shown(answer.summary)}
                want = {None: want.get(None, NOTHING)}
            else:
                got = {row.key: shown(row, group_by == "organisation") for row in answer.items}
            assert got == want, (group_by, first, last)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(action, min_size=1, max_size=25))
def test_incremental_equals_full_recompute_equals_the_raw_records(app, steps) -> None:  # type: ignore[no-untyped-def]
    empty_database(app)
    with app.app_context():
        world = World()
        admin_id = world.admin.id
        for step in steps:
            world.do(step, app)
        _work_off(app)
        db.session.remove()
        incremental = _rows()
        stats.recompute_all()
        db.session.commit()
        assert _rows() == incremental
        _assert_figures_match_the_records(db.session.get(User, admin_id))
        db.session.remove()
