"""The outbox without a broker: leases, processing once, counted failures, the dead
state and an admin's retry, which topics are claimed, rollbacks, and concurrent claims
(SKIP LOCKED on PostgreSQL, the write lock's queue on SQLite)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from courses.db import db, utcnow
from courses.errors import PermissionDenied
from courses.models import OutboxEvent, OutboxStatus
from courses.services import outbox
from tests.conftest import DATABASE_URL
from tests.factories import make_admin, make_user
from workers import job_context

TOPIC = "enrolment.completed"
ON_POSTGRES = DATABASE_URL.startswith("postgresql")


def add_events(n: int, topic: str = TOPIC) -> list[int]:
    events = [OutboxEvent(topic=topic, payload={"n": i}) for i in range(n)]
    db.session.add_all(events)
    db.session.commit()
    return [event.id for event in events]


def reload(event_id: int) -> OutboxEvent:
    db.session.expire_all()
    event = db.session.get(OutboxEvent, event_id)
    assert event is not None
    return event


def test_a_claim_leases_its_rows_and_a_second_claim_skips_them_until_the_lease_ends(app_ctx):
    ids = add_events(3)
    now = utcnow()
    first = outbox.claim([TOPIC], now=now, lease=60)
    db.session.commit()
    assert [row.id for row in first] == ids
    assert outbox.claim([TOPIC], now=now + timedelta(seconds=59)) == []
    again = outbox.claim([TOPIC], now=now + timedelta(seconds=61))
    db.session.commit()
    assert [row.id for row in again] == ids  # a lost message is sent again
    assert all(reload(i).status == OutboxStatus.PENDING for i in ids)


def test_a_claim_takes_at_most_its_limit_oldest_first(app_ctx):
    ids = add_events(5)
    assert [row.id for row in outbox.claim([TOPIC], limit=2)] == ids[:2]
    db.session.commit()
    assert [row.id for row in outbox.claim([TOPIC], limit=10)] == ids[2:]


def test_process_runs_the_handler_once_and_marks_the_row_done(app_ctx):
    (event_id,) = add_events(1)
    seen: list[dict] = []
    assert outbox.process(event_id, seen.append) == "done"
    db.session.commit()
    assert outbox.process(event_id, seen.append) == "skipped"
    db.session.commit()
    assert seen == [{"n": 0}]
    event = reload(event_id)
    assert event.status == OutboxStatus.DONE
    assert event.attempts == 1 and event.processed_at is not None and event.last_error is None
    assert outbox.process(10**6, seen.append) == "skipped"  # gone: nothing to do


def _fails(payload: dict) -> None:
    raise ValueError("the template is broken")


def test_a_failing_handler_counts_the_attempt_keeps_the_error_and_backs_off(app_ctx):
    (event_id,) = add_events(1)
    now = utcnow()
    assert outbox.process(event_id, _fails, now=now) == "failed"
    db.session.commit()
    event = reload(event_id)
    assert event.status == OutboxStatus.PENDING and event.attempts == 1
    assert event.last_error == "ValueError: the template is broken"
    base = app_ctx.config["OUTBOX_RETRY_SECONDS"]
    # Backoff with ±50 % jitter; until then it is not claimed.
    assert now + timedelta(seconds=base * 0.5) <= event.available_at
    assert event.available_at <= now + timedelta(seconds=base * 1.5)
    assert outbox.claim([TOPIC], now=now + timedelta(seconds=base * 0.49)) == []


def test_the_handlers_writes_of_a_failed_attempt_are_rolled_back(app_ctx):
    (event_id,) = add_events(1)

    def writes_then_fails(payload: dict) -> None:
        db.session.add(OutboxEvent(topic="side.effect", payload={}))
        db.session.flush()
        raise RuntimeError("half way")

    assert outbox.process(event_id, writes_then_fails) == "failed"
    db.session.commit()
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(OutboxEvent.topic == "side.effect")) == 0
    )


def test_after_the_last_attempt_the_row_is_dead_and_no_longer_claimed(app_ctx):
    (event_id,) = add_events(1)
    now = utcnow()
    results = []
    for _ in range(outbox.max_attempts()):
        now = reload(event_id).available_at + timedelta(seconds=1)
        results.append(outbox.process(event_id, _fails, now=now))
        db.session.commit()
    assert results == ["failed"] * (outbox.max_attempts() - 1) + ["dead"]
    event = reload(event_id)
    assert event.status == OutboxStatus.DEAD and event.attempts == outbox.max_attempts()
    assert outbox.claim([TOPIC], now=now + timedelta(days=1)) == []
    assert outbox.process(event_id, lambda payload: None) == "skipped"


def test_an_admin_retries_a_dead_row_and_a_learner_may_not(app_ctx):
    (event_id,) = add_events(1)
    event = reload(event_id)
    event.status, event.attempts, event.last_error = OutboxStatus.DEAD, 8, "boom"
    db.session.commit()
    learner = make_user()
    with pytest.raises(PermissionDenied):
        outbox.retry(learner, event_id)
    db.session.rollback()
    assert reload(event_id).status == OutboxStatus.DEAD
    outbox.retry(make_admin(), event_id)
    db.session.commit()
    event = reload(event_id)
    assert event.status == OutboxStatus.PENDING and event.attempts == 0
    assert [row.id for row in outbox.claim([TOPIC])] == [event_id]


def test_only_topics_with_a_consumer_are_claimed(app_ctx):
    from workers.relay import _topics

    waiting = add_events(2, topic="no.consumer.yet")
    routed = add_events(1)
    assert "no.consumer.yet" not in _topics()
    assert [row.id for row in outbox.claim(_topics())] == routed
    assert [row.id for row in outbox.due(_topics())] == []  # leased meanwhile
    db.session.commit()
    assert all(reload(i).available_at <= utcnow() for i in waiting)  # never leased


def test_a_rolled_back_transaction_leaves_no_row_and_wakes_no_relay(app_ctx, monkeypatch):
    from workers import relay

    woken: list[object] = []
    monkeypatch.setattr(relay, "relay_for", lambda app: woken.append(app))
    db.session.add(OutboxEvent(topic=TOPIC, payload={}))
    db.session.flush()
    db.session.rollback()
    make_user()  # a later commit without outbox rows
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent)) == 0
    assert woken == []
    add_events(1)
    assert len(woken) == 1  # the control: a commit that wrote one wakes the relay


def _claim_in_thread(app, limit, started, release, out, done):  # type: ignore[no-untyped-def]
    with job_context(app):
        if started is not None:
            started.wait(10)
        out.extend(row.id for row in outbox.claim([TOPIC], limit=limit))
        done.set()
        if release is not None:
            release.wait(5 if ON_POSTGRES else 0.5)
        db.session.commit()
        db.session.remove()


def test_two_connections_claiming_at_once_get_disjoint_rows(app):
    """PostgreSQL: the second claim skips the rows the first holds locked and does not
    wait for it. SQLite: the second waits for the first's write lock, then sees its
    lease: the same disjoint sets, one after the other."""
    with app.app_context():
        ids = add_events(10)
        db.session.remove()
    first: list[int] = []
    second: list[int] = []
    first_done, second_done = threading.Event(), threading.Event()
    a = threading.Thread(
        target=_claim_in_thread, args=(app, 5, None, second_done, first, first_done)
    )
    b = threading.Thread(
        target=_claim_in_thread, args=(app, 5, first_done, None, second, second_done)
    )
    a.start()
    b.start()
    started = time.monotonic()
    a.join(30)
    b.join(30)
    assert not a.is_alive() and not b.is_alive()
    assert len(first) == 5 and len(second) == 5
    assert set(first).isdisjoint(second)
    assert sorted(first + second) == ids
    if ON_POSTGRES:
        # B finished while A still held its locks: skipped, not waited for.
        assert second_done.is_set() and time.monotonic() - started < 5


def test_the_relay_wakes_after_the_outer_commit_not_a_savepoints_release(app_ctx, monkeypatch):
    """Every consumer writes its outbox rows inside ``process``'s savepoint: the relay
    must wake when they are committed, or the last of a batch waits for beat's sweep."""
    from workers import relay

    woken: list[object] = []
    monkeypatch.setattr(relay, "relay_for", lambda app: woken.append(app))
    with db.session.begin_nested():
        db.session.add(OutboxEvent(topic=TOPIC, payload={}))
    assert woken == []  # released, not committed: nothing to see yet
    db.session.commit()
    assert len(woken) == 1


