"""The loader: checks, then one intake after another — people, programmes, courses with
their sessions and rosters, next year's drafts — all in the caller's transaction."""

from __future__ import annotations

import random
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from courses.db import db, utcnow
from courses.errors import Conflict, ValidationFailed
from courses.models import (
    Course,
    CourseMode,
    CourseSession,
    Organisation,
    Programme,
    PublicationStatus,
    QualificationLevel,
    Role,
    SessionMode,
    User,
    UserRole,
    course_prerequisites,
    course_trainers,
)
from courses.services.accounts import hash_password
from courses.services.demo_data.bulk_writer import BulkWriter, CourseRows
from courses.services.demo_data.catalogue import (
    COURSES,
    DEMO_TRAINER_COURSES,
    DRAFT_COURSES,
    ORGANISATIONS,
    PROGRAMMES,
    SLOTS,
    VENUES,
    CourseSpec,
    course_description,
)
from courses.services.demo_data.intake import Intake, Learner, SessionPlan
from courses.services.demo_data.people import DEMO_ACCOUNTS, DEMO_PASSWORD, new_name, new_phone
from courses.services.demo_data.rosters import RosterLoader
from courses.services.demo_data.summary import SeedSummary

SHANGHAI = ZoneInfo("Asia/Shanghai")
LEARNERS_PER_INTAKE = 300
TRAINERS_PER_INTAKE = 10


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
    return loader.run()


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
        self.now = now
        self.writer = BulkWriter()
        self.summary = SeedSummary(year=year, scale=scale)
        self.password_hash = hash_password(DEMO_PASSWORD)
        self.minutes_per_hour = int(current_app.config.get("MINUTES_PER_CLASS_HOUR", 45))
        self.used_phones = {account.phone for account in DEMO_ACCOUNTS}
        self.rosters = RosterLoader(
            writer=self.writer,
            summary=self.summary,
            now=now,
            minutes_per_hour=self.minutes_per_hour,
        )
        self.organisation_ids: list[int] = []
        self.organisation_weights: list[int] = []
        self.learner_number = 0
        self.trainer_number = 0
        self.year_start = datetime(year, 1, 1, tzinfo=SHANGHAI).astimezone(UTC)

    # helpers -----------------------------------------------------------------------------

    def local(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)

    def past(self, moment: datetime) -> datetime:
        """Clamp a bookkeeping timestamp so that it never lies in the future."""
        return min(moment, self.now)

    # the whole run -------------------------------------------------------------------------

    def run(self) -> SeedSummary:
        self.load_organisations()
        for number in range(1, self.scale + 1):
            intake = Intake(
                number=number,
                rng=random.Random(f"academy-demo:{self.year}:intake:{number}"),
                admin_id=None,
            )
            self.load_people(intake)
            self.load_programmes(intake)
            for spec in COURSES:
                self.load_course(intake, spec)
            self.load_drafts(intake)
        self.writer.flush()
        self.writer.reset_sequences()
        self.summary.unique_participants = len(self.rosters.participants)
        self.summary.class_hours = round(self.summary.class_hours, 2)
        return self.summary

    def load_organisations(self) -> None:
        existing = dict(db.session.execute(sa.select(Organisation.name, Organisation.id)).all())
        table = Organisation.__table__
        created = self.year_start - timedelta(days=400)
        rng = random.Random(f"academy-demo:{self.year}:organisations")
        for name, kind, weight in ORGANISATIONS:
            contact = new_name(rng)
            phone = new_phone(rng, self.used_phones)
            if name in existing:
                organisation_id = existing[name]
            else:
                organisation_id = self.writer.new_id(table)
                self.writer.add(
                    table,
                    {
                        "id": organisation_id,
                        "name": name,
                        "kind": kind.value,
                        "contact_name": contact,
                        "contact_phone": phone,
                        "is_active": True,
                        "created_at": created,
                        "updated_at": created,
                    },
                )
            self.organisation_ids.append(organisation_id)
            self.organisation_weights.append(weight)
        self.summary.organisations = len(ORGANISATIONS)

    def add_user(
        self,
        rng: random.Random,
        *,
        name: str,
        email: str,
        phone: str,
        role: Role,
        qualification: QualificationLevel,
        organisation_id: int | None,
        active: bool = True,
    ) -> int:
        table = User.__table__
        user_id = self.writer.new_id(table)
        created = self.past(self.year_start - timedelta(days=rng.randint(20, 700)))
        cycle_start = None
        if qualification != QualificationLevel.NONE:
            cycle_start = date(self.year - rng.randint(0, 2), rng.choice((1, 4, 7, 10)), 1)
        last_login = None
        if rng.random() < 0.75:
            last_login = self.past(self.year_start + timedelta(minutes=rng.randint(0, 525_000)))
        self.writer.add(
            table,
            {
                "id": user_id,
                "name": name,
                "email": email,
                "phone": phone,
                "password_hash": self.password_hash,
                "organisation_id": organisation_id,
                "qualification_level": qualification.value,
                "cycle_starts_on": cycle_start,
                "locale": None,
                "is_active": active,
                "session_nonce": secrets.token_hex(16),
                "calendar_token": None,
                "last_login_at": last_login,
                "created_at": created,
                "updated_at": created,
            },
        )
        self.writer.add(UserRole.__table__, {"user_id": user_id, "role": role.value})
        return user_id

    def random_organisation(self, rng: random.Random) -> int:
        return rng.choices(self.organisation_ids, self.organisation_weights)[0]

    def load_people(self, intake: Intake) -> None:
        rng = intake.rng
        if intake.number == 1:
            for account in DEMO_ACCOUNTS:
                role = Role(account.role)
                organisation_id = None if role == Role.ADMIN else self.organisation_ids[0]
                user_id = self.add_user(
                    rng,
                    name=account.name,
                    email=account.login,
                    phone=account.phone,
                    role=role,
                    qualification=account.qualification_level,
                    organisation_id=organisation_id,
                )
                if role == Role.ADMIN:
                    intake.admin_id = user_id
                elif role == Role.TRAINER:
                    intake.trainer_ids.append(user_id)
                    intake.demo_trainers[account.login] = user_id
                else:
                    learner = Learner(user_id, account.qualification_level, 1.0, is_demo=True)
                    intake.learners.append(learner)
                    intake.demo_learners[account.login] = learner
        while len(intake.trainer_ids) < TRAINERS_PER_INTAKE:
            self.trainer_number += 1
            qualification = rng.choice(
                (QualificationLevel.SENIOR, QualificationLevel.SOCIAL_WORKER)
            )
            external = rng.random() < 0.3  # university lecturers and invited experts
            intake.trainer_ids.append(
                self.add_user(
                    rng,
                    name=new_name(rng),
                    email=f"trainer{self.trainer_number:05d}@academy.example",
                    phone=new_phone(rng, self.used_phones),
                    role=Role.TRAINER,
                    qualification=qualification,
                    organisation_id=None if external else self.random_organisation(rng),
                )
            )
        levels = list(QualificationLevel)
        level_weights = (45, 35, 17, 3)
        while len(intake.learners) < LEARNERS_PER_INTAKE:
            self.learner_number += 1
            qualification = rng.choices(levels, level_weights)[0]
            user_id = self.add_user(
                rng,
                name=new_name(rng),
                email=f"learner{self.learner_number:06d}@academy.example",
                phone=new_phone(rng, self.used_phones),
                role=Role.LEARNER,
                qualification=qualification,
                organisation_id=self.random_organisation(rng),
                active=rng.random() >= 0.01,
            )
            activity = rng.choice((0.4, 0.7, 1.0, 1.0, 1.3, 1.6, 2.2))
            intake.learners.append(Learner(user_id, qualification, activity))
        self.summary.trainers += len(intake.trainer_ids)
        self.summary.learners += len(intake.learners)

    def suffix(self, intake: Intake) -> str:
        return "" if intake.number == 1 else f"（第{intake.number}期）"

    def load_programmes(self, intake: Intake) -> None:
        table = Programme.__table__
        created = self.past(self.year_start - timedelta(days=30))
        for spec in PROGRAMMES:
            programme_id = self.writer.new_id(table)
            intake.programme_ids[spec.key] = programme_id
            self.writer.add(
                table,
                {
                    "id": programme_id,
                    "title": spec.title + self.suffix(intake),
                    "summary": spec.summary,
                    "description": spec.summary,
                    "level": spec.level.value if spec.level else None,
                    "status": PublicationStatus.PUBLISHED.value,
                    "required_course_count": spec.required_course_count,
                    "required_hours": spec.required_hours,
                    "certificate_title": spec.certificate_title,
                    "created_at": created,
                    "updated_at": created,
                },
            )
        self.summary.programmes += len(PROGRAMMES)

    # courses ---------------------------------------------------------------------------------

    def first_day(self, rng: random.Random, spec: CourseSpec) -> date:
        lo, hi = spec.days
        candidates = []
        for day in range(lo, hi + 1):
            try:
                candidate = date(self.year, spec.month, day)
            except ValueError:  # the 29th–31st of a short month
                continue
            if candidate.weekday() < 5 and not _is_holiday(candidate):
                candidates.append(candidate)
        return rng.choice(candidates)

    def plan_sessions(
        self,
        rng: random.Random,
        rows: CourseRows,
        spec: CourseSpec,
        course_id: int,
        title: str,
        first: date,
        created: datetime,
    ) -> list[SessionPlan]:
        """One session a week from ``first``, in the course's mode, at a 桂城 venue."""
        table = CourseSession.__table__
        plans = []
        venue = rng.choice(VENUES)
        for index, hours in enumerate(spec.hours):
            day = first + timedelta(days=7 * index)
            if day.year != self.year:
                raise RuntimeError(f"course {spec.key} runs past the end of {self.year}")
            (start_h, start_m), (end_h, end_m) = rng.choice(SLOTS[hours])
            mode = _session_mode(rng, spec.mode, index, len(spec.hours))
            starts_at = self.local(day, start_h, start_m)
            ends_at = self.local(day, end_h, end_m)
            session_id = self.writer.new_id(table)
            offline = mode in (SessionMode.OFFLINE, SessionMode.HYBRID)
            online = mode in (SessionMode.ONLINE, SessionMode.HYBRID)
            video_url = None
            if mode == SessionMode.RECORDED:
                video_url = f"https://media.academy.example/replay/{course_id}-{index + 1}.mp4"
            rows.add(
                table,
                {
                    "id": session_id,
                    "course_id": course_id,
                    "title": f"第{index + 1}讲" if len(spec.hours) > 1 else title,
                    "starts_at": starts_at,
                    "ends_at": ends_at,
                    "mode": mode.value,
                    "venue": venue[0] if offline else None,
                    "room": venue[1] if offline else None,
                    "address": venue[2] if offline else None,
                    "meeting_url": (
                        f"https://meeting.tencent.com/dm/{_token(rng, 12)}" if online else None
                    ),
                    "meeting_number": _meeting_number(rng) if online else None,
                    "video_url": video_url,
                    "class_hours": float(hours),
                    "capacity": None,
                    "checkin_secret": None,
                    "checkin_code": None,
                    "checkin_opens_at": None,
                    "checkin_closes_at": None,
                    "settled_at": ends_at if ends_at <= self.now else None,
                    "created_at": created,
                    "updated_at": created,
                },
            )
            plans.append(SessionPlan(session_id, starts_at, ends_at, mode, float(hours)))
        return plans

    def load_course(self, intake: Intake, spec: CourseSpec) -> None:
        rng = random.Random(f"academy-demo:{self.year}:intake:{intake.number}:course:{spec.key}")
        rows = CourseRows()
        table = Course.__table__
        course_id = self.writer.new_id(table)
        intake.course_ids[spec.key] = course_id
        title = spec.title + self.suffix(intake)
        capacity = rng.randint(*spec.capacity)

        first = self.first_day(rng, spec)
        opens = self.local(first - timedelta(days=rng.randint(21, 35)), 9)
        closes = self.local(first - timedelta(days=1), 18)
        cancel_deadline = self.local(first - timedelta(days=1), 12)
        created = self.past(opens - timedelta(days=rng.randint(3, 14)))
        trainers = self.course_trainers(intake, spec, rng)
        status = PublicationStatus.ARCHIVED if spec.archived else PublicationStatus.PUBLISHED
        course_row: dict[str, Any] = {
            "id": course_id,
            "programme_id": intake.programme_ids.get(spec.programme or ""),
            "title": title,
            "summary": spec.summary,
            "description": course_description(spec, self.minutes_per_hour),
            "topic": spec.topic,
            "level": spec.level.value,
            "mode": spec.mode.value,
            "capacity": capacity,
            "seats_taken": 0,  # set once the roster is known
            "enrol_opens_at": opens,
            "enrol_closes_at": closes,
            "cancel_deadline": cancel_deadline,
            "completion_threshold": spec.threshold,
            "feedback_required": spec.feedback,
            "approval_required": spec.approval,
            "status": status.value,
            "cloned_from_id": None,
            "created_by_id": intake.admin_id or trainers[0],
            "created_at": created,
            "updated_at": created,
        }
        rows.add(table, course_row)
        for trainer_id in trainers:
            rows.add(course_trainers, {"course_id": course_id, "user_id": trainer_id})
        if spec.prerequisite is not None:
            rows.add(
                course_prerequisites,
                {"course_id": course_id, "prerequisite_id": intake.course_ids[spec.prerequisite]},
            )
        sessions = self.plan_sessions(rng, rows, spec, course_id, title, first, created)
        course_row["seats_taken"] = self.rosters.load_roster(
            intake,
            spec,
            rng,
            rows,
            course_id=course_id,
            capacity=capacity,
            sessions=sessions,
            trainers=trainers,
            window=(opens, closes, cancel_deadline),
        )
        self.writer.extend(rows)
        self.summary.courses += 1
        self.summary.sessions += len(sessions)
        self.summary.class_hours += sum(s.class_hours for s in sessions)

    def course_trainers(self, intake: Intake, spec: CourseSpec, rng: random.Random) -> list[int]:
        demo = [
            intake.demo_trainers[login]
            for login, keys in DEMO_TRAINER_COURSES.items()
            if spec.key in keys and login in intake.demo_trainers
        ]
        others = [t for t in intake.trainer_ids if t not in intake.demo_trainers.values()]
        chosen = demo or [rng.choice(others)]
        if rng.random() < 0.25:  # a co-trainer
            extra = rng.choice(others)
            if extra not in chosen:
                chosen.append(extra)
        return chosen

    def load_drafts(self, intake: Intake) -> None:
        rng = random.Random(f"academy-demo:{self.year}:intake:{intake.number}:drafts")
        table = Course.__table__
        rows = CourseRows()
        for title, summary, topic, level, mode, programme in DRAFT_COURSES:
            course_id = self.writer.new_id(table)
            created = self.past(self.local(date(self.year, 11, rng.randint(1, 20)), 10))
            trainer_id = rng.choice(intake.trainer_ids)
            rows.add(
                table,
                {
                    "id": course_id,
                    "programme_id": intake.programme_ids.get(programme or ""),
                    "title": title + self.suffix(intake),
                    "summary": summary,
                    "description": summary + "\n\n（课程筹备中，排期待定。）",
                    "topic": topic,
                    "level": level.value,
                    "mode": mode.value,
                    "capacity": rng.randint(30, 60),
                    "seats_taken": 0,
                    "enrol_opens_at": None,
                    "enrol_closes_at": None,
                    "cancel_deadline": None,
                    "completion_threshold": 0.8,
                    "feedback_required": False,
                    "approval_required": False,
                    "status": PublicationStatus.DRAFT.value,
                    "cloned_from_id": None,
                    "created_by_id": trainer_id,
                    "created_at": created,
                    "updated_at": created,
                },
            )
            rows.add(course_trainers, {"course_id": course_id, "user_id": trainer_id})
            self.summary.draft_courses += 1
        self.writer.extend(rows)


# --- small pure helpers ---------------------------------------------------------------------------


def _is_holiday(day: date) -> bool:
    """New Year, the Spring Festival season, Labour Day and National Day weeks."""
    month, dom = day.month, day.day
    return (
        (month == 1 and (dom == 1 or dom >= 20))
        or (month == 2 and dom <= 20)
        or (month == 5 and dom <= 5)
        or (month == 10 and dom <= 8)
    )


def _session_mode(
    rng: random.Random, course_mode: CourseMode, index: int, count: int
) -> SessionMode:
    if course_mode == CourseMode.OFFLINE:
        return SessionMode.OFFLINE
    if course_mode == CourseMode.ONLINE:
        # Longer online courses put one lecture up as a recording.
        if count >= 3 and index == count - 1:
            return SessionMode.RECORDED
        return SessionMode.ONLINE
    return rng.choice(
        (SessionMode.HYBRID, SessionMode.HYBRID, SessionMode.OFFLINE, SessionMode.ONLINE)
    )


_ALPHANUM = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _token(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(_ALPHANUM) for _ in range(length))


def _meeting_number(rng: random.Random) -> str:
    digits = f"{rng.randrange(10**9):09d}"
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
