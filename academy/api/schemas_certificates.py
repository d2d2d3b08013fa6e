"""Marshmallow schemas of the certificate API; the field names are SPEC §5's."""

from __future__ import annotations

from typing import Any

from flask import url_for
from marshmallow import Schema, fields, validate

from courses.models import Certificate, CertificateKind, CertificateStatus
from courses.services.certificates import mask_name
from courses.services.pagination import Page


def pdf_url(certificate: Certificate) -> str | None:
    """The download's path, None while the PDF is being drawn (or for a superseded one)."""
    if certificate.pdf_key is None or certificate.status == CertificateStatus.SUPERSEDED:
        return None
    return url_for("api_certificates.download", serial=certificate.serial)


class CertificateSchema(Schema):
    """A certificate as its holder, its course's trainers and admins see it."""

    class Meta:
        name = "Certificate"

    serial = fields.String()
    kind = fields.Enum(CertificateKind, by_value=True)
    status = fields.Enum(CertificateStatus, by_value=True)
    holder = fields.Method("dump_holder", metadata={"description": "the masked name"})
    holder_name = fields.String(metadata={"description": "the full name, as printed"})
    course_title = fields.String(attribute="title")
    class_hours = fields.Float()
    issued_at = fields.DateTime(format="iso")
    revoked_at = fields.DateTime(format="iso", allow_none=True)
    revoked_reason = fields.String(allow_none=True)
    version = fields.Integer()
    pdf_url = fields.Function(pdf_url, metadata={"description": "null while being drawn"})
    verify_url = fields.Function(
        lambda c: url_for("certificates.verify", serial=c.serial),
        metadata={"description": "the public verification page"},
    )

    def dump_holder(self, certificate: Certificate) -> str:
        return mask_name(certificate.holder_name)


class VerificationSchema(Schema):
    """What anyone may learn from a serial; a superseded one tells its status only."""

    class Meta:
        name = "CertificateVerification"

    serial = fields.String()
    kind = fields.Enum(CertificateKind, by_value=True)
    status = fields.Enum(CertificateStatus, by_value=True)
    holder = fields.String(allow_none=True, metadata={"description": "masked: 周*健"})
    course_title = fields.String(allow_none=True)
    class_hours = fields.Float(allow_none=True)
    issued_at = fields.DateTime(format="iso", allow_none=True)
    revoked_at = fields.DateTime(format="iso", allow_none=True)


class RevokeSchema(Schema):
    reason = fields.String(
        load_default="", metadata={"description": "required: why it is revoked (≤ 500)"}
    )


class TranscriptRequestSchema(Schema):
    year = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=2000, max=2100),
        metadata={"description": "a calendar year; default this year"},
    )
    cycle = fields.Boolean(
        load_default=False, metadata={"description": "true: the current registration cycle"}
    )


def listed(page: Page[Any]) -> dict[str, Any]:
    """The list envelope of one page (counted in SQL)."""
    return {
        "items": page.items,
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
    }
