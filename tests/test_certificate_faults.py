"""Certificates survive faults (SPEC §4 "Nothing lost", §6 rules 3–6), with a real Celery
worker on a redis-server the tests start, stop and kill themselves:

* the worker SIGKILLed while it issues 200 certificates, then started again;
* the broker stopped while 50 completions are recorded through the API;
* one event delivered twice to the worker and consumed in-process at the same time,
  and two relays sending at once;
* the embedded relay (no broker) SIGKILLed mid-drain and started again.

Each ends with one valid certificate per completed enrolment, unique serials, and a
complete stored PDF for each. Leases are 3 s and retries 1 s here, so a lost message
is sent again by the sweep quickly; every wait polls the database against a deadline.
"""

from __future__ import annotations

import io
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pypdf
import pytest
import redis
import sqlalchemy as sa
from flask import Flask

from courses.db import db
from courses.models import (
    Certificate,
    CertificateKind,
    CertificateStatus,
    Enrolment,
    EnrolmentStatus,
    OutboxEvent,
    OutboxStatus,
)
from courses.services import attendance, certificates, outbox
from courses.services.stats.tracking import TOPIC as STATS_TOPIC
from courses.storage import get_storage
from tests.attendance_helpers import OVER, PAST
from tests.celery_worker import embedded_relay, kill_hard, output, real_worker
from tests.certificate_helpers import completed_course
from tests.conftest import make_app
from tests.factories import bearer, make_course, make_enrolment, make_token, make_trainer, make_user
from tests.redis_server import RedisServer
from workers import job_context
from workers.outbox import consume
from workers.relay import send_due

LEASE_SECONDS = 3
TIMINGS = {"ACADEMY_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS), "ACADEMY_OUTBOX_RETRY_SECONDS": "1"}
ISSUE_TASK = "academy.certificates.issue"


@pytest.fixture(scope="module")
def broker() -> Iterator[RedisServer]:
    server = RedisServer()  # raises (the tests fail) when redis-server is missing
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="module")
def fault_app(app: Flask, broker: RedisServer) -> Flask:
    """The web application with the tests' broker and short leases."""
    return make_app(ACADEMY_BROKER_URL=broker.url, **TIMINGS)


@pytest.fixture(autouse=True)
def _fresh_broker_and_files(broker: RedisServer, app: Flask) -> None:
    """Nothing queued by an earlier test, no PDF left from one (ids and serials repeat)."""
    if broker.process is None:
        broker.start()
    redis.Redis.from_url(broker.url).flushall()
    shutil.rmtree(Path(app.instance_path) / "uploads" / "certificates", ignore_errors=True)


def outbox_ids(topic: str = "enrolment.completed") -> list[int]:
    return list(
        db.session.scalars(
            sa.select(OutboxEvent.id).where(OutboxEvent.topic == topic).order_by(OutboxEvent.id)
        )
    )


def progress(app: Flask) -> tuple[int, int, int]:
    """(certificates, certificates with a PDF, outbox rows still pending)."""
    with app.app_context():
        try:
            count = sa.select(sa.func.count()).select_from(Certificate)
            issued = db.session.scalar(count)
            drawn = db.session.scalar(count.where(Certificate.pdf_key.is_not(None)))
            pending = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.status == OutboxStatus.PENDING)
                .where(OutboxEvent.topic != STATS_TOPIC)  # the figures' rows, not certificates'
            )
            return int(issued or 0), int(drawn or 0), int(pending or 0)
        finally:
            db.session.remove()


def wait_for(condition: Callable[[], bool], seconds: float, what: str, *watched) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        for process in watched:
            assert process.poll() is None, f"{what}: the process exited\n{output(process)}"
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
        time.sleep(0.1)


def sweep_until_done(app: Flask, expected: int, seconds: float, *watched) -> None:  # type: ignore[no-untyped-def]
    """Run beat's sweep (``send_due``) until every certificate exists with its PDF and
    nothing is pending."""

    def done() -> bool:
        with job_context(app):
            try:
                send_due()
            finally:
                db.session.remove()
        return progress(app) == (expected, expected, 0)

    wait_for(done, seconds, f"{expected} certificates drawn", *watched)


