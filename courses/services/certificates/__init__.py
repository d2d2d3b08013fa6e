"""Certificates (结业证书, programme certificates, 继续教育证明): issued by workers
from completions, drawn as Chinese PDFs with a QR code to the public verification.

==========  ==============================================================================
serials     ``GC-2025-000123-7``: prefix, year, sequence, version, check character
facts       the snapshot taken at issue, which everything printed or shown reads
issue       issue (course, programme), revoke, re-issue; the withdrawn-completion rule
transcript  the continuing-education proof for a year or a registration cycle
render      drawing the PDF into storage (consumer of ``certificate.issued``)
pdf, fonts  the PDF itself: layout, embedded subset CJK fonts with fallbacks, QR code
queries     the learner's list, a course's, the admins' search, verification, downloads
printing    one PDF of a course's valid certificates, for printing
settings    the academy's name, the signatory and the seal image (admins)
reconcile   what should exist and does not, for beat
events      the outbox consumers: ``enrolment.completed`` and ``certificate.issued``
==========  ==============================================================================
"""

from courses.services.certificates.events import on_certificate_issued, on_enrolment_completed
from courses.services.certificates.facts import VERIFY_PATH, certificate_settings, verify_url
from courses.services.certificates.issue import (
    ISSUED_TOPIC,
    issue_for_enrolment,
    issue_for_programme,
    reissue,
    revoke,
    revoke_for_withdrawn,
)
from courses.services.certificates.printing import print_course
from courses.services.certificates.queries import (
    Verification,
    can_download,
    course_page,
    for_course,
    get_by_serial,
    history,
    mask_name,
    mine,
    mine_page,
    pdf_for_download,
    search,
    verify,
)
from courses.services.certificates.reconcile import (
    certificates_without_pdf,
    enrolments_without_certificate,
    programmes_without_certificate,
)
from courses.services.certificates.render import draw, open_pdf, render_pdf
from courses.services.certificates.serials import MalformedSerial, WrongCheckCharacter
from courses.services.certificates.settings import SEAL_MAX_BYTES, seal_image, update_settings
from courses.services.certificates.transcript import request_transcript

__all__ = [
    "ISSUED_TOPIC",
    "SEAL_MAX_BYTES",
    "VERIFY_PATH",
    "MalformedSerial",
    "Verification",
    "WrongCheckCharacter",
    "can_download",
    "certificate_settings",
    "certificates_without_pdf",
    "course_page",
    "draw",
    "enrolments_without_certificate",
    "for_course",
    "get_by_serial",
    "history",
    "issue_for_enrolment",
    "issue_for_programme",
    "mask_name",
    "mine",
    "mine_page",
    "on_certificate_issued",
    "on_enrolment_completed",
    "open_pdf",
    "pdf_for_download",
    "print_course",
    "programmes_without_certificate",
    "reissue",
    "render_pdf",
    "request_transcript",
    "revoke",
    "revoke_for_withdrawn",
    "seal_image",
    "search",
    "update_settings",
    "verify",
    "verify_url",
]
