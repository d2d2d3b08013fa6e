"""Certificates API: the learner's own, a course's (its trainers and admins), the public
verification, revocation and re-issue (admins), and the continuing-education proof.
Each handler parses, calls one service function and answers; the rules live in
``courses.services.certificates``."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from werkzeug.wrappers import Response

from academy.access import ADMIN, PUBLIC, STAFF, USER, allow
from academy.api.auth import BEARER, current_api_user
from academy.api.schemas import ErrorSchema, ListArgsSchema, error_responses, list_schema
from academy.api.schemas_certificates import (
    CertificateSchema,
    RevokeSchema,
    TranscriptRequestSchema,
    VerificationSchema,
    listed,
)
from academy.certificates.files import file_name, send_pdf
from courses.models import Certificate
from courses.services import certificates, permissions

blp = Blueprint("api_certificates", __name__, url_prefix="/api/v1", description="certificates")

CertificateListSchema = list_schema(CertificateSchema, "CertificateList")
ERRORS = {
    403: "Not yours to see or change",
    404: "error.code: malformed_serial, wrong_check_character or certificate_not_found",
    409: "not_valid: only a valid certificate can be revoked or re-issued",
    422: "A rule refused: see error.code and error.fields (reason, no_hours, no_cycle, "
    "invalid_year)",
}
_document_errors = error_responses(blp, ERRORS)


@blp.get("/me/certificates")
@allow(USER)
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, CertificateListSchema)
@blp.doc(security=BEARER)
def my_certificates(args: dict[str, Any]) -> dict[str, Any]:
    """Your certificates, newest first (superseded versions left out): ``holder`` is
    masked as on verification, ``holder_name`` is your full name; ``pdf_url`` is null
    while the PDF is being drawn."""
    return listed(certificates.mine_page(current_api_user(), args["page"], args["per_page"]))


@blp.get("/certificates/<serial>")
@allow(PUBLIC)
@blp.response(200, VerificationSchema)
@_document_errors(404)
def verify(serial: str) -> certificates.Verification:
    """Verify a certificate number (anyone; limited per address): valid or revoked, the
    masked holder, course, class hours and dates; a superseded one gives its status only."""
    return certificates.verify(serial[:64])


@blp.get("/certificates/<serial>/pdf")
@allow(USER)
@blp.response(200, description="The PDF, as an attachment")
@blp.alt_response(409, schema=ErrorSchema, description="pdf_not_ready: still being drawn")
@_document_errors(403, 404)
@blp.doc(security=BEARER)
def download(serial: str) -> Response:
    """Download a certificate's PDF: its holder, the course's trainers and admins."""
    certificate, stream = certificates.pdf_for_download(current_api_user(), serial)
    return send_pdf(stream, file_name(certificate))


@blp.post("/certificates/<serial>/revoke")
@allow(ADMIN)
@blp.arguments(RevokeSchema)
@blp.response(200, CertificateSchema)
@_document_errors(403, 404, 409, 422)
@blp.doc(security=BEARER)
def revoke(data: dict[str, Any], serial: str) -> Certificate:
    """Revoke a valid certificate, with a reason (admins; kept in the audit log)."""
    certificate = certificates.get_by_serial(serial)
    return certificates.revoke(certificate, current_api_user(), data["reason"])


@blp.post("/certificates/<serial>/reissue")
@allow(ADMIN)
@blp.response(201, CertificateSchema)
@_document_errors(403, 404, 409)
@blp.doc(security=BEARER)
def reissue(serial: str) -> Certificate:
    """A new version (``…-V2-…``) with the holder's current name, after a correction;
    the old one becomes superseded (admins)."""
    certificate = certificates.get_by_serial(serial)
    return certificates.reissue(certificate, current_api_user())


@blp.get("/courses/<int:course_id>/certificates")
@allow(STAFF, owns="course")
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, CertificateListSchema)
@_document_errors(403, 404)
@blp.doc(security=BEARER)
def course_certificates(args: dict[str, Any], course_id: int) -> dict[str, Any]:
    """A course's valid certificates in the order of the holders' names (its trainers
    and admins)."""
    course = permissions.managed_course(current_api_user(), course_id)
    return listed(certificates.course_page(course, args["page"], args["per_page"]))


@blp.post("/me/transcripts")
@allow(USER)
@blp.arguments(TranscriptRequestSchema)
@blp.response(201, CertificateSchema)
@_document_errors(422)
@blp.doc(security=BEARER)
def request_transcript(data: dict[str, Any]) -> Certificate:
    """Ask for a continuing-education proof (继续教育证明) of ``year`` or, with
    ``cycle: true``, of your current registration cycle; ``pdf_url`` is null until it
    has been drawn."""
    return certificates.request_transcript(
        current_api_user(), year=data["year"], cycle=data["cycle"]
    )