def assert_one_valid_certificate_each(app: Flask, enrolment_ids: list[int]) -> None:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Certificate).order_by(Certificate.id)))
        assert sorted(c.enrolment_id for c in rows) == sorted(enrolment_ids)
        assert {c.kind for c in rows} == {CertificateKind.COURSE}
        assert {c.status for c in rows} == {CertificateStatus.VALID}
        assert len({c.serial for c in rows}) == len(rows)
        storage = get_storage()
        for certificate in rows:
            assert certificate.pdf_key is not None
            with storage.open(certificate.pdf_key) as stream:
                data = stream.read()
            assert data.rstrip().endswith(b"%%EOF"), certificate.serial
            assert len(pypdf.PdfReader(io.BytesIO(data)).pages) == 1
        dead = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.status != OutboxStatus.DONE)
            .where(OutboxEvent.topic != STATS_TOPIC)  # the figures' rows are not these tests'
        )
        assert dead == 0
        db.session.remove()


def completions(app: Flask, n: int) -> list[int]:
    """``n`` completed enrolments (one course), their events pending; no relay runs."""
    with app.app_context():
        _, _, _, enrolments = completed_course(n, capacity=n)
        ids = [e.id for e in enrolments]
        db.session.remove()
    return ids


def test_a_worker_killed_while_issuing_200_certificates_loses_none(app, fault_app, broker):
    enrolment_ids = completions(app, 200)
    with real_worker(fault_app, broker.url, "faults-a", env=TIMINGS) as worker:
        with job_context(fault_app):
            assert send_due() == 200 + len(outbox_ids(STATS_TOPIC))  # every due row
            db.session.remove()
        wait_for(lambda: progress(app)[0] >= 20, 60, "the first certificates", worker)
        kill_hard(worker)
    issued, _drawn, pending = progress(app)
    assert 20 <= issued < 200 and pending > 0  # killed midway
    with real_worker(fault_app, broker.url, "faults-a2", env=TIMINGS) as worker:
        sweep_until_done(fault_app, 200, 90, worker)
    assert_one_valid_certificate_each(app, enrolment_ids)


def _course_half_marked(learners: int):  # type: ignore[no-untyped-def]
    """A past two-session course whose learners were all present at the first session:
    marking the second completes each."""
    trainer = make_trainer(name="李老师")
    course = make_course(
        "危机干预", trainers=[trainer], sessions=2, first_session_at=PAST, capacity=learners
    )
    users = [make_user(name=f"学员{i}") for i in range(learners)]
    enrolments = [make_enrolment(course, user) for user in users]
    first = course.sessions[0]
    attendance.mark(
        trainer, first, [{"user_id": u.id, "status": "present"} for u in users], now=OVER
    )
    db.session.commit()
    return make_token(trainer), course.sessions[1].id, [u.id for u in users], enrolments


def test_completions_during_a_broker_outage_are_issued_when_it_is_back(app, fault_app, broker):
    with app.app_context():
        token, session_id, user_ids, enrolments = _course_half_marked(50)
        enrolment_ids = [e.id for e in enrolments]
        db.session.remove()
    with real_worker(fault_app, broker.url, "faults-b", env=TIMINGS) as worker:
        broker.stop()
        client = fault_app.test_client()
        for user_id in user_ids:
            response = client.post(
                f"/api/v1/sessions/{session_id}/attendance",
                json=[{"user_id": user_id, "status": "present"}],
                headers=bearer(token),
            )
            assert response.status_code == 200, response.get_data(as_text=True)
        with app.app_context():
            completed = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Enrolment)
                .where(Enrolment.status == EnrolmentStatus.COMPLETED)
            )
            assert completed == 50 and len(outbox_ids()) == 50
            db.session.remove()
        assert progress(app) == (0, 0, 50)  # written, waiting: nothing reached a worker
        broker.start()  # the same port
        sweep_until_done(fault_app, 50, 90, worker)
    assert_one_valid_certificate_each(app, enrolment_ids)


