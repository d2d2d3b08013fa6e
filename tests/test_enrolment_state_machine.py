"""The enrolment rules as a state machine: Hypothesis drives the service functions of
``courses.services.enrolments`` (and the capacity change of ``courses.services.courses``)
in any order on a few learners and courses, keeps a model of what must follow, and after
every step compares the database with the model and checks the seat and waitlist rules.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from courses.db import db
from courses.errors import Conflict, ValidationFailed
from courses.models import (
    ACTIVE_ENROLMENT_STATUSES,
    Course,
    Enrolment,
    EnrolmentStatus,
    OutboxEvent,
    User,
)
from courses.services import courses as course_service
from courses.services import enrolments, lookups, rosters
from tests.conftest import KEEP_TABLES
from tests.factories import make_course, make_trainer, make_user

NOW = datetime(2030, 3, 1, 2, 0, tzinfo=UTC)
LEARNERS = 6
PENDING, ENROLLED, WAITLISTED = (
    EnrolmentStatus.PENDING,
    EnrolmentStatus.ENROLLED,
    EnrolmentStatus.WAITLISTED,
)
CANCELLED, REJECTED = EnrolmentStatus.CANCELLED, EnrolmentStatus.REJECTED
CANCELLABLE = {PENDING, ENROLLED, WAITLISTED}

learner_numbers = st.integers(0, LEARNERS - 1)
course_numbers = st.integers(0, 1)
capacities = st.one_of(st.integers(1, 3), st.none())
new_capacities = st.one_of(st.integers(0, 5), st.none())


def _empty_tables() -> None:
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        if table.name not in KEEP_TABLES:
            db.session.execute(table.delete())
    db.session.commit()
    db.session.expunge_all()


class EnrolmentMachine(RuleBasedStateMachine):
    enrolment_ids = Bundle("enrolment_ids")

    def __init__(self) -> None:
        super().__init__()
        self.trainer_id = 0
        self.learner_ids: list[int] = []
        self.course_ids: list[int] = []
        self.approval: dict[int, bool] = {}
        self.capacity: dict[int, int | None] = {}
        #: Each course's waitlist as the model sees it: enrolment ids in joining order.
        self.queue: dict[int, list[int]] = {}
        self.status: dict[int, EnrolmentStatus] = {}
        self.owner: dict[int, tuple[int, int]] = {}
        #: (enrolment id, kind) of every notification the outbox must hold.
        self.events: Counter[tuple[int, str]] = Counter()

    def teardown(self) -> None:
        _empty_tables()

    # ---- set-up -----------------------------------------------------------------------

    @initialize(courses=st.lists(st.tuples(capacities, st.booleans()), min_size=1, max_size=2))
    def people_and_courses(self, courses: list[tuple[int | None, bool]]) -> None:
        trainer = make_trainer()
        self.trainer_id = trainer.id
        self.learner_ids = [make_user().id for _ in range(LEARNERS)]
        for capacity, approval in courses:
            course = make_course(
                capacity=capacity, approval_required=approval, sessions=2, trainers=[trainer]
            )
            self.course_ids.append(course.id)
            self.approval[course.id] = approval
            self.capacity[course.id] = capacity
            self.queue[course.id] = []

    # ---- the model ----------------------------------------------------------------------

    def _user(self, user_id: int) -> User:
        user = db.session.get(User, user_id)
        assert user is not None
        return user

    def _course(self, number: int) -> Course:
        course = db.session.get(Course, self.course_ids[number % len(self.course_ids)])
        assert course is not None
        return course

    def _active(self, learner_id: int, course_id: int) -> int | None:
        for enrolment_id, owner in self.owner.items():
            if owner == (learner_id, course_id) and self.status[enrolment_id] in (
                ACTIVE_ENROLMENT_STATUSES
            ):
                return enrolment_id
        return None

    def _seats(self, course_id: int) -> int:
        return sum(
            1
            for enrolment_id, (_learner, course) in self.owner.items()
            if course == course_id and self.status[enrolment_id] == ENROLLED
        )

    def _has_free_seat(self, course_id: int) -> bool:
        capacity = self.capacity[course_id]
        return capacity is None or self._seats(course_id) < capacity

    def _place(self, enrolment_id: int) -> None:
        course_id = self.owner[enrolment_id][1]
        if self._has_free_seat(course_id):
            self.status[enrolment_id] = ENROLLED
        else:
            self.status[enrolment_id] = WAITLISTED
            self.queue[course_id].append(enrolment_id)

    def _fill(self, course_id: int) -> None:
        queue = self.queue[course_id]
        while queue and self._has_free_seat(course_id):
            head = queue.pop(0)
            self.status[head] = ENROLLED
            self.events[(head, "promoted")] += 1

    def _withdraw(self, enrolment_id: int) -> None:
        course_id = self.owner[enrolment_id][1]
        before = self.status[enrolment_id]
        self.status[enrolment_id] = CANCELLED
        if before == WAITLISTED:
            self.queue[course_id].remove(enrolment_id)
        if before == ENROLLED:
            self._fill(course_id)

    def _done(self) -> None:
        db.session.commit()

    def _refused(self) -> None:
        """A refused step wrote nothing, even inside its own transaction."""
        self._check_database()
        db.session.rollback()

    # ---- what learners and trainers do --------------------------------------------------

    def _enrol(self, learner: int, course: int, *, on_behalf: bool) -> object:
        user = self._user(self.learner_ids[learner])
        course_row = self._course(course)
        actor = self._user(self.trainer_id) if on_behalf else user
        current = self._active(user.id, course_row.id)
        if current is not None:
            with pytest.raises(Conflict) as raised:
                enrolments.enrol(actor, course_row, user if on_behalf else None, now=NOW)
            assert raised.value.code == "already_enrolled"
            assert raised.value.details["enrolment_id"] == current
            self._refused()
            return multiple()
        enrolment = enrolments.enrol(actor, course_row, user if on_behalf else None, now=NOW)
        enrolment_id = enrolment.id
        self.owner[enrolment_id] = (user.id, course_row.id)
        self.status[enrolment_id] = PENDING
        if on_behalf:
            self._place(enrolment_id)
            self.events[(enrolment_id, "added")] += 1
            assert enrolment.enrolled_by_id == self.trainer_id
        elif not self.approval[course_row.id]:
            self._place(enrolment_id)
        assert enrolment.status == self.status[enrolment_id]
        self._done()
        return enrolment_id

    @rule(target=enrolment_ids, learner=learner_numbers, course=course_numbers)
    def enrol_self(self, learner: int, course: int) -> object:
        return self._enrol(learner, course, on_behalf=False)

    @rule(target=enrolment_ids, learner=learner_numbers, course=course_numbers)
    def enrol_on_behalf(self, learner: int, course: int) -> object:
        return self._enrol(learner, course, on_behalf=True)

    def _cancel(self, enrolment_id: int, *, by_trainer: bool) -> None:
        learner_id = self.owner[enrolment_id][0]
        actor = self._user(self.trainer_id if by_trainer else learner_id)
        enrolment = lookups.get_enrolment(enrolment_id)
        if self.status[enrolment_id] not in CANCELLABLE:
            with pytest.raises(ValidationFailed) as raised:
                enrolments.cancel(actor, enrolment, reason="名额调整", now=NOW)
            assert raised.value.code == "not_cancellable"
            self._refused()
            return
        enrolments.cancel(actor, enrolment, reason="名额调整", now=NOW)
        self._withdraw(enrolment_id)
        if by_trainer:
            self.events[(enrolment_id, "removed")] += 1
        assert enrolment.status == CANCELLED
        self._done()

    @rule(enrolment=enrolment_ids)
    def cancel_own(self, enrolment: int) -> None:
        self._cancel(enrolment, by_trainer=False)

    @rule(enrolment=enrolment_ids)
    def remove_by_trainer(self, enrolment: int) -> None:
        self._cancel(enrolment, by_trainer=True)

    @rule(enrolment=enrolment_ids, approve=st.booleans())
    def decide(self, enrolment: int, approve: bool) -> None:
        trainer = self._user(self.trainer_id)
        row = lookups.get_enrolment(enrolment)
        act = enrolments.approve if approve else enrolments.reject
        if self.status[enrolment] != PENDING:
            with pytest.raises(ValidationFailed) as raised:
                act(trainer, row, now=NOW)
            assert raised.value.code == "not_pending"
            self._refused()
            return
        act(trainer, row, now=NOW)
        if approve:
            self._place(enrolment)
            self.events[(enrolment, "approved")] += 1
        else:
            self.status[enrolment] = REJECTED
            self.events[(enrolment, "rejected")] += 1
        assert row.status == self.status[enrolment]
        assert row.decided_by_id == self.trainer_id
        self._done()

    @rule(enrolment=enrolment_ids)
    def promote(self, enrolment: int) -> None:
        trainer = self._user(self.trainer_id)
        row = lookups.get_enrolment(enrolment)
        if self.status[enrolment] != WAITLISTED:
            with pytest.raises(ValidationFailed) as raised:
                enrolments.promote(trainer, row, now=NOW)
            assert raised.value.code == "not_waitlisted"
            self._refused()
            return
        course_id = self.owner[enrolment][1]
        enrolments.promote(trainer, row, now=NOW)
        if not self._has_free_seat(course_id):
            self.capacity[course_id] = (self.capacity[course_id] or 0) + 1
        self.queue[course_id].remove(enrolment)
        self.status[enrolment] = ENROLLED
        self.events[(enrolment, "promoted")] += 1
        self._done()

    @rule(course=course_numbers, capacity=new_capacities)
    def change_capacity(self, course: int, capacity: int | None) -> None:
        trainer = self._user(self.trainer_id)
        course_row = self._course(course)
        course_id = course_row.id
        refusal = None
        if capacity is not None and capacity <= 0:
            refusal = "invalid_capacity"
        elif capacity is not None and capacity < self._seats(course_id):
            refusal = "capacity_below_enrolled"
        if refusal is not None:
            with pytest.raises(ValidationFailed) as raised:
                course_service.update_course(trainer, course_row, {"capacity": capacity})
            assert raised.value.code == refusal
            self._refused()
            return
        before = self.capacity[course_id]
        course_service.update_course(trainer, course_row, {"capacity": capacity})
        self.capacity[course_id] = capacity
        if capacity != before and (capacity is None or (before is not None and capacity > before)):
            self._fill(course_id)
        self._done()

    @rule(course=course_numbers)
    def read_the_waitlist(self, course: int) -> None:
        """The roster shows the queue in joining order with places 1, 2, 3…"""
        course_row = self._course(course)
        page = rosters.roster(
            self._user(self.trainer_id), course_row, status=WAITLISTED, per_page=100
        )
        assert [(row.enrolment.id, row.waitlist_rank) for row in page.items] == [
            (enrolment_id, place)
            for place, enrolment_id in enumerate(self.queue[course_row.id], start=1)
        ]
        db.session.rollback()

    # ---- what must hold after every step ------------------------------------------------

    @invariant()
    def database_matches_the_model(self) -> None:
        if self.course_ids:
            self._check_database()

    def _check_database(self) -> None:
        rows = db.session.execute(
            sa.select(
                Enrolment.id,
                Enrolment.course_id,
                Enrolment.user_id,
                Enrolment.status,
                Enrolment.waitlist_position,
            )
        ).all()
        assert {r.id: r.status for r in rows} == self.status
        assert {r.id: (r.user_id, r.course_id) for r in rows} == self.owner

        active = Counter(
            (r.user_id, r.course_id) for r in rows if r.status in ACTIVE_ENROLMENT_STATUSES
        )
        assert all(n == 1 for n in active.values()), active

        figures = {
            c.id: (c.capacity, c.seats_taken)
            for c in db.session.execute(
                sa.select(Course.id, Course.capacity, Course.seats_taken)
            ).all()
        }
        for course_id in self.course_ids:
            capacity, seats_taken = figures[course_id]
            assert capacity == self.capacity[course_id]
            mine = [r for r in rows if r.course_id == course_id]
            holding = [r for r in mine if r.status in enrolments.SEAT_STATUSES]
            assert len(holding) == seats_taken
            assert capacity is None or seats_taken <= capacity
            waiting = sorted(
                (r for r in mine if r.status == WAITLISTED), key=lambda r: r.waitlist_position
            )
            positions = [r.waitlist_position for r in waiting]
            assert all(p is not None and p > 0 for p in positions)
            assert len(set(positions)) == len(positions)
            assert all(r.waitlist_position is None for r in mine if r.status != WAITLISTED)
            assert [r.id for r in waiting] == self.queue[course_id]
            if waiting:
                assert capacity is not None and seats_taken == capacity, "waiting by a free seat"

        notified = Counter(
            (e.payload["enrolment_id"], e.payload["kind"])
            for e in db.session.scalars(
                sa.select(OutboxEvent).where(OutboxEvent.topic == enrolments.NOTIFY_TOPIC)
            )
        )
        assert notified == self.events


def test_enrolment_rules_hold_through_any_sequence_of_actions(app_ctx):
    run_state_machine_as_test(
        EnrolmentMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