def test_a_savepoints_rollback_keeps_the_wake_up_of_the_rows_before_it(app_ctx, monkeypatch):
    from workers import relay

    woken: list[object] = []
    monkeypatch.setattr(relay, "relay_for", lambda app: woken.append(app))
    db.session.add(OutboxEvent(topic=TOPIC, payload={}))
    db.session.flush()
    with pytest.raises(ValueError), db.session.begin_nested():
        raise ValueError("a lost race, caught")
    db.session.commit()
    assert len(woken) == 1


def test_a_failure_process_cannot_count_is_counted_apart_and_blocks_no_other_row(app_ctx):
    """A broken statement (here: the connection's own error) is counted in a
    transaction of its own; the in-process relay goes on with the rows behind it."""
    import sqlalchemy as sa

    from courses.db import db
    from courses.models import OutboxEvent, OutboxStatus
    from workers import relay
    from workers.routes import ROUTES, Route

    calls: list[int] = []

    def handler(payload: dict) -> None:  # type: ignore[type-arg]
        calls.append(payload["n"])
        if payload["n"] == 0:
            raise sa.exc.OperationalError("SELECT 1", {}, Exception("statement timeout"))

    ROUTES["test.transient"] = Route("test.transient", "academy.test", "default", handler)
    try:
        for n in range(3):
            db.session.add(OutboxEvent(topic="test.transient", payload={"n": n}))
        db.session.commit()
        relay.drain(app_ctx)
        db.session.expire_all()
        rows = db.session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.id)).all()
        assert sorted(calls) == [0, 1, 2]
        assert [(r.status, r.attempts) for r in rows] == [
            (OutboxStatus.PENDING, 1),
            (OutboxStatus.DONE, 1),
            (OutboxStatus.DONE, 1),
        ]
        assert "statement timeout" in rows[0].last_error
    finally:
        del ROUTES["test.transient"]
