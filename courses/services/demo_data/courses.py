"""The academy's year of courses: programmes, each course with its trainers, sessions
and roster (``rosters``), and next year's drafts — one intake at a time."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from courses.models import (
    Course,
    CourseMode,
    CourseSession,
    Programme,
    PublicationStatus,
    SessionMode,
    course_prerequisites,
    course_trainers,
)
from courses.services.demo_data.bulk_writer import CourseRows
from courses.services.demo_data.catalogue import (
    DEMO_TRAINER_COURSES,
    DRAFT_COURSES,
    PROGRAMMES,
    SLOTS,
    VENUES,
    CourseSpec,
    course_description,
)
from courses.services.demo_data.intake import Intake, SessionPlan
from courses.services.demo_data.parts import LoaderPart, LoadRun
from courses.services.demo_data.rosters import RosterLoader


class CourseLoader(LoaderPart):
    """Programmes, courses (with sessions and rosters) and drafts of one intake."""

    def __init__(self, run: LoadRun, *, rosters: RosterLoader) -> None:
        super().__init__(run)
        self.rosters = rosters

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
        """One course of the intake: its row, trainers, prerequisite, sessions and roster."""
        rng = random.Random(f"academy-demo:{self.year}:intake:{intake.number}:course:{spec.key}")
        rows = CourseRows()
        table = Course.__table__
        course_id = self.writer.new_id(table)
        intake.course_ids[spec.key] = course_id
        title = spec.title + self.suffix(intake)
        capacity = rng.randint(*spec.capacity)

        first = self.first_day(rng, spec)
        window = self.enrolment_window(rng, first)
        created = self.past(window[0] - timedelta(days=rng.randint(3, 14)))
        trainers = self.course_trainers(intake, spec, rng)
        course_row = self.course_row(
            intake,
            spec,
            course_id=course_id,
            title=title,
            capacity=capacity,
            window=window,
            created=created,
            created_by=intake.admin_id or trainers[0],
        )
        rows.add(table, course_row)
        self.add_links(intake, spec, rows, course_id=course_id, trainers=trainers)
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
            window=window,
        )
        self.writer.extend(rows)
        self.summary.courses += 1
        self.summary.sessions += len(sessions)
        self.summary.class_hours += sum(s.class_hours for s in sessions)

    def enrolment_window(
        self, rng: random.Random, first: date
    ) -> tuple[datetime, datetime, datetime]:
        """When enrolment opens (three to five weeks ahead) and closes, and the deadline
        for cancelling: the day before the first session."""
        opens = self.local(first - timedelta(days=rng.randint(21, 35)), 9)
        closes = self.local(first - timedelta(days=1), 18)
        cancel_deadline = self.local(first - timedelta(days=1), 12)
        return opens, closes, cancel_deadline

    def course_row(
        self,
        intake: Intake,
        spec: CourseSpec,
        *,
        course_id: int,
        title: str,
        capacity: int,
        window: tuple[datetime, datetime, datetime],
        created: datetime,
        created_by: int,
    ) -> dict[str, Any]:
        opens, closes, cancel_deadline = window
        status = PublicationStatus.ARCHIVED if spec.archived else PublicationStatus.PUBLISHED
        return {
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
            "created_by_id": created_by,
            "created_at": created,
            "updated_at": created,
        }

    def add_links(
        self,
        intake: Intake,
        spec: CourseSpec,
        rows: CourseRows,
        *,
        course_id: int,
        trainers: list[int],
    ) -> None:
        """The course's trainers and its prerequisite (a course of the same intake)."""
        for trainer_id in trainers:
            rows.add(course_trainers, {"course_id": course_id, "user_id": trainer_id})
        if spec.prerequisite is not None:
            rows.add(
                course_prerequisites,
                {"course_id": course_id, "prerequisite_id": intake.course_ids[spec.prerequisite]},
            )

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
