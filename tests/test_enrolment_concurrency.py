"""Enrolment under real concurrency: many clients at once against a threaded HTTP server,
every request in its own thread with its own database connection.

Each burst is fired by worker threads that each hold a keep-alive HTTP client, connect
first and are then released together by a barrier, so the requests reach the server at
the same moment. Afterwards the rows are read back and checked against the rules in
``courses.services.enrolments``: no overbooking, a gapless FIFO waitlist, one active
enrolment per learner, and every freed seat handed to the head of the queue.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from werkzeug.serving import WSGIRequestHandler, make_server

from courses.db import db
from courses.models import (
    ACTIVE_ENROLMENT_STATUSES,
    Course,
    Enrolment,
    EnrolmentStatus,
    Notice,
    Role,
    User,
    UserRole,
)
from courses.services import accounts, enrolments, tokens
from tests.factories import DEFAULT_PASSWORD, make_course, make_token, make_trainer

NOW = datetime(2030, 3, 1, 2, 0, tzinfo=UTC)
WORKERS = 50
_numbers = itertools.count(1)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@pytest.fixture(scope="module")
def live_server(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@dataclass(frozen=True)
class Learner:
    id: int
    token: str


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    token: str


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any

    @property
    def code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return self.body["error"].get("code")
        return None


def _learners(count: int) -> list[Learner]:
    """``count`` learner accounts, each with an API token, inserted together."""
    password_hash = accounts.hash_password(DEFAULT_PASSWORD)
    users = []
    for _ in range(count):
        n = next(_numbers)
        user = User(name=f"并发学员{n}", email=f"rush{n}@example.org", password_hash=password_hash)
        user.role_rows = [UserRole(role=Role.LEARNER)]
        users.append(user)
    db.session.add_all(users)
    db.session.flush()
    issued = [tokens.issue(user)[0] for user in users]
    db.session.commit()
    return [Learner(user.id, secret) for user, secret in zip(users, issued, strict=True)]


def _enrol_directly(course_id: int, learners: Sequence[Learner]) -> list[int]:
    """Enrol one learner after another through the service (no concurrency)."""
    course = db.session.get(Course, course_id)
    ids = []
    for learner in learners:
        user = db.session.get(User, learner.id)
        ids.append(enrolments.enrol(user, course, now=NOW).id)
    db.session.commit()
    return ids


def _fire(base_url: str, calls: Sequence[Call], workers: int = WORKERS) -> list[Reply]:
    """Send every call, ``workers`` at a time, all workers released together.

    Call ``i`` goes to worker ``i % workers``, so consecutive calls (a double click)
    are sent by different workers at the same moment.
    """
    workers = min(workers, len(calls))
    replies: list[Reply | None] = [None] * len(calls)
    barrier = threading.Barrier(workers)

    def work(first: int) -> None:
        with httpx.Client(base_url=base_url, timeout=60, verify=False) as client:
            try:
                warm_up = client.get("/api/v1/me/enrolments")  # connects; no token, no database
                assert warm_up.status_code == 401
            except BaseException:
                barrier.abort()
                raise
            barrier.wait(timeout=30)
            for index in range(first, len(calls), workers):
                call = calls[index]
                response = client.request(
                    call.method,
                    call.path,
                    headers={"Authorization": f"Bearer {call.token}"},
                    json={} if call.method == "POST" else None,
                )
                replies[index] = Reply(response.status_code, response.json())

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(work, first) for first in range(workers)]:
            future.result()
    assert all(reply is not None for reply in replies)
    return replies  # type: ignore[return-value]


def _statuses(replies: Sequence[Reply]) -> Counter[int]:
    return Counter(reply.status for reply in replies)


def _unexpected(replies: Sequence[Reply], expected: int) -> list[Reply]:
    return [reply for reply in replies if reply.status != expected][:5]


def _fresh() -> None:
    """Forget this thread's snapshot: the server's threads wrote the rows to read."""
    db.session.rollback()
    db.session.remove()


def _course_figures(course_id: int) -> tuple[int | None, int]:
    row = db.session.execute(
        sa.select(Course.capacity, Course.seats_taken).where(Course.id == course_id)
    ).one()
    return row.capacity, row.seats_taken


def _rows(course_id: int) -> list[Any]:
    return db.session.execute(
        sa.select(Enrolment.id, Enrolment.user_id, Enrolment.status, Enrolment.waitlist_position)
        .where(Enrolment.course_id == course_id)
        .order_by(Enrolment.id)
    ).all()


def _check_invariants(course_id: int) -> list[Any]:
    """The rules that hold whatever the interleaving; returns the course's rows."""
    capacity, seats_taken = _course_figures(course_id)
    rows = _rows(course_id)
    holding = [r for r in rows if r.status in enrolments.SEAT_STATUSES]
    waiting = [r for r in rows if r.status == EnrolmentStatus.WAITLISTED]
    assert len(holding) == seats_taken
    assert capacity is None or seats_taken <= capacity
    positions = [r.waitlist_position for r in waiting]
    assert None not in positions
    assert len(set(positions)) == len(positions)
    if waiting:
        assert seats_taken == capacity, "someone waits while a seat is free"
    active = Counter(r.user_id for r in rows if r.status in ACTIVE_ENROLMENT_STATUSES)
    assert all(n == 1 for n in active.values()), active.most_common(3)
    return rows


