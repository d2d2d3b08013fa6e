"""The outbox consumers of the certificates: each reloads by id and is idempotent, so a
duplicated, retried or late event changes nothing that is already right."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from courses.db import db
from courses.models import Course, Enrolment, Programme
from courses.services.certificates.issue import issue_for_enrolment, issue_for_programme
from courses.services.certificates.render import render_pdf


def on_enrolment_completed(payload: dict[str, Any]) -> None:
    """``enrolment.completed``: the course certificate, then the programme's when this
    completion finishes it. A completion withdrawn meanwhile issues nothing.

    Locks are taken in one order everywhere: the programme, the enrolment, the serial
    counter. The programme comes first here, before the course certificate takes the
    counter, so that a reconciler issuing the programme's certificate cannot deadlock
    with this."""
    enrolment_id = int(payload["enrolment_id"])
    programme_id = db.session.scalar(
        sa.select(Course.programme_id)
        .join(Enrolment, Enrolment.course_id == Course.id)
        .where(Enrolment.id == enrolment_id)
    )
    if programme_id is not None:
        db.session.get(Programme, programme_id, with_for_update=True)
    certificate = issue_for_enrolment(enrolment_id)
    if certificate is not None and certificate.programme_id is not None:
        issue_for_programme(certificate.programme_id, certificate.user_id)


def on_certificate_issued(payload: dict[str, Any]) -> None:
    """``certificate.issued``: draw and store the PDF."""
    render_pdf(int(payload["certificate_id"]))
