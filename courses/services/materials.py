"""Course materials (课件): validated uploads by course managers, downloads by the
course's enrolled learners, trainers and admins.

A file is accepted by what it contains, not by its name: its first bytes (and, for
Office Open XML, the package's ``[Content_Types].xml``) must show an allowed type, and
the name's extension must agree. The bytes go to the storage backend under a random
key; the row is written in the caller's transaction. Nothing is left half-done: a file
stored for a transaction that does not commit is removed, and a deleted material's file
is removed only once the deletion has been committed.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import IO, Any, BinaryIO

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, SessionTransaction

from courses.db import database_id, db
from courses.errors import NotFound, PermissionDenied, ValidationFailed
from courses.models import (
    Course,
    CourseMaterial,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    User,
)
from courses.services import audit
from courses.services.courses.rules import TITLE_LENGTH
from courses.services.lookups import get_course
from courses.services.permissions import can_manage_course, can_view_course
from courses.storage import FileTooLarge, Storage, get_storage, new_key

DEFAULT_MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_TITLE_LENGTH = TITLE_LENGTH
MAX_FILENAME_LENGTH = 255
DOWNLOAD_STATUSES = (EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED)
_HEAD_BYTES = 4096
_SPOOL_IN_MEMORY = 8 * 1024 * 1024
_UNSAFE_CHARACTERS = re.compile(r'[<>:"/\\|?*]')


# --- file types ---------------------------------------------------------------------


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

_ALLOWED_MESSAGE = _l(
    "Upload a PDF, Office (Word, Excel, PowerPoint), image (PNG, JPEG, GIF, WebP) "
    "or video (MP4, WebM, MOV) file."
)


def _unsupported(message: Any) -> ValidationFailed:
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
        raise _unsupported(
            _l(
                "A program or a script cannot be a course material. %(allowed)s",
                allowed=_ALLOWED_MESSAGE,
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


# --- names and limits ---------------------------------------------------------------


def max_upload_bytes() -> int:
    if not has_app_context():
        return DEFAULT_MAX_UPLOAD_BYTES
    config = current_app.config
    return int(
        config.get("MAX_UPLOAD_BYTES")
        or config.get("MAX_CONTENT_LENGTH")
        or DEFAULT_MAX_UPLOAD_BYTES
    )


def clean_filename(raw: str | None) -> str:
    """A name fit for display and for Content-Disposition: no folders, no control
    characters, no characters that file systems refuse; Chinese characters are kept."""
    name = unicodedata.normalize("NFC", str(raw or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = _UNSAFE_CHARACTERS.sub("_", name).strip().lstrip(".").strip()
    if len(name) > MAX_FILENAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        if dot and len(ext) <= 10:
            name = stem[: MAX_FILENAME_LENGTH - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_FILENAME_LENGTH]
    return name


def _extension(filename: str) -> str:
    stem, dot, ext = filename.rpartition(".")
    return ext.lower() if dot and stem else ""


def _seekable_copy(stream: BinaryIO, limit: int) -> IO[bytes]:
    """The stream itself when seekable, otherwise a temporary copy (at most ``limit``)."""
    try:
        if stream.seekable():
            return stream
    except (AttributeError, ValueError):
        pass
    copy = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 (returned)
    size = 0
    while chunk := stream.read(1024 * 1024):
        size += len(chunk)
        if size > limit:
            copy.close()
            raise _too_large(limit)
        copy.write(chunk)
    copy.seek(0)
    return copy


def _too_large(limit: int) -> ValidationFailed:
    megabytes = f"{limit / 1024 / 1024:.1f}".removesuffix(".0")
    message = _l("The file is too large: at most %(size)s MB.", size=megabytes)
    return ValidationFailed(message, fields={"file": [message]}, code="file_too_large")


# --- finding ------------------------------------------------------------------------


def get(material_id: int) -> CourseMaterial:
    material = db.session.get(CourseMaterial, material_id)
    if material is None:
        raise NotFound(_l("This material does not exist."))
    return material


def course_for_viewer(viewer: User | None, course_id: int) -> Course:
    """The course, as long as ``viewer`` may see it (``permissions.can_view_course``)."""
    course = get_course(course_id)
    if not can_view_course(viewer, course):
        raise NotFound(_l("This course does not exist."))
    return course


def list_for_course(course: Course) -> list[CourseMaterial]:
    return list(
        db.session.scalars(
            sa.select(CourseMaterial)
            .where(CourseMaterial.course_id == course.id)
            .order_by(CourseMaterial.created_at, CourseMaterial.id)
        )
    )


def can_download(viewer: User | None, course: Course) -> bool:
    """The course's enrolled (or completed) learners, its trainers and admins."""
    if viewer is None or not viewer.is_authenticated:
        return False
    if can_manage_course(viewer, course):
        return True
    return (
        db.session.scalar(
            sa.select(Enrolment.id)
            .where(
                Enrolment.course_id == course.id,
                Enrolment.user_id == viewer.id,
                Enrolment.status.in_(DOWNLOAD_STATUSES),
            )
            .limit(1)
        )
        is not None
    )