def _promoted_in_order(course_id: int) -> list[int]:
    """The learners moved off the course's waitlist, in the order it happened."""
    notices = db.session.execute(
        sa.select(Notice.user_id, Notice.data)
        .where(Notice.kind == "enrolment_promoted")
        .order_by(Notice.id)
    ).all()
    return [n.user_id for n in notices if n.data["course_id"] == course_id]


def test_300_learners_at_once_fill_50_seats_and_queue_the_rest_gaplessly(app_ctx, live_server):
    trainer = make_trainer()
    trainer_token = make_token(trainer)
    course_id = make_course(capacity=50, sessions=2, trainers=[trainer]).id
    learners = _learners(300)
    _fresh()

    calls = [Call("POST", f"/api/v1/courses/{course_id}/enrolments", p.token) for p in learners]
    replies = _fire(live_server, calls)

    assert _statuses(replies) == {201: 300}, _unexpected(replies, 201)
    assert Counter(r.body["status"] for r in replies) == {"enrolled": 50, "waitlisted": 250}
    # Nobody left the queue, so the place each learner was told is their ticket.
    told = sorted(r.body["waitlist_position"] for r in replies if r.body["status"] == "waitlisted")
    assert told == list(range(1, 251))

    _fresh()
    rows = _check_invariants(course_id)
    assert _course_figures(course_id) == (50, 50)
    assert len(rows) == 300
    assert {r.user_id for r in rows} == {p.id for p in learners}
    assert Counter(r.status for r in rows) == {
        EnrolmentStatus.ENROLLED: 50,
        EnrolmentStatus.WAITLISTED: 250,
    }
    stored = sorted(r.waitlist_position for r in rows if r.status == EnrolmentStatus.WAITLISTED)
    assert stored == list(range(1, 251))
    by_id = {r.id: r for r in rows}
    for reply, learner in zip(replies, learners, strict=True):
        row = by_id[reply.body["id"]]
        assert (row.user_id, str(row.status)) == (learner.id, reply.body["status"])
        if row.status == EnrolmentStatus.WAITLISTED:
            assert reply.body["waitlist_position"] == row.waitlist_position

    # The roster the trainer reads shows the queue in ticket order, places 1..250.
    queue = []
    with httpx.Client(base_url=live_server, timeout=30, verify=False) as client:
        for page in (1, 2, 3):
            response = client.get(
                f"/api/v1/courses/{course_id}/enrolments",
                params={"status": "waitlisted", "per_page": 100, "page": page},
                headers={"Authorization": f"Bearer {trainer_token}"},
            )
            assert response.status_code == 200
            queue.extend(response.json()["items"])
    assert [item["waitlist_position"] for item in queue] == list(range(1, 251))
    ticket = {r.id: r.waitlist_position for r in rows}
    assert [ticket[item["id"]] for item in queue] == list(range(1, 251))


