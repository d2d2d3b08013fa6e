"""The admins' certificate settings: the academy's name, the signatory and the seal
image printed on every certificate drawn from now on.

A seal is a PNG or JPEG image (told by its first bytes, not by its name) of at most
``SEAL_MAX_BYTES``, stored under a new key each time: certificates already issued keep
the key of the seal they were printed with (``facts["seal_key"]``), so an old seal is
never overwritten or deleted.
"""

from __future__ import annotations

import io
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from PIL import Image

from courses.db import db
from courses.errors import ValidationFailed
from courses.models import CertificateSettings, User
from courses.services import audit
from courses.services.certificates.facts import certificate_settings
from courses.services.permissions import require_admin
from courses.storage import FileTooLarge, get_storage, new_key

SEAL_MAX_BYTES = 2 * 1024 * 1024
NAME_LENGTH = 120
SIGNATORY_LENGTH = 60
#: The first bytes of the image types a seal may have, and their media types.
SEAL_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def seal_type(head: bytes) -> str | None:
    """The media type of an image that starts with ``head``, None when it is neither
    a PNG nor a JPEG."""
    for magic, media_type in SEAL_TYPES.items():
        if head.startswith(magic):
            return media_type
    return None


#: Pixels a seal may have: far more than print needs, far less than a decompression bomb.
SEAL_MAX_PIXELS = 16_000_000


def _decodes(data: bytes) -> bool:
    """Whether the whole image decodes (a truncated file would fail every certificate
    drawn with it), within ``SEAL_MAX_PIXELS``."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > SEAL_MAX_PIXELS:
                return False
            image.load()
    except (OSError, ValueError, Image.DecompressionBombError):
        return False
    return True


def _store_seal(stream: BinaryIO) -> str:
    head = stream.read(8)
    if seal_type(head) is None:
        raise ValidationFailed(
            fields={"seal": _l("The seal must be a PNG or JPEG image.")}, code="seal_not_image"
        )
    data = head + stream.read(SEAL_MAX_BYTES + 1 - len(head))
    if len(data) <= SEAL_MAX_BYTES and not _decodes(data):
        raise ValidationFailed(
            fields={"seal": _l("This image file is damaged or too large to print; save it again.")},
            code="seal_unreadable",
        )
    rest = io.BytesIO(data)
    key = new_key("seals")
    try:
        get_storage().save(rest, key, max_bytes=SEAL_MAX_BYTES)
    except FileTooLarge as error:
        raise ValidationFailed(
            fields={"seal": _l("The seal image may be at most 2 MB.")}, code="seal_too_large"
        ) from error
    return key


def update_settings(
    actor: User,
    academy_name: str,
    signatory: str,
    seal: BinaryIO | None = None,
    *,
    remove_seal: bool = False,
) -> CertificateSettings:
    """Save the settings (admins); ``seal``, when given, replaces the seal image, and
    ``remove_seal`` prints without one from now on (issued certificates keep theirs)."""
    require_admin(actor)
    academy_name = (academy_name or "").strip()
    signatory = (signatory or "").strip()
    problems = {}
    if len(academy_name) > NAME_LENGTH:
        problems["academy_name"] = _l("At most %(n)d characters.", n=NAME_LENGTH)
    if len(signatory) > SIGNATORY_LENGTH:
        problems["signatory"] = _l("At most %(n)d characters.", n=SIGNATORY_LENGTH)
    if problems:
        raise ValidationFailed(fields=problems)
    settings = db.session.get(CertificateSettings, 1)
    if settings is None:  # the first save (reading alone never creates the row)
        settings = CertificateSettings(id=1)
        db.session.add(settings)
    settings.academy_name = academy_name
    settings.signatory = signatory
    if seal is not None:
        settings.seal_key = _store_seal(seal)
    elif remove_seal:
        settings.seal_key = None
    settings.updated_by_id = actor.id
    audit.record(actor, "certificate.settings", "certificate_settings", settings.id)
    return settings


def seal_image() -> tuple[bytes, str] | None:
    """The current seal's bytes and media type, None when there is none (or its file is
    missing)."""
    key = certificate_settings().seal_key
    if not key:
        return None
    try:
        with get_storage().open(key) as stream:
            data = stream.read()
    except FileNotFoundError:
        return None
    media_type = seal_type(data[:8])
    return (data, media_type) if media_type else None
