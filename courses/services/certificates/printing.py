"""One PDF of a course's valid certificates, for printing them in one go."""

from __future__ import annotations

from typing import BinaryIO

from flask_babel import lazy_gettext as _l

from courses.errors import Conflict
from courses.models import Course
from courses.services.certificates import pdf
from courses.services.certificates.queries import for_course
from courses.services.certificates.render import open_pdf


def print_course(course: Course, out: BinaryIO) -> int:
    """Write the drawn PDFs of the course's valid certificates, in the order of the
    holders' names, as one PDF to ``out``; returns the page count. Conflict while none
    has been drawn yet."""
    streams = [stream for c in for_course(course) if (stream := open_pdf(c)) is not None]
    if not streams:
        raise Conflict(
            _l("The course has no certificates ready to print yet."), code="no_certificates"
        )
    try:
        return pdf.merge(streams, out)
    finally:
        for stream in streams:
            stream.close()
