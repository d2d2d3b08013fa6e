"""Certificate tasks, on the ``certificates`` queue: thin wrappers over
``courses.services.certificates``. Each reloads by id and is idempotent."""

from __future__ import annotations

import logging

from celery import shared_task

from courses.db import db
from courses.services import certificates
from workers.outbox import RETRYING, consume
from workers.routes import route

log = logging.getLogger(__name__)
#: Items one reconciler run settles at most (runs may overlap harmlessly: all is idempotent).
RUN_LIMIT = 5000


@route("enrolment.completed", "certificates", certificates.on_enrolment_completed)
@shared_task(name="academy.certificates.issue", **RETRYING)
def issue(event_id: int) -> str:
    """Issue the certificate of a completion (and its programme's, when complete)."""
    return consume(event_id, certificates.on_enrolment_completed)


@route("certificate.issued", "certificates", certificates.on_certificate_issued)
@shared_task(name="academy.certificates.render", **RETRYING)
def render(event_id: int) -> str:
    """Draw and store a new certificate's PDF."""
    return consume(event_id, certificates.on_certificate_issued)


def _each(ids: list, act) -> int:  # type: ignore[no-untyped-def,type-arg]
    done = 0
    for item in ids:
        try:
            act(item)
            db.session.commit()
            done += 1
        except Exception:  # one bad item must not stop the others; it is tried next run
            db.session.rollback()
            log.exception("the reconciler could not settle %r", item)
    return done


def _settle_all(find, act) -> int:  # type: ignore[no-untyped-def]
    """Settle what ``find`` returns, batch after batch, until it returns nothing new
    (an item that keeps failing is tried once per run, not forever)."""
    seen: set = set()  # type: ignore[type-arg]
    done = 0
    while len(seen) < RUN_LIMIT:  # a bigger backlog is left to the next run
        batch = [item for item in find() if item not in seen]
        if not batch:
            return done
        seen.update(batch)
        done += _each(batch, act)
    return done


def reconcile_once() -> dict[str, int]:
    """Issue what should exist and does not; each item in its own transaction. Runs
    until nothing is left (after demo data or an outage there may be thousands)."""
    issued = _settle_all(
        certificates.enrolments_without_certificate, certificates.issue_for_enrolment
    )
    programmes = _settle_all(
        certificates.programmes_without_certificate,
        lambda pair: certificates.issue_for_programme(*pair),
    )
    drawn = _settle_all(certificates.certificates_without_pdf, certificates.render_pdf)
    db.session.commit()
    if issued or drawn:
        log.info("reconciler: %s certificate(s) issued, %s drawn", issued, drawn)
    return {"issued": issued, "programmes_checked": programmes, "drawn": drawn}


@shared_task(name="academy.certificates.reconcile", **RETRYING)
def reconcile() -> dict[str, int]:
    """Beat: completions without a certificate, completed programmes without theirs,
    certificates without a PDF."""
    return reconcile_once()
