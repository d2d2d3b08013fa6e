"""Enrolments, attendance and feedback: who asked for a seat, got one, came and rated it."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from courses.models import (
    AttendanceMethod,
    AttendanceRecord,
    AttendanceStatus,
    Enrolment,
    EnrolmentStatus,
    FeedbackResponse,
    SessionMode,
)
from courses.services.demo_data.bulk_writer import CourseRows
from courses.services.demo_data.catalogue import (
    ATTENDANCE_STATUSES,
    AUDIENCES,
    COMMENTS,
    DEMO_LEARNER_COURSES,
    PROFILE_NAMES,
    PROFILE_WEIGHTS,
    SCORE_WEIGHTS,
    SCORES,
    STATUS_PROFILES,
    CourseSpec,
)
from courses.services.demo_data.intake import Intake, Learner, SessionPlan
from courses.services.demo_data.parts import LoaderPart, LoadRun


class RosterLoader(LoaderPart):
    """The rosters of the courses: requests in order, seats, attendance, completion."""

    def __init__(self, run: LoadRun) -> None:
        super().__init__(run)
        self.participants: set[int] = set()

    def candidates(self, intake: Intake, spec: CourseSpec) -> list[Learner]:
        pool = [learner for learner in intake.learners if not learner.is_demo]
        if spec.prerequisite is not None:
            done = intake.completed_by_course.get(spec.prerequisite, set())
            pool = [learner for learner in pool if learner.id in done]
        return pool

    def requests(
        self,
        intake: Intake,
        spec: CourseSpec,
        rng: random.Random,
        capacity: int,
        opens: datetime,
        closes: datetime,
    ) -> list[tuple[datetime, Learner]]:
        """Who asks for a seat and when, first come first served."""
        weights = AUDIENCES[spec.audience]
        pool = self.candidates(intake, spec)
        demand = min(round(capacity * rng.uniform(0.8, 1.2)), round(len(pool) * 0.85))
        # Weighted sampling without replacement (Efraimidis–Spirakis keys).
        keyed = sorted(
            pool,
            key=lambda lr: (
                rng.random() ** (1.0 / (lr.activity * weights.get(lr.qualification, 1.0)))
            ),
            reverse=True,
        )
        span = (closes - opens).total_seconds()
        requests = [
            # Most requests come soon after the window opens.
            (opens + timedelta(seconds=round(span * rng.random() ** 1.6)), learner)
            for learner in keyed[:demand]
        ]
        for login, keys in DEMO_LEARNER_COURSES.items():
            learner = intake.demo_learners.get(login)
            if learner is not None and spec.key in keys:
                requests.append((opens + timedelta(hours=2, minutes=len(requests)), learner))
        requests.sort(key=lambda item: (item[0], item[1].id))
        return requests

    def load_roster(
        self,
        intake: Intake,
        spec: CourseSpec,
        rng: random.Random,
        rows: CourseRows,
        *,
        course_id: int,
        capacity: int,
        sessions: Sequence[SessionPlan],
        trainers: list[int],
        window: tuple[datetime, datetime, datetime],
    ) -> int:
        """Enrol, wait-list, reject and cancel in request order; returns the seats taken.

        The final state is what first-come-first-served with FIFO promotion leaves behind:
        cancelled requests hold no seat, the first ``capacity`` of the others do, the rest
        wait in order — so a non-empty waitlist means a full course.
        """
        opens, closes, cancel_deadline = window
        decider = trainers[0]
        seats_taken = 0
        waitlist = 0
        for requested_at, learner in self.requests(intake, spec, rng, capacity, opens, closes):
            if requested_at > self.now:
                continue
            row = self.enrolment_row(course_id, learner, requested_at)
            seated = False
            if self.holds_no_seat(spec, rng, row, learner, cancel_deadline, decider):
                pass
            elif seats_taken < capacity:
                seats_taken += 1
                seated = True
                if spec.approval:
                    decided_at = self.past(requested_at + timedelta(hours=rng.randint(2, 48)))
                    row.update(decided_by_id=decider, updated_at=decided_at)
            else:
                waitlist += 1
                row.update(status=EnrolmentStatus.WAITLISTED.value, waitlist_position=waitlist)
            rows.add(Enrolment.__table__, row)
            if seated:
                self.attend(intake, spec, rng, rows, row, learner, sessions, trainers[0])
            self.summary.enrolments += 1
        return seats_taken

    def enrolment_row(
        self, course_id: int, learner: Learner, requested_at: datetime
    ) -> dict[str, Any]:
        """A request, enrolled until decided otherwise."""
        return {
            "id": self.writer.new_id(Enrolment.__table__),
            "course_id": course_id,
            "user_id": learner.id,
            "status": EnrolmentStatus.ENROLLED.value,
            "waitlist_position": None,
            "credited_hours": 0.0,
            "completed_at": None,
            "cancelled_at": None,
            "decided_by_id": None,
            "enrolled_by_id": None,
            "created_at": requested_at,
            "updated_at": requested_at,
        }

    def holds_no_seat(
        self,
        spec: CourseSpec,
        rng: random.Random,
        row: dict[str, Any],
        learner: Learner,
        cancel_deadline: datetime,
        decider: int,
    ) -> bool:
        """Cancel (before the deadline), reject or leave pending (on approval courses) a
        few requests; True when ``row`` became one of those. Demo learners keep theirs."""
        requested_at = row["created_at"]
        draw = rng.random()
        cancel_by = min(cancel_deadline, self.now)
        if not learner.is_demo and draw < 0.05 and cancel_by > requested_at:
            cancelled_at = requested_at + (cancel_by - requested_at) * rng.random()
            row.update(
                status=EnrolmentStatus.CANCELLED.value,
                cancelled_at=cancelled_at,
                updated_at=cancelled_at,
            )
        elif spec.approval and not learner.is_demo and draw < 0.08:
            row.update(
                status=EnrolmentStatus.REJECTED.value,
                decided_by_id=decider,
                updated_at=self.past(requested_at + timedelta(days=1)),
            )
        elif spec.approval and requested_at > self.now - timedelta(days=4):
            row["status"] = EnrolmentStatus.PENDING.value  # still to be decided
        else:
            return False
        return True

    def attend(
        self,
        intake: Intake,
        spec: CourseSpec,
        rng: random.Random,
        rows: CourseRows,
        enrolment: dict[str, Any],
        learner: Learner,
        sessions: Sequence[SessionPlan],
        trainer_id: int,
    ) -> None:
        """Attendance for the sessions already over, then completion and feedback."""
        # The demo learners are reliable, so that their pages show completions.
        profile = "steady" if learner.is_demo else rng.choices(PROFILE_NAMES, PROFILE_WEIGHTS)[0]
        needed = spec.threshold * sum(s.class_hours for s in sessions) - 1e-9
        reached_at = self.attend_sessions(
            rng, rows, enrolment, sessions, trainer_id, STATUS_PROFILES[profile], needed
        )
        self.complete(enrolment, intake, spec, rng, rows, sessions[-1].ends_at, reached_at)

    def attend_sessions(
        self,
        rng: random.Random,
        rows: CourseRows,
        enrolment: dict[str, Any],
        sessions: Sequence[SessionPlan],
        trainer_id: int,
        status_weights: Sequence[float],
        needed: float,
    ) -> datetime | None:
        """A record for each session already over; returns when the credited hours
        reached ``needed`` (None if they did not)."""
        learner_id = enrolment["user_id"]
        credited_total = 0.0
        reached_at: datetime | None = None
        table = AttendanceRecord.__table__
        for session in sessions:
            if session.ends_at > self.now:
                break
            status = rng.choices(ATTENDANCE_STATUSES, status_weights)[0]
            record = self.attendance_row(rng, session, status, trainer_id)
            record.update(
                id=self.writer.new_id(table),
                session_id=session.id,
                user_id=learner_id,
                enrolment_id=enrolment["id"],
            )
            rows.add(table, record)
            self.summary.attendance_records += 1
            if record["credited_hours"] > 0:
                self.summary.participant_times += 1
                self.participants.add(learner_id)
                credited_total += record["credited_hours"]
                if reached_at is None and credited_total >= needed:
                    reached_at = session.ends_at
                enrolment["updated_at"] = max(enrolment["updated_at"], record["updated_at"])
        enrolment["credited_hours"] = round(credited_total, 2)
        return reached_at

    def complete(
        self,
        enrolment: dict[str, Any],
        intake: Intake,
        spec: CourseSpec,
        rng: random.Random,
        rows: CourseRows,
        last_ends_at: datetime,
        reached_at: datetime | None,
    ) -> None:
        """Feedback from most of those who reached the threshold once the course (its last
        session ending at ``last_ends_at``) is over, then completion (after the feedback,
        where the course asks for it)."""
        learner_id = enrolment["user_id"]
        feedback_at = None
        course_over = last_ends_at <= self.now
        if (
            course_over
            and reached_at is not None
            and rng.random() < (0.9 if spec.feedback else 0.3)
        ):
            feedback_at = last_ends_at + timedelta(minutes=rng.randint(5, 4 * 24 * 60))
            if feedback_at > self.now:
                feedback_at = None
        if feedback_at is not None:
            self.add_feedback(rng, rows, enrolment["course_id"], learner_id, feedback_at)
        # A course completes once its last session is over (attendance.evaluate_completion).
        if not course_over or reached_at is None or (spec.feedback and feedback_at is None):
            return
        completed_at = feedback_at if feedback_at is not None and spec.feedback else last_ends_at
        enrolment.update(
            status=EnrolmentStatus.COMPLETED.value,
            completed_at=completed_at,
            updated_at=max(enrolment["updated_at"], completed_at),
        )
        intake.completed_by_course.setdefault(spec.key, set()).add(learner_id)
        self.summary.completions += 1

    def attendance_row(
        self, rng: random.Random, session: SessionPlan, status: AttendanceStatus, trainer_id: int
    ) -> dict[str, Any]:
        duration = int((session.ends_at - session.starts_at).total_seconds() // 60)
        mode = session.mode
        if mode == SessionMode.RECORDED and status == AttendanceStatus.LATE:
            status = AttendanceStatus.PRESENT  # nobody is late for a recording
        minutes = offset = 0
        if status == AttendanceStatus.PRESENT:
            minutes = duration - rng.randint(0, 8)
            offset = rng.randint(-12, 3)
        elif status == AttendanceStatus.LATE:
            offset = rng.randint(16, 50)
            minutes = duration - offset
        elif status == AttendanceStatus.PARTIAL:
            minutes = rng.randint(25, duration // 2)
            offset = rng.randint(-5, 20)

        recorded_by = None
        checked_in = checked_out = None
        if minutes == 0:  # absent or excused: marked by the trainer, or no viewing at all
            if mode == SessionMode.RECORDED:
                method = AttendanceMethod.VIDEO
            else:
                method = AttendanceMethod.ROLL_CALL
                recorded_by = trainer_id
        else:
            method = _attendance_method(rng, mode)
            if mode == SessionMode.RECORDED:
                # Watched some time after release, finished before now.
                checked_in = session.starts_at + timedelta(minutes=rng.randint(0, 3 * 24 * 60))
                checked_in = min(checked_in, self.now - timedelta(minutes=minutes))
            else:
                checked_in = session.starts_at + timedelta(minutes=offset)
            checked_out = checked_in + timedelta(minutes=minutes)
            if method == AttendanceMethod.ROLL_CALL:
                recorded_by, checked_out = trainer_id, None
            elif method == AttendanceMethod.IMPORT:
                recorded_by = trainer_id
        credited = 0.0
        if minutes > 0:
            credited = round(min(minutes / self.minutes_per_hour, session.class_hours), 2)
        stamp = checked_in or session.ends_at
        return {
            "status": status.value,
            "method": method.value,
            "minutes": minutes,
            "credited_hours": credited,
            "checked_in_at": checked_in,
            "checked_out_at": checked_out,
            "recorded_by_id": recorded_by,
            "created_at": stamp,
            "updated_at": checked_out or stamp,
        }

    def add_feedback(
        self, rng: random.Random, rows: CourseRows, course_id: int, user_id: int, at: datetime
    ) -> None:
        table = FeedbackResponse.__table__
        content, trainer, organisation = rng.choices(SCORES, SCORE_WEIGHTS, k=3)
        rows.add(
            table,
            {
                "id": self.writer.new_id(table),
                "course_id": course_id,
                "user_id": user_id,
                "content_score": content,
                "trainer_score": trainer,
                "organisation_score": organisation,
                "comment": rng.choice(COMMENTS),
                "created_at": at,
                "updated_at": at,
            },
        )
        self.summary.feedback += 1


def _attendance_method(rng: random.Random, mode: SessionMode) -> AttendanceMethod:
    if mode == SessionMode.RECORDED:
        return AttendanceMethod.VIDEO
    if mode == SessionMode.ONLINE:
        return rng.choices((AttendanceMethod.ONLINE_JOIN, AttendanceMethod.IMPORT), (8, 2))[0]
    if mode == SessionMode.HYBRID:
        return rng.choices(
            (
                AttendanceMethod.QR,
                AttendanceMethod.CODE,
                AttendanceMethod.ONLINE_JOIN,
                AttendanceMethod.IMPORT,
            ),
            (5, 1, 3, 1),
        )[0]
    return rng.choices(
        (AttendanceMethod.QR, AttendanceMethod.CODE, AttendanceMethod.ROLL_CALL), (7, 2, 1)
    )[0]