def _consume_in_process(app: Flask, event_id: int) -> str:
    with job_context(app):
        try:
            return consume(event_id, certificates.on_enrolment_completed)
        finally:
            db.session.remove()


def test_an_event_delivered_twice_and_consumed_in_process_at_once_issues_once(
    app, fault_app, broker
):
    enrolment_ids = completions(app, 30)
    with app.app_context():
        event_ids = outbox_ids()
        db.session.remove()
    celery_app = fault_app.extensions["celery"]
    with real_worker(fault_app, broker.url, "faults-c", env=TIMINGS) as worker:
        with ThreadPoolExecutor(4) as pool:
            local = []
            for event_id in event_ids:
                for _ in range(2):
                    celery_app.send_task(ISSUE_TASK, args=[event_id], queue="certificates")
                local.append(pool.submit(_consume_in_process, fault_app, event_id))
            results = [future.result() for future in local]
        assert set(results) <= {"done", "skipped"}
        sweep_until_done(fault_app, 30, 60, worker)
    assert_one_valid_certificate_each(app, enrolment_ids)
    with app.app_context():
        attempts = db.session.scalars(
            sa.select(OutboxEvent.attempts).where(OutboxEvent.id.in_(event_ids))
        ).all()
        assert set(attempts) == {1}  # each row's consumer ran once
        db.session.remove()


def _relay_until_empty(app: Flask, barrier: threading.Barrier) -> None:
    barrier.wait(10)
    while True:
        with job_context(app):
            try:
                if send_due(limit=7) == 0:
                    return
            finally:
                db.session.remove()


def test_two_relays_at_once_never_send_a_leased_row_twice(app, fault_app, broker, monkeypatch):
    enrolment_ids = completions(app, 60)
    claims: list[tuple[int, float]] = []
    lock = threading.Lock()
    real_claim = outbox.claim

    def recording_claim(*args, **kwargs):  # type: ignore[no-untyped-def]
        rows = real_claim(*args, **kwargs)
        with lock:
            claims.extend((row.id, time.monotonic()) for row in rows)
        return rows

    monkeypatch.setattr(outbox, "claim", recording_claim)
    with real_worker(fault_app, broker.url, "faults-c2", env=TIMINGS) as worker:
        barrier = threading.Barrier(2)
        relays = [
            threading.Thread(target=_relay_until_empty, args=(fault_app, barrier), daemon=True)
            for _ in range(2)
        ]
        for relay in relays:
            relay.start()
        for relay in relays:
            relay.join(30)
        assert not any(relay.is_alive() for relay in relays)
        with app.app_context():
            event_ids = outbox_ids()
            db.session.remove()
        assert {event_id for event_id, _ in claims} >= set(event_ids)
        sweep_until_done(fault_app, 60, 60, worker)
    last_claimed: dict[int, float] = {}
    for event_id, at in sorted(claims, key=lambda claim: claim[1]):
        if event_id in last_claimed:  # again only once its lease had run out
            assert at - last_claimed[event_id] >= LEASE_SECONDS - 0.5, event_id
        last_claimed[event_id] = at
    assert_one_valid_certificate_each(app, enrolment_ids)


def test_the_embedded_relay_killed_mid_drain_issues_everything_once_when_restarted(app):
    enrolment_ids = completions(app, 150)
    with embedded_relay(app, env=TIMINGS) as relay:
        wait_for(lambda: progress(app)[0] >= 15, 60, "the first certificates", relay)
        kill_hard(relay)
    issued, _drawn, pending = progress(app)
    assert 15 <= issued < 150 and pending > 0  # killed midway
    with embedded_relay(app, env=TIMINGS) as relay:
        wait_for(lambda: progress(app) == (150, 150, 0), 60, "every certificate drawn", relay)
    assert_one_valid_certificate_each(app, enrolment_ids)
