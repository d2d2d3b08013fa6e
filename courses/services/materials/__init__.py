"""Course materials (课件): validated uploads by course managers, downloads by the
course's enrolled learners, trainers and admins.

A file is accepted by what it contains, not by its name: its first bytes (and, for
Office Open XML, the package's ``[Content_Types].xml``) must show an allowed type, and
the name's extension must agree (``file_types``). The bytes go to the storage backend
under a random key; the row is written in the caller's transaction. Nothing is left
half-done: a file stored for a transaction that does not commit is removed, and a
deleted material's file is removed only once the deletion has been committed
(``stored_files``, whose listeners ``academy.create_app`` registers).
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from dataclasses import dataclass
from typing import IO, BinaryIO

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from courses.db import database_id, db
from courses.errors import NotFound, PermissionDenied, ValidationFailed
from courses.models import (
    Course,
    CourseMaterial,
    CourseSession,
    EnrolmentStatus,
    User,
)
from courses.services import audit
from courses.services.courses.rules import TITLE_LENGTH
from courses.services.lookups import get_course
from courses.services.materials.file_types import (
    ACCEPT,
    ALL_TYPES,
    ALLOWED_EXTENSIONS,
    ALLOWED_MESSAGE,
    FileType,
    detect_type,
    unsupported,
)
from courses.services.materials.stored_files import (
    register_file_listeners,
    remove_after_commit,
    remove_unless_committed,
)
from courses.services.permissions import can_manage_course, can_view_course, has_enrolment
from courses.storage import FileTooLarge, Storage, get_storage, new_key

__all__ = [
    "ACCEPT",
    "ALLOWED_EXTENSIONS",
    "ALL_TYPES",
    "DEFAULT_MAX_UPLOAD_BYTES",
    "DOWNLOAD_STATUSES",
    "MAX_FILENAME_LENGTH",
    "MAX_TITLE_LENGTH",
    "FileType",
    "can_download",
    "clean_filename",
    "course_for_viewer",
    "delete",
    "detect_type",
    "get",
    "get_for_download",
    "list_for_course",
    "max_upload_bytes",
    "register_file_listeners",
    "upload",
]

DEFAULT_MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_TITLE_LENGTH = TITLE_LENGTH
MAX_FILENAME_LENGTH = 255
DOWNLOAD_STATUSES = (EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED)
_SPOOL_IN_MEMORY = 8 * 1024 * 1024
_UNSAFE_CHARACTERS = re.compile(r'[<>:"/\\|?*]')

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
    return has_enrolment(viewer, course, DOWNLOAD_STATUSES)


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


@dataclass(frozen=True)
class _StoredFile:
    """A file checked and stored under ``key``, for the row that will speak of it."""

    storage: Storage
    key: str
    filename: str
    content_type: str
    size_bytes: int


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
    The checks come in order: who uploads, the title, the session, then the file's
    size, type and extension; the file is stored last, and removed again if the row
    cannot be written or the transaction does not commit.
    """
    if not can_manage_course(actor, course):
        raise PermissionDenied()
    assert actor is not None
    display_name = clean_filename(filename)
    title = _checked_title(title, display_name)
    session = _session_of(course, session_id)
    stored = _check_and_store(stream, display_name)
    try:
        return _add_material(actor, course, session, title, stored)
    except BaseException:
        stored.storage.delete(stored.key)
        raise


def _checked_title(title: str | None, display_name: str) -> str:
    """The title given, or else the file's name without its extension."""
    title = (title or "").strip() or display_name.rpartition(".")[0] or display_name
    if len(title) > MAX_TITLE_LENGTH:
        raise ValidationFailed(
            fields={"title": [_l("The title is too long (120 characters at most).")]}
        )
    return title


def _check_and_store(stream: BinaryIO, display_name: str) -> _StoredFile:
    """Check the file's size, type and name, then store it (at most the upload limit)."""
    limit = max_upload_bytes()
    source = _seekable_copy(stream, limit)
    try:
        _check_size(source, limit)
        file_type = _checked_type(source)
        display_name, extension = _checked_extension(display_name, file_type)
        storage = get_storage()
        key = new_key("materials")
        try:
            stored_size = storage.save(source, key, max_bytes=limit)
        except FileTooLarge:
            raise _too_large(limit) from None
    finally:
        if source is not stream:
            source.close()
    remove_unless_committed(storage, key)
    return _StoredFile(storage, key, display_name, file_type.extensions[extension], stored_size)


def _check_size(source: IO[bytes], limit: int) -> None:
    size = source.seek(0, 2)
    source.seek(0)
    if size == 0:
        message = _l("The file is empty.")
        raise ValidationFailed(message, fields={"file": [message]}, code="empty_file")
    if size > limit:
        raise _too_large(limit)


def _checked_type(source: IO[bytes]) -> FileType:
    file_type = detect_type(source)
    if file_type is None:
        raise unsupported(
            _l("This type of file cannot be uploaded. %(allowed)s", allowed=ALLOWED_MESSAGE)
        )
    return file_type


def _checked_extension(display_name: str, file_type: FileType) -> tuple[str, str]:
    """The name (given the type's extension when it had none) and its extension, which
    must be one of the type's."""
    extension = _extension(display_name)
    if not extension:
        extension = next(iter(file_type.extensions))
        display_name = f"{display_name or 'material'}.{extension}"
    if extension not in file_type.extensions:
        raise unsupported(
            _l(
                "The file's name ends in .%(extension)s but it holds a %(kind)s file: "
                "give it the right extension or choose another file.",
                extension=extension,
                kind=file_type.label,
            )
        )
    return display_name, extension


def _add_material(
    actor: User, course: Course, session: CourseSession | None, title: str, stored: _StoredFile
) -> CourseMaterial:
    material = CourseMaterial(
        course_id=course.id,
        session_id=session.id if session is not None else None,
        title=title,
        filename=stored.filename,
        content_type=stored.content_type,
        size_bytes=stored.size_bytes,
        storage_key=stored.key,
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
        filename=stored.filename,
        size_bytes=stored.size_bytes,
        content_type=material.content_type,
    )
    db.session.flush()
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
    remove_after_commit(get_storage(), material.storage_key)
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
