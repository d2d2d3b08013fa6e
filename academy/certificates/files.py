"""Certificate PDFs: one certificate for its holder, the course's trainers and admins;
a course's valid certificates in one file for printing."""

from __future__ import annotations

import io
from typing import Any

from flask import render_template, send_file
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from academy.access import STAFF, USER, allow
from academy.certificates import bp
from academy.downloads import content_disposition
from academy.forms import attempt
from courses.errors import DomainError
from courses.models import Certificate
from courses.services import certificates, permissions


def file_name(certificate: Certificate) -> str:
    """``结业证书-GC-2025-000123-7.pdf``: what it is and its number."""
    title = (certificate.facts or {}).get("title") or _("Certificate")
    return f"{title}-{certificate.serial}.pdf"


def send_pdf(stream: Any, name: str) -> Response:
    response = send_file(
        stream, mimetype="application/pdf", conditional=False, etag=False, max_age=0
    )
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/certificates/<serial>.pdf")
@allow(USER)
def download(serial: str) -> Response | tuple[str, int]:
    # Refusals are the error pages' (403, 404); one still being drawn gets its own page.
    got = attempt(
        lambda: certificates.pdf_for_download(current_user, serial), unshown=(DomainError,)
    )
    if got.code == "pdf_not_ready":
        certificate = certificates.get_by_serial(serial)
        page = render_template("certificates/drawing.html", certificate=certificate, course=None)
        return page, 409
    if not got.ok:
        raise got.error
    certificate, stream = got.value
    return send_pdf(stream, file_name(certificate))


@bp.get("/courses/<int:course_id>/certificates.pdf")
@allow(STAFF, owns="course")
def course_pdf(course_id: int) -> Response | tuple[str, int]:
    course = permissions.managed_course(current_user, course_id)
    out = io.BytesIO()
    printed = attempt(lambda: certificates.print_course(course, out))
    if not printed.ok:
        page = render_template("certificates/drawing.html", certificate=None, course=course)
        return page, 409
    out.seek(0)
    return send_pdf(out, _("Certificates of %(title)s.pdf", title=course.title))