@pytest.mark.parametrize(
    "waiting", [45, 10], ids=["queue-outlasts-cancellations", "queue-runs-dry"]
)
def test_cancellations_racing_enrolments_hand_every_seat_to_the_head_of_the_queue(
    app_ctx, live_server, waiting
):
    capacity, leaving, arriving = 40, 30, 60
    course_id = make_course(capacity=capacity, sessions=2).id
    holders = _learners(capacity)
    waiters = _learners(waiting)
    newcomers = _learners(arriving)
    seat_ids = _enrol_directly(course_id, holders)
    waiter_ids = _enrol_directly(course_id, waiters)
    _fresh()
    before = {r.id: r for r in _check_invariants(course_id)}
    assert all(before[i].status == EnrolmentStatus.ENROLLED for i in seat_ids)
    assert [before[i].waitlist_position for i in waiter_ids] == list(range(1, waiting + 1))

    cancels = [
        Call("DELETE", f"/api/v1/enrolments/{seat_id}", holder.token)
        for seat_id, holder in zip(seat_ids[:leaving], holders[:leaving], strict=True)
    ]
    enrols = [Call("POST", f"/api/v1/courses/{course_id}/enrolments", p.token) for p in newcomers]
    calls = cancels + enrols
    random.Random(waiting).shuffle(calls)
    replies = _fire(live_server, calls)

    by_call = dict(zip(calls, replies, strict=True))
    cancel_replies = [by_call[c] for c in cancels]
    enrol_replies = [by_call[c] for c in enrols]
    assert _statuses(cancel_replies) == {200: leaving}, _unexpected(cancel_replies, 200)
    assert {r.body["status"] for r in cancel_replies} == {"cancelled"}
    assert _statuses(enrol_replies) == {201: arriving}, _unexpected(enrol_replies, 201)
    told = [r.body["waitlist_position"] for r in enrol_replies if r.body["status"] == "waitlisted"]
    assert all(place >= 1 for place in told), sorted(told)

    _fresh()
    rows = _check_invariants(course_id)
    assert _course_figures(course_id) == (capacity, capacity)
    status_of = {r.id: r.status for r in rows}
    position_of = {r.id: r.waitlist_position for r in rows}
    assert all(status_of[i] == EnrolmentStatus.CANCELLED for i in seat_ids[:leaving])
    assert all(status_of[i] == EnrolmentStatus.ENROLLED for i in seat_ids[leaving:])

    promoted = _promoted_in_order(course_id)
    assert len(promoted) == len(set(promoted))
    newcomer_ids = {p.id for p in newcomers}
    reply_of = {p.id: by_call[c] for p, c in zip(newcomers, enrols, strict=True)}
    if waiting >= leaving:
        # Every freed seat went to the next original waiter, in ticket order; the
        # newcomers all queued behind the rest, keeping their tickets in sequence.
        assert promoted == [w.id for w in waiters[:leaving]]
        assert [status_of[i] for i in waiter_ids[:leaving]] == [EnrolmentStatus.ENROLLED] * leaving
        assert [position_of[i] for i in waiter_ids[leaving:]] == list(
            range(leaving + 1, waiting + 1)
        )
        assert {r.body["status"] for r in enrol_replies} == {"waitlisted"}
        tickets = sorted(position_of[r.body["id"]] for r in enrol_replies)
        assert tickets == list(range(waiting + 1, waiting + arriving + 1))
    else:
        # The original waiters were promoted first and in order; after them seats went
        # to newcomers, either at once or from the queue, never both for one learner.
        assert promoted[:waiting] == [w.id for w in waiters]
        assert set(promoted[waiting:]) <= newcomer_ids
        assert all(status_of[i] == EnrolmentStatus.ENROLLED for i in waiter_ids)
        assert {reply.body["status"] for reply in reply_of.values()} <= {"enrolled", "waitlisted"}
        queued = {uid for uid, r in reply_of.items() if r.body["status"] == "waitlisted"}
        seated = {r.user_id for r in rows if r.status == EnrolmentStatus.ENROLLED}
        assert len(seated & newcomer_ids) == leaving - waiting
        assert seated & queued <= set(promoted[waiting:])
    still_waiting = [r for r in rows if r.status == EnrolmentStatus.WAITLISTED]
    assert len(still_waiting) == waiting + arriving - leaving


def test_a_double_click_enrols_once(app_ctx, live_server):
    course_id = make_course(capacity=3, sessions=2).id
    learners = _learners(5)
    _fresh()
    clicks = 8
    calls = [
        Call("POST", f"/api/v1/courses/{course_id}/enrolments", learner.token)
        for learner in learners
        for _ in range(clicks)
    ]
    replies = _fire(live_server, calls)

    assert _statuses(replies) == {201: 5, 409: 5 * (clicks - 1)}, [
        r for r in replies if r.status not in (201, 409)
    ][:5]
    _fresh()
    rows = _check_invariants(course_id)
    assert len(rows) == 5
    row_of = {r.user_id: r for r in rows}
    for number, learner in enumerate(learners):
        mine = replies[number * clicks : (number + 1) * clicks]
        [won] = [r for r in mine if r.status == 201]
        assert won.body["id"] == row_of[learner.id].id
        for lost in (r for r in mine if r.status == 409):
            assert lost.code == "already_enrolled"
            assert lost.body["error"]["enrolment_id"] == won.body["id"]
    assert _course_figures(course_id) == (3, 3)
    assert Counter(r.status for r in rows) == {
        EnrolmentStatus.ENROLLED: 3,
        EnrolmentStatus.WAITLISTED: 2,
    }
    assert sorted(r.waitlist_position for r in rows if r.waitlist_position) == [1, 2]


