"""Demo data: the academy's year as the numbers say, deterministic, and every rule kept."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.errors import Conflict
from courses.models import (
    AttendanceRecord,
    Course,
    CourseSession,
    Enrolment,
    FeedbackResponse,
    Organisation,
    Programme,
    Role,
    User,
    UserRole,
    course_prerequisites,
    course_trainers,
)
from courses.services import accounts, demo_data
from tests.conftest import KEEP_TABLES

SHANGHAI = ZoneInfo("Asia/Shanghai")

# One past year at scale 1, exactly: the same on every run and on both backends. When the
# demo data is changed on purpose, update these figures and the fingerprint with it.
EXPECTED_2025 = {
    "organisations": 15,
    "programmes": 6,
    "trainers": 10,
    "learners": 300,
    "courses": 42,
    "draft_courses": 2,
    "sessions": 66,
    "class_hours": 160,
    "enrolments": 2_709,
    "completions": 1_991,
    "attendance_records": 4_070,
    "participant_times": 3_668,
    "unique_participants": 297,
    "feedback": 808,
}
FINGERPRINT_2025 = "9c5266ee2cbe70783b3d35beca530e79b84d75d12cad8102837f882c5f9668a7"


def scalar(sql: str, **params: object) -> object:
    return db.session.execute(sa.text(sql), params).scalar()


def rows(sql: str, **params: object) -> list[sa.Row]:
    return db.session.execute(sa.text(sql), params).all()


def empty_database() -> None:
    """What the harness does after each test, for tests that seed twice."""
    db.session.remove()
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEEP_TABLES]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


def fingerprint() -> str:
    """A digest of every stable field of the seeded rows (not hashes or nonces)."""
    digest = hashlib.sha256()
    selections = [
        (User.__table__, ["id", "name", "email", "phone", "organisation_id",
                          "qualification_level", "is_active", "cycle_starts_on"]),
        (UserRole.__table__, ["user_id", "role"]),
        (Organisation.__table__, ["id", "name", "kind"]),
        (Programme.__table__, ["id", "title", "level", "required_course_count"]),
        (Course.__table__, ["id", "programme_id", "title", "topic", "level", "mode", "capacity",
                            "seats_taken", "status", "enrol_opens_at", "cancel_deadline"]),
        (course_trainers, ["course_id", "user_id"]),
        (course_prerequisites, ["course_id", "prerequisite_id"]),
        (CourseSession.__table__, ["id", "course_id", "starts_at", "ends_at", "mode", "venue",
                                   "meeting_url", "class_hours"]),
        (Enrolment.__table__, ["id", "course_id", "user_id", "status", "waitlist_position",
                               "credited_hours", "completed_at", "created_at"]),
        (AttendanceRecord.__table__, ["id", "session_id", "user_id", "status", "method",
                                      "minutes", "credited_hours", "checked_in_at"]),
        (FeedbackResponse.__table__, ["id", "course_id", "user_id", "content_score",
                                      "trainer_score", "organisation_score", "comment"]),
    ]  # fmt: skip
    for table, names in selections:
        columns = [table.c[name] for name in names]
        for row in db.session.execute(sa.select(*columns).order_by(*columns[:2])):
            values = [_stable(column, value) for column, value in zip(columns, row, strict=True)]
            digest.update(repr(values).encode())
    return digest.hexdigest()


def _stable(column: sa.Column, value: object) -> object:
    """One spelling on both backends (SQLite hands back whole numerics as int)."""
    if value is not None and isinstance(column.type, sa.Numeric):
        return f"{float(value):.2f}"
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@pytest.fixture
def seeded(app_ctx) -> demo_data.SeedSummary:
    return demo_data.seed(year=2025)


def test_a_past_year_matches_the_academys_headline_figures(seeded):
    summary = seeded
    for name, value in EXPECTED_2025.items():
        assert getattr(summary, name) == value, name
    assert 3_400 <= summary.participant_times <= 3_800
    assert 250 <= summary.unique_participants <= summary.learners
    assert summary.attendance_records > summary.participant_times
    assert 0 < summary.completions < summary.enrolments
    assert 0 < summary.feedback <= summary.completions + summary.enrolments
    assert f"42 courses, 160 class hours, {summary.participant_times:,} participant-times" in (
        summary.describe()
    )


def test_the_summary_agrees_with_the_database(seeded):
    summary = seeded
    assert scalar("SELECT count(*) FROM organisations") == summary.organisations
    assert scalar("SELECT count(*) FROM programmes WHERE status = 'published'") == (
        summary.programmes
    )
    assert scalar("SELECT count(*) FROM courses WHERE status <> 'draft'") == summary.courses
    assert scalar("SELECT count(*) FROM courses WHERE status = 'draft'") == summary.draft_courses
    assert scalar("SELECT count(*) FROM course_sessions") == summary.sessions
    assert float(scalar("SELECT sum(class_hours) FROM course_sessions")) == pytest.approx(160)
    assert scalar("SELECT count(*) FROM user_roles WHERE role = 'learner'") == summary.learners
    assert scalar("SELECT count(*) FROM user_roles WHERE role = 'trainer'") == summary.trainers
    assert scalar("SELECT count(*) FROM enrolments") == summary.enrolments
    assert scalar("SELECT count(*) FROM enrolments WHERE status = 'completed'") == (
        summary.completions
    )
    assert scalar("SELECT count(*) FROM attendance_records") == summary.attendance_records
    assert scalar("SELECT count(*) FROM attendance_records WHERE credited_hours > 0") == (
        summary.participant_times
    )
    assert scalar(
        "SELECT count(DISTINCT user_id) FROM attendance_records WHERE credited_hours > 0"
    ) == (summary.unique_participants)
    assert scalar("SELECT count(*) FROM feedback_responses") == summary.feedback


def test_the_catalogue_is_varied_and_searchable(seeded):
    statuses = dict(rows("SELECT status, count(*) FROM courses GROUP BY status"))
    assert statuses["published"] >= 40 and statuses["draft"] == 2 and statuses["archived"] == 1
    assert {r[0] for r in rows("SELECT DISTINCT level FROM courses")} == {
        "beginner",
        "intermediate",
        "advanced",
    }
    assert {r[0] for r in rows("SELECT DISTINCT mode FROM courses")} == {
        "online",
        "offline",
        "hybrid",
    }
    assert {r[0] for r in rows("SELECT DISTINCT mode FROM course_sessions")} == {
        "online",
        "offline",
        "recorded",
        "hybrid",
    }
    titles = [r[0] for r in rows("SELECT title FROM courses WHERE status = 'published'")]
    assert sum("心理" in title for title in titles) >= 3
    programmes = {r[0] for r in rows("SELECT title FROM programmes")}
    assert {"桂城街道社工新人培育计划", "关爱专员创智营", "社工考前培训"} <= programmes
    months = {s.astimezone(SHANGHAI).month for s in db.session.scalars(
        sa.select(CourseSession.starts_at))}  # fmt: skip
    assert len(months) >= 11
    kinds = {r[0] for r in rows("SELECT DISTINCT kind FROM organisations")}
    assert kinds == {"organisation", "community", "government"}
    assert scalar("SELECT count(*) FROM organisations WHERE name LIKE '桂城街道%社区居委会'") >= 5
    # Sessions by mode carry what a learner needs to get there.
    for session in db.session.scalars(sa.select(CourseSession)):
        if session.mode.value in ("offline", "hybrid"):
            assert session.venue and session.room and "桂城" in session.address
        if session.mode.value in ("online", "hybrid"):
            assert session.meeting_url.startswith("https://meeting.tencent.com/dm/")
            assert session.meeting_number
        if session.mode.value == "recorded":
            assert session.video_url


def test_sessions_fall_in_business_hours_with_consistent_class_hours(seeded):
    for session in db.session.scalars(sa.select(CourseSession)):
        starts = session.starts_at.astimezone(SHANGHAI)
        ends = session.ends_at.astimezone(SHANGHAI)
        assert starts.tzinfo is not None and starts.year == 2025 and starts.weekday() < 5
        assert starts.hour >= 9 and ends.hour <= 17 and starts.date() == ends.date()
        minutes = (ends - starts).total_seconds() / 60
        assert session.class_hours * 45 <= minutes <= session.class_hours * 45 + 45


def test_rosters_respect_capacity_and_the_waitlist(seeded):
    mismatched = rows(
        """
        SELECT c.id FROM courses c
        WHERE c.seats_taken <> (SELECT count(*) FROM enrolments e WHERE e.course_id = c.id
                                AND e.status IN ('enrolled', 'completed'))
           OR c.seats_taken > c.capacity
        """
    )
    assert mismatched == []
    waitlists = rows(
        """
        SELECT course_id, count(*), min(waitlist_position), max(waitlist_position)
        FROM enrolments WHERE status = 'waitlisted' GROUP BY course_id
        """
    )
    assert waitlists, "some popular course has a waitlist"
    for course_id, count, lowest, highest in waitlists:
        assert (lowest, highest) == (1, count)
        course = db.session.get(Course, course_id)
        assert course.seats_taken == course.capacity  # nobody waits for a free seat
    assert (
        scalar(
            """SELECT count(*) FROM (SELECT user_id, course_id FROM enrolments
               WHERE status NOT IN ('cancelled', 'rejected')
               GROUP BY user_id, course_id HAVING count(*) > 1) AS twice"""
        )
        == 0
    )
    statuses = dict(rows("SELECT status, count(*) FROM enrolments GROUP BY status"))
    assert statuses["completed"] > statuses["enrolled"] > statuses["cancelled"] > 0
    assert statuses["waitlisted"] > 0


def test_credited_hours_add_up(seeded):
    assert (
        scalar(
            """SELECT count(*) FROM attendance_records a
               JOIN course_sessions s ON s.id = a.session_id
               WHERE a.credited_hours > s.class_hours
                  OR (a.status IN ('absent', 'excused') AND a.credited_hours <> 0)
                  OR (a.status IN ('present', 'late', 'partial') AND a.credited_hours <= 0)"""
        )
        == 0
    )
    for minutes, hours, credited in rows(
        """SELECT a.minutes, s.class_hours, a.credited_hours FROM attendance_records a
           JOIN course_sessions s ON s.id = a.session_id"""
    ):
        expected = round(min(minutes / 45, float(hours)), 2)
        assert float(credited) == pytest.approx(expected, abs=0.001)
    for stored, total in rows(
        """SELECT e.credited_hours, coalesce(sum(a.credited_hours), 0) FROM enrolments e
           LEFT JOIN attendance_records a ON a.enrolment_id = e.id
           GROUP BY e.id, e.credited_hours"""
    ):
        assert float(stored) == pytest.approx(float(total), abs=0.001)
    assert (
        scalar(
            """SELECT count(*) FROM attendance_records a JOIN enrolments e ON e.id = a.enrolment_id
               WHERE e.status NOT IN ('enrolled', 'completed') OR e.user_id <> a.user_id"""
        )
        == 0
    )


def test_completions_follow_the_rule(seeded):
    hours = {
        course_id: float(total)
        for course_id, total in rows(
            "SELECT course_id, sum(class_hours) FROM course_sessions GROUP BY course_id"
        )
    }
    feedback = {(c, u) for c, u in rows("SELECT course_id, user_id FROM feedback_responses")}
    enrolments = db.session.scalars(sa.select(Enrolment).where(Enrolment.status == "completed"))
    for enrolment in enrolments:
        course = enrolment.course
        assert enrolment.completed_at is not None
        assert enrolment.credited_hours >= course.completion_threshold * hours[course.id] - 0.01
        if course.feedback_required:
            assert (course.id, enrolment.user_id) in feedback
    stray = (
        "SELECT count(*) FROM enrolments WHERE status <> 'completed' AND completed_at IS NOT NULL"
    )
    assert scalar(stray) == 0
    scores = [r[0] for r in rows("SELECT content_score FROM feedback_responses")]
    assert sum(score >= 4 for score in scores) > 0.8 * len(scores)


def test_prerequisites_form_no_cycle_and_are_met(seeded):
    edges = rows("SELECT course_id, prerequisite_id FROM course_prerequisites")
    assert len(edges) >= 2
    starts = dict(rows("SELECT course_id, min(starts_at) FROM course_sessions GROUP BY course_id"))
    for course_id, prerequisite_id in edges:
        assert str(starts[prerequisite_id]) < str(starts[course_id])  # hence no cycle
        unmet = scalar(
            """SELECT count(*) FROM enrolments e WHERE e.course_id = :course
               AND e.status IN ('enrolled', 'completed') AND NOT EXISTS (
                   SELECT 1 FROM enrolments p WHERE p.course_id = :prerequisite
                   AND p.user_id = e.user_id AND p.status = 'completed')""",
            course=course_id,
            prerequisite=prerequisite_id,
        )
        assert unmet == 0


def test_people_look_real_and_are_unique(seeded):
    learners = db.session.scalars(
        sa.select(User).join(UserRole).where(UserRole.role == Role.LEARNER)
    ).all()
    assert len(learners) == 300
    phone = re.compile(r"^1(3\d|5\d|8\d)\d{8}$")
    assert all(phone.match(user.phone) for user in learners)
    assert len({user.phone for user in learners}) == len(learners)
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,4}", user.name) for user in learners)
    levels = {user.qualification_level.value for user in learners}
    assert levels == {"none", "assistant_social_worker", "social_worker", "senior_social_worker"}
    assert all(user.organisation_id is not None for user in learners)
    assert scalar("SELECT count(*) FROM qualification_requirements") == 3


def test_the_demo_accounts_can_log_in_and_have_something_to_show(seeded):
    for account in demo_data.DEMO_ACCOUNTS:
        user = accounts.authenticate(account.login, demo_data.DEMO_PASSWORD)
        assert user.name == account.name
        assert Role(account.role) in user.roles
    trainer = accounts.find_by_login("trainer@academy.example")
    taught = scalar("SELECT count(*) FROM course_trainers WHERE user_id = :u", u=trainer.id)
    assert taught >= 3
    learner = accounts.find_by_login("learner@academy.example")
    statuses = [
        r[0] for r in rows("SELECT status FROM enrolments WHERE user_id = :u", u=learner.id)
    ]
    assert len(statuses) >= 4 and "completed" in statuses
    assert (
        scalar(
            "SELECT count(*) FROM attendance_records WHERE user_id = :u AND credited_hours > 0",
            u=learner.id,
        )
        >= 4
    )


def test_loading_is_deterministic(app_ctx):
    first = demo_data.seed(year=2025)
    assert fingerprint() == FINGERPRINT_2025
    empty_database()
    second = demo_data.seed(year=2025)
    assert second == first
    assert fingerprint() == FINGERPRINT_2025


def test_what_has_not_happened_yet_has_no_attendance(app_ctx):
    now = datetime(2025, 7, 1, 4, 0, tzinfo=UTC)
    summary = demo_data.seed(year=2025, now=now)
    assert summary.courses == 42 and summary.class_hours == 160
    assert 1_000 < summary.participant_times < 3_000
    later_attendance = (
        sa.select(sa.func.count())
        .select_from(sa.join(AttendanceRecord, CourseSession))
        .where(CourseSession.ends_at > now)
    )
    assert db.session.scalar(later_attendance) == 0
    for column in (
        Enrolment.created_at,
        Enrolment.completed_at,
        Enrolment.cancelled_at,
        FeedbackResponse.created_at,
        AttendanceRecord.checked_out_at,
        User.last_login_at,
        Course.created_at,
    ):
        assert db.session.scalar(sa.select(sa.func.count()).where(column > now)) == 0, column
    # Courses still to come are open for enrolment, and some requests await approval.
    open_now = sa.select(sa.func.count()).where(
        Course.enrol_opens_at <= now, Course.enrol_closes_at > now
    )
    assert db.session.scalar(open_now) >= 1
    assert scalar("SELECT count(*) FROM enrolments WHERE status = 'pending'") >= 1


def test_a_second_load_is_refused(seeded):
    assert not demo_data.is_empty()
    with pytest.raises(Conflict):
        demo_data.seed(year=2025)


def test_an_empty_database_is_empty(app_ctx):
    assert demo_data.is_empty()


def test_scale_multiplies_courses_and_people(app_ctx):
    summary = demo_data.seed(year=2025, scale=2)
    assert summary.organisations == 15
    for name in ("programmes", "trainers", "learners", "courses", "sessions", "class_hours"):
        assert getattr(summary, name) == 2 * EXPECTED_2025[name], name
    assert 6_800 <= summary.participant_times <= 7_600
    # The first intake (users 1–311: an admin, 10 trainers, 300 learners) is the scale-1
    # academy; the second is a new one.
    first_intake = (
        "SELECT count(*) FROM attendance_records WHERE credited_hours > 0 AND user_id <= 311"
    )
    assert scalar(first_intake) == EXPECTED_2025["participant_times"]
    assert scalar("SELECT count(*) FROM courses WHERE title LIKE '%（第2期）'") == 44
    assert scalar("SELECT count(DISTINCT email) FROM users") == scalar("SELECT count(*) FROM users")
    # Ids were chosen by the loader; the database can still hand out the next ones.
    organisation = Organisation(name="新建的机构")
    db.session.add(organisation)
    db.session.flush()
    assert organisation.id == 16
