"""Drawing a certificate's PDF into storage (the consumer of ``certificate.issued``).

The file is keyed by the serial and written through ``courses.storage`` (a temporary
name moved into place), so drawing twice — a retried task, a racing reconciler — leaves
one complete file, and a reader never sees half of one.
"""

from __future__ import annotations

import io
import logging
import threading

from courses.db import db
from courses.models import Certificate, CertificateStatus
from courses.services.certificates import pdf
from courses.storage import get_storage

log = logging.getLogger(__name__)


def pdf_key(certificate: Certificate) -> str:
    return f"certificates/{certificate.serial}.pdf"


def _seal(key: str | None) -> bytes | None:
    if not key:
        return None
    try:
        with get_storage().open(key) as stream:
            return stream.read()
    except FileNotFoundError:
        log.warning("the certificate seal %s is missing; drawing without it", key)
        return None


#: One drawing at a time per process: the PDF library's font objects keep state while a
#: document is built, and the embedded default draws from two threads (relay, reconciler).
_DRAWING = threading.Lock()


def draw(certificate: Certificate) -> bytes:
    """The PDF of ``certificate``, from its snapshot."""
    out = io.BytesIO()
    facts = certificate.facts
    seal = _seal(facts.get("seal_key"))
    with _DRAWING:
        pdf.render(facts, out, seal=seal, signatory=facts.get("signatory"))
    return out.getvalue()


def render_pdf(certificate_id: int) -> Certificate | None:
    """Store the PDF of a certificate that has none yet (a superseded or revoked one
    still gets its file: it was issued). Returns the certificate, None if unknown."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        return None
    storage = get_storage()
    key = pdf_key(certificate)
    if certificate.pdf_key == key and storage.exists(key):
        return certificate
    storage.save(io.BytesIO(draw(certificate)), key)
    certificate.pdf_key = key
    return certificate


def open_pdf(certificate: Certificate) -> io.BufferedIOBase | None:
    """The stored PDF for a download, None while it is still being drawn."""
    if certificate.pdf_key is None or certificate.status == CertificateStatus.SUPERSEDED:
        return None
    try:
        return get_storage().open(certificate.pdf_key)  # type: ignore[return-value]
    except FileNotFoundError:
        return None