def test_a_double_cancel_frees_one_seat_and_promotes_one_waiter(app_ctx, live_server):
    quiet_id = make_course(capacity=2, sessions=2).id
    busy_id = make_course(capacity=2, sessions=2).id
    quiet_holders = _learners(2)
    busy_holders = _learners(2)
    busy_waiters = _learners(2)
    quiet_seats = _enrol_directly(quiet_id, quiet_holders)
    busy_seats = _enrol_directly(busy_id, busy_holders)
    busy_waiting = _enrol_directly(busy_id, busy_waiters)
    _fresh()

    calls = [
        Call("DELETE", f"/api/v1/enrolments/{quiet_seats[0]}", quiet_holders[0].token),
        Call("DELETE", f"/api/v1/enrolments/{busy_seats[0]}", busy_holders[0].token),
    ] * 2
    replies = _fire(live_server, calls)

    for seat in (0, 1):
        pair = [replies[seat], replies[seat + 2]]
        assert sorted(r.status for r in pair) == [200, 422], pair
        assert [r.code for r in pair if r.status == 422] == ["not_cancellable"]
    _fresh()
    _check_invariants(quiet_id)
    _check_invariants(busy_id)
    assert _course_figures(quiet_id) == (2, 1)
    assert _course_figures(busy_id) == (2, 2)
    status_of = {r.id: (r.status, r.waitlist_position) for r in _rows(busy_id)}
    assert status_of[busy_seats[0]] == (EnrolmentStatus.CANCELLED, None)
    assert status_of[busy_waiting[0]] == (EnrolmentStatus.ENROLLED, None)
    assert status_of[busy_waiting[1]] == (EnrolmentStatus.WAITLISTED, 2)
    assert _promoted_in_order(busy_id) == [busy_waiters[0].id]
    assert _promoted_in_order(quiet_id) == []


def test_concurrent_decisions_on_pending_requests_never_overbook(app_ctx, live_server):
    trainer = make_trainer()
    trainer_token = make_token(trainer)
    capacity = 4
    course_id = make_course(
        capacity=capacity, sessions=2, approval_required=True, trainers=[trainer]
    ).id
    learners = _learners(16)
    requests = _enrol_directly(course_id, learners)
    _fresh()
    assert {r.status for r in _rows(course_id)} == {EnrolmentStatus.PENDING}

    contested = set(requests[:4])  # approved and rejected at the same moment
    calls = []
    for enrolment_id in requests:
        second = "reject" if enrolment_id in contested else "approve"
        calls.append(Call("POST", f"/api/v1/enrolments/{enrolment_id}/approve", trainer_token))
        calls.append(Call("POST", f"/api/v1/enrolments/{enrolment_id}/{second}", trainer_token))
    replies = _fire(live_server, calls)

    assert _statuses(replies) == {200: 16, 422: 16}, [
        r for r in replies if r.status not in (200, 422)
    ][:5]
    assert {r.code for r in replies if r.status == 422} == {"not_pending"}
    for number in range(16):
        assert sorted(r.status for r in replies[2 * number : 2 * number + 2]) == [200, 422]

    _fresh()
    rows = _check_invariants(course_id)
    status_of = {r.id: r.status for r in rows}
    rejected = [i for i in requests if status_of[i] == EnrolmentStatus.REJECTED]
    assert set(rejected) <= contested
    approved = len(requests) - len(rejected)
    assert _course_figures(course_id) == (capacity, min(capacity, approved))
    assert Counter(status_of.values()) == Counter(
        {
            EnrolmentStatus.ENROLLED: min(capacity, approved),
            EnrolmentStatus.WAITLISTED: approved - capacity,
            EnrolmentStatus.REJECTED: len(rejected),
        }
    )
    positions = sorted(r.waitlist_position for r in rows if r.waitlist_position)
    assert positions == list(range(1, approved - capacity + 1))
    winners = [r.body for r in replies if r.status == 200]
    assert Counter(body["status"] for body in winners) == Counter(
        {
            "enrolled": min(capacity, approved),
            "waitlisted": approved - capacity,
            "rejected": len(rejected),
        }
    )
