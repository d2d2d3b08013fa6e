"""The outbox consumers of the certificates: each reloads by id and is idempotent, so a
duplicated, retried or late event changes nothing that is already right."""

from __future__ import annotations

from typing import Any

from courses.services.certificates.issue import issue_for_enrolment, issue_for_programme
from courses.services.certificates.render import render_pdf


def on_enrolment_completed(payload: dict[str, Any]) -> None:
    """``enrolment.completed``: the course certificate, then the programme's when this
    completion finishes it. A completion withdrawn meanwhile issues nothing."""
    certificate = issue_for_enrolment(int(payload["enrolment_id"]))
    if certificate is not None and certificate.programme_id is not None:
        issue_for_programme(certificate.programme_id, certificate.user_id)


def on_certificate_issued(payload: dict[str, Any]) -> None:
    """``certificate.issued``: draw and store the PDF."""
    render_pdf(int(payload["certificate_id"]))
