"""The outbox relay: hands committed outbox rows to the workers.

With a broker (``ACADEMY_BROKER_URL``), every process that commits outbox rows wakes
its relay thread after the commit; the thread leases the due rows
(``outbox.claim``, ``SKIP LOCKED``) and sends one task per row to its queue. A send
that fails (the broker is down) releases nothing and fails nothing: the lease runs
out and beat's sweep sends the row again, so an outage delays work and loses none.
Requests never wait for the broker: sending happens on the thread.

Without a broker (the embedded default, ``academy demo``), the in-process relay drains
the same table with the same handlers the tasks call (``workers.outbox.consume``), on
a thread of the serving process. A process killed mid-drain leaves the rest pending;
the next start drains them.
"""

from __future__ import annotations

import logging
import os
import threading

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from courses.db import db
from courses.models import OutboxEvent
from courses.services import outbox
from courses.services.outbox import Handler
from workers import job_context
from workers.outbox import consume
from workers.routes import consumed_topics

log = logging.getLogger(__name__)

#: How often the in-process relay looks for rows that came due (a retry's backoff).
DRAIN_EVERY_SECONDS = 5.0
BATCH = 100


def _topics() -> list[str]:
    return list(consumed_topics())


def handler_for(topic: str) -> Handler:
    return consumed_topics()[topic].handler


def send_due(limit: int = 500) -> int:
    """Lease due rows and send them to their queues (in an app context; commits the
    lease first, so that a worker never sees a row before its lease is stored).
    Returns how many were sent; a broker error stops the batch and is logged."""
    claimed = outbox.claim(_topics(), limit=limit)
    db.session.commit()
    celery_app = current_app.extensions["celery"]
    sent = 0
    for row in claimed:
        route = consumed_topics()[row.topic]
        try:
            celery_app.send_task(route.task, args=[row.id], queue=route.queue, retry=False)
        except Exception as error:  # the broker is unreachable: the sweep sends it later
            log.warning(
                "could not send outbox event %s (%s); it is sent again later", row.id, error
            )
            break
        sent += 1
    return sent


def drain(app: Flask, limit: int = BATCH) -> int:
    """Process every due row in this process (the in-process relay), each committed on
    its own; returns how many were handled."""
    handled = 0
    topics = _topics()
    tried: set[int] = set()  # a row whose failure could not be counted is not retried here
    while True:
        with job_context(app):
            batch = [row for row in outbox.due(topics, limit=limit) if row.id not in tried]
            db.session.remove()
        if not batch:
            return handled
        tried.update(row.id for row in batch)
        for row in batch:
            with job_context(app):
                try:
                    consume(row.id, consumed_topics()[row.topic].handler)
                except Exception:  # counted on the row (backoff, then dead); go on
                    log.exception("outbox event %s failed in the in-process relay", row.id)
                finally:
                    db.session.remove()
            handled += 1
        # Handling writes rows of its own (a certificate's drawing): read again until
        # nothing is due; a failed row is not due again before its backoff.


class Relay(threading.Thread):
    """One per process: wakes after a commit that wrote outbox rows (and, in-process,
    every ``DRAIN_EVERY_SECONDS``) and sends or drains."""

    def __init__(self, app: Flask, in_process: bool) -> None:
        super().__init__(name="academy-outbox-relay", daemon=True)
        self.app = app
        self.in_process = in_process
        self.pid = os.getpid()
        self._wake = threading.Event()
        self._stopped = threading.Event()

    def kick(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()

    def run(self) -> None:
        interval = DRAIN_EVERY_SECONDS if self.in_process else None
        while not self._stopped.is_set():
            self._wake.wait(interval)
            self._wake.clear()
            if self._stopped.is_set():
                return
            try:
                self.once()
            except Exception:  # logged; the rows stay pending and are tried again
                log.exception("the outbox relay failed; it tries again")

    def once(self) -> int:
        if self.in_process:
            return drain(self.app)
        with job_context(self.app):
            try:
                return send_due()
            finally:
                db.session.remove()


_relays: dict[int, Relay] = {}
_lock = threading.Lock()


def relay_for(app: Flask) -> Relay | None:
    """This process's relay for ``app``, started on first use (after a fork too); None
    when the app has none (no broker and no in-process relay asked for)."""
    in_process = bool(app.config.get("IN_PROCESS_RELAY"))
    if not app.config.get("BROKER_URL") and not in_process:
        return None
    key = id(app)
    with _lock:
        relay = _relays.get(key)
        if relay is None or relay.pid != os.getpid() or not relay.is_alive():
            relay = Relay(app, in_process=in_process)
            relay.start()
            _relays[key] = relay
    return relay


def start_in_process_relay(app: Flask) -> Relay:
    """The embedded default's relay (``academy demo``): drains at once, then keeps on."""
    app.config["IN_PROCESS_RELAY"] = True
    relay = relay_for(app)
    assert relay is not None
    relay.kick()
    return relay


def _note_outbox_rows(session: Session, flush_context: object, instances: object) -> None:
    # A follow-up (leased by its writer, who handles it: ``outbox.emit``) wakes no one.
    if any(isinstance(obj, OutboxEvent) and obj.available_at is None for obj in session.new):
        session.info["outbox_written"] = True


def _after_commit(session: Session) -> None:
    # SQLAlchemy dispatches after_commit for a savepoint's release too: the rows are not
    # committed yet then, and a relay woken now would not see them (nor be woken again).
    if session.in_nested_transaction():
        return
    if not session.info.pop("outbox_written", False):
        return
    try:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    except RuntimeError:
        return
    relay = relay_for(app)
    if relay is not None:
        relay.kick()


def _forget(session: Session, *args: object) -> None:
    if not session.in_nested_transaction():  # a savepoint's rollback keeps the outer rows
        session.info.pop("outbox_written", None)


def init_app(app: Flask) -> None:
    """Wake the relay after every commit that wrote outbox rows (once per process)."""
    if not event.contains(Session, "before_flush", _note_outbox_rows):
        event.listen(Session, "before_flush", _note_outbox_rows)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _forget)