def get_for_download(viewer: User | None, material: CourseMaterial) -> BinaryIO:
    """The stored bytes of ``material`` opened for reading, for those allowed them."""
    course = get_course(material.course_id)
    if not can_download(viewer, course):
        raise PermissionDenied(
            _l("Only the course's enrolled learners, its trainers and admins can download it.")
        )
    try:
        return get_storage().open(material.storage_key)
    except FileNotFoundError:
        current_app.logger.error("material %s: stored file is missing", material.id)
        raise NotFound(_l("The file of this material is missing.")) from None


# --- changing -----------------------------------------------------------------------


def upload(
    actor: User | None,
    course: Course,
    stream: BinaryIO,
    filename: str | None,
    title: str | None = None,
    session_id: int | None = None,
) -> CourseMaterial:
    """Store a material for ``course``; only the course's managers may.

    ``stream`` is any binary file object (a werkzeug ``FileStorage.stream`` will do).
    """
    if not can_manage_course(actor, course):
        raise PermissionDenied()
    assert actor is not None
    display_name = clean_filename(filename)
    title = (title or "").strip() or display_name.rpartition(".")[0] or display_name
    if len(title) > MAX_TITLE_LENGTH:
        raise ValidationFailed(
            fields={"title": [_l("The title is too long (120 characters at most).")]}
        )
    session = _session_of(course, session_id)

    limit = max_upload_bytes()
    source = _seekable_copy(stream, limit)
    try:
        size = source.seek(0, 2)
        source.seek(0)
        if size == 0:
            message = _l("The file is empty.")
            raise ValidationFailed(message, fields={"file": [message]}, code="empty_file")
        if size > limit:
            raise _too_large(limit)
        file_type = detect_type(source)
        if file_type is None:
            raise _unsupported(
                _l("This type of file cannot be uploaded. %(allowed)s", allowed=_ALLOWED_MESSAGE)
            )
        extension = _extension(display_name)
        if not extension:
            extension = next(iter(file_type.extensions))
            display_name = f"{display_name or 'material'}.{extension}"
        if extension not in file_type.extensions:
            raise _unsupported(
                _l(
                    "The file's name ends in .%(extension)s but it holds a %(kind)s file: "
                    "give it the right extension or choose another file.",
                    extension=extension,
                    kind=file_type.label,
                )
            )
        storage = get_storage()
        key = new_key("materials")
        try:
            stored_size = storage.save(source, key, max_bytes=limit)
        except FileTooLarge:
            raise _too_large(limit) from None
    finally:
        if source is not stream:
            source.close()

    _remove_unless_committed(storage, key)
    try:
        material = CourseMaterial(
            course_id=course.id,
            session_id=session.id if session is not None else None,
            title=title,
            filename=display_name,
            content_type=file_type.extensions[extension],
            size_bytes=stored_size,
            storage_key=key,
            uploaded_by_id=actor.id,
        )
        db.session.add(material)
        db.session.flush()
        audit.record(
            actor,
            "material.upload",
            "course_material",
            material.id,
            course_id=course.id,
            filename=display_name,
            size_bytes=stored_size,
            content_type=material.content_type,
        )
        db.session.flush()
    except BaseException:
        storage.delete(key)
        raise
    return material


def delete(actor: User | None, material: CourseMaterial) -> None:
    """Remove the material; its file goes once the caller's transaction commits."""
    course = get_course(material.course_id)
    if not can_manage_course(actor, course):
        raise PermissionDenied()
    audit.record(
        actor,
        "material.delete",
        "course_material",
        material.id,
        course_id=course.id,
        filename=material.filename,
        storage_key=material.storage_key,
    )
    _remove_after_commit(get_storage(), material.storage_key)
    db.session.delete(material)
    db.session.flush()


def _session_of(course: Course, session_id: int | None) -> CourseSession | None:
    if session_id in (None, "", 0):
        return None
    found_id = database_id(session_id)
    session = db.session.get(CourseSession, found_id) if found_id is not None else None
    if session is None or session.course_id != course.id:
        raise ValidationFailed(fields={"session_id": [_l("Choose a session of this course.")]})
    return session


# --- files follow the transaction ---------------------------------------------------

_NEW_FILES = "materials.new_files"
_DOOMED_FILES = "materials.doomed_files"


def _remove_unless_committed(storage: Storage, key: str) -> None:
    db.session.info.setdefault(_NEW_FILES, []).append((storage, key))


def _remove_after_commit(storage: Storage, key: str) -> None:
    db.session.info.setdefault(_DOOMED_FILES, []).append((storage, key))


def _delete_quietly(storage: Storage, key: str) -> None:
    try:
        storage.delete(key)
    except Exception:  # a file left behind is logged; it must not undo the transaction
        if has_app_context():
            current_app.logger.exception("could not remove stored file %s", key)


@sa.event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_NEW_FILES, None)
    for storage, key in session.info.pop(_DOOMED_FILES, []):
        _delete_quietly(storage, key)


@sa.event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    """A transaction that ends without a commit: its new files go, its deletions are off."""
    if transaction.parent is not None:
        return
    for storage, key in session.info.pop(_NEW_FILES, []):
        _delete_quietly(storage, key)
    session.info.pop(_DOOMED_FILES, None)
