"""The types of file a course material may be, told by content rather than by name.

A file is one of the allowed types when its first bytes say so: the PDF, image and
video signatures, the package's ``[Content_Types].xml`` for Office Open XML, the
``mimetype`` entry for OpenDocument, and the main stream's name for the legacy Office
compound files. Programs and scripts are refused outright; each type lists the
extensions a file of it may carry and the content type stored and sent for each.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from typing import IO, Any

from flask_babel import lazy_gettext as _l

from courses.errors import ValidationFailed

_HEAD_BYTES = 4096


@dataclass(frozen=True)
class FileType:
    name: str
    label: str
    #: extension → the content type stored and sent for it
    extensions: dict[str, str]


PDF = FileType("pdf", "PDF", {"pdf": "application/pdf"})
DOCX = FileType(
    "docx",
    "Word",
    {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
)
XLSX = FileType(
    "xlsx", "Excel", {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
)
PPTX = FileType(
    "pptx",
    "PowerPoint",
    {"pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
)
DOC = FileType("doc", "Word", {"doc": "application/msword"})
XLS = FileType("xls", "Excel", {"xls": "application/vnd.ms-excel"})
PPT = FileType("ppt", "PowerPoint", {"ppt": "application/vnd.ms-powerpoint"})
ODT = FileType("odt", "OpenDocument", {"odt": "application/vnd.oasis.opendocument.text"})
ODS = FileType("ods", "OpenDocument", {"ods": "application/vnd.oasis.opendocument.spreadsheet"})
ODP = FileType("odp", "OpenDocument", {"odp": "application/vnd.oasis.opendocument.presentation"})
PNG = FileType("png", "PNG", {"png": "image/png"})
JPEG = FileType("jpeg", "JPEG", {"jpg": "image/jpeg", "jpeg": "image/jpeg"})
GIF = FileType("gif", "GIF", {"gif": "image/gif"})
WEBP = FileType("webp", "WebP", {"webp": "image/webp"})
MP4 = FileType("mp4", "MP4/MOV", {"mp4": "video/mp4", "m4v": "video/mp4", "mov": "video/quicktime"})
WEBM = FileType("webm", "WebM", {"webm": "video/webm"})

#: Main parts of the Office Open XML packages we accept (macro-enabled ones are not).
_OOXML_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
}
_OPENDOCUMENT = {
    b"application/vnd.oasis.opendocument.text": ODT,
    b"application/vnd.oasis.opendocument.spreadsheet": ODS,
    b"application/vnd.oasis.opendocument.presentation": ODP,
}
#: The stream each legacy Office format keeps in its compound file, in UTF-16LE.
_OLE_STREAMS = (
    (DOC, ("WordDocument",)),
    (XLS, ("Workbook", "Book")),
    (PPT, ("PowerPoint Document",)),
)
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: ftyp brands of still images in the ISO media container (HEIF, AVIF): not videos.
_IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
_EXECUTABLE_SIGNATURES = (b"MZ", b"\x7fELF", b"#!", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe")

ALL_TYPES = (PDF, DOCX, XLSX, PPTX, DOC, XLS, PPT, ODT, ODS, ODP, PNG, JPEG, GIF, WEBP, MP4, WEBM)
ALLOWED_EXTENSIONS = frozenset(ext for file_type in ALL_TYPES for ext in file_type.extensions)
#: For the ``accept`` attribute of upload fields: a hint to browsers, not a check.
ACCEPT = ",".join(f".{ext}" for ext in sorted(ALLOWED_EXTENSIONS))

ALLOWED_MESSAGE = _l(
    "Upload a PDF, Office (Word, Excel, PowerPoint), image (PNG, JPEG, GIF, WebP) "
    "or video (MP4, WebM, MOV) file."
)


def unsupported(message: Any) -> ValidationFailed:
    """The error for a file of no allowed type (``unsupported_file_type``, on ``file``)."""
    return ValidationFailed(message, fields={"file": [message]}, code="unsupported_file_type")


def detect_type(stream: IO[bytes]) -> FileType | None:
    """The allowed type a seekable stream holds, judged by content; None if none.

    Raises ``ValidationFailed`` (``unsupported_file_type``) for programs and scripts.
    The stream is left at its start.
    """
    stream.seek(0)
    head = stream.read(_HEAD_BYTES)
    stream.seek(0)
    if head.startswith(_EXECUTABLE_SIGNATURES):
        raise unsupported(
            _l(
                "A program or a script cannot be a course material. %(allowed)s",
                allowed=ALLOWED_MESSAGE,
            )
        )
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp" and head[8:12] not in _IMAGE_BRANDS and len(head) >= 12:
        return MP4
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"\x42\x82\x84webm" in head:
        return WEBM
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(stream)
    if head.startswith(_OLE_SIGNATURE):
        return _ole_type(stream)
    return None


def _zip_type(stream: IO[bytes]) -> FileType | None:
    try:
        with zipfile.ZipFile(stream) as package:
            names = set(package.namelist())
            if "[Content_Types].xml" in names:
                info = package.getinfo("[Content_Types].xml")
                if info.file_size > 1024 * 1024:
                    return None
                content_types = package.read(info).decode("utf-8", "replace")
                for part, file_type in _OOXML_MAIN_PARTS.items():
                    if f'ContentType="{part}"' in content_types:
                        return file_type
                return None
            if "mimetype" in names:
                return _OPENDOCUMENT.get(package.read("mimetype")[:100].strip())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, KeyError, ValueError):
        return None
    finally:
        stream.seek(0)
    return None


def _ole_type(stream: IO[bytes]) -> FileType | None:
    """A legacy Office compound file, told apart by the name of its main stream."""
    wanted = {
        name.encode("utf-16-le"): file_type for file_type, names in _OLE_STREAMS for name in names
    }
    overlap = max(len(name) for name in wanted)
    tail = b""
    try:
        while chunk := stream.read(1024 * 1024):
            window = tail + chunk
            for name, file_type in wanted.items():
                if name in window:
                    return file_type
            tail = window[-overlap:]
    finally:
        stream.seek(0)
    return None
