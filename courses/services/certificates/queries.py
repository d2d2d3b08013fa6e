"""Reading certificates: the learner's own, a course's, the admins' search, the public
verification (masked, nothing else personal) and who may download which PDF."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.db import db
from courses.errors import Conflict, NotFound, PermissionDenied
from courses.models import Certificate, CertificateKind, CertificateStatus, Course, User
from courses.services.certificates import serials
from courses.services.certificates.render import open_pdf
from courses.services.pagination import Page, paginate
from courses.services.permissions import can_manage_course, require_admin
from courses.services.search import contains_any

COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "令狐",
        "端木",
        "独孤",
        "南宫",
        "西门",
        "申屠",
        "澹台",
        "百里",
        "呼延",
        "万俟",
        "闻人",
        "钟离",
        "宗政",
        "濮阳",
        "淳于",
        "单于",
        "太叔",
        "公冶",
        "赫连",
        "拓跋",
        "完颜",
        "东郭",
        "南门",
        "羊舌",
        "微生",
        "梁丘",
        "左丘",
        "第五",
    ]
)


def mask_name(name: str) -> str:
    """A name as verification shows it: surname and last character, the rest starred
    (周小健 → 周*健, 欧阳小华 → 欧阳*华, 李明 → 李*)."""
    chars = list((name or "").strip())
    if len(chars) <= 1:
        return "*"
    if len(chars) == 2:
        return chars[0] + "*"
    compound = "".join(chars[:2]) in COMPOUND_SURNAMES
    if compound and len(chars) == 3:
        return "".join(chars[:2]) + "*"  # 欧阳华 → 欧阳*: the given name is one character
    keep = 2 if compound else 1
    return "".join(chars[:keep]) + "*" * min(len(chars) - keep - 1, 3) + chars[-1]


@dataclass(frozen=True)
class Verification:
    serial: str
    kind: CertificateKind
    status: CertificateStatus
    holder: str | None
    course_title: str | None
    class_hours: float | None
    issued_at: datetime | None
    revoked_at: datetime | None


def verify(text: str) -> Verification:
    """What anyone may learn from a serial. Unknown, malformed or mistyped → NotFound
    (the latter two saying so). A superseded serial tells only that it was superseded:
    nothing personal and no pointer to the certificate that replaced it."""
    serial = str(serials.parse(text))
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.serial == serial))
    if certificate is None:
        raise serials.CertificateNotFound()
    if certificate.status == CertificateStatus.SUPERSEDED:
        return Verification(serial, certificate.kind, certificate.status, *(None,) * 5)
    return Verification(
        serial=serial,
        kind=certificate.kind,
        status=certificate.status,
        holder=mask_name(certificate.holder_name),
        course_title=certificate.title,
        class_hours=float(certificate.class_hours),
        issued_at=certificate.issued_at,
        revoked_at=certificate.revoked_at,
    )


def get_by_serial(text: str) -> Certificate:
    serial = str(serials.parse(text))
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.serial == serial))
    if certificate is None:
        raise serials.CertificateNotFound()
    return certificate


def _mine(user: User) -> sa.Select[Any]:
    return (
        sa.select(Certificate)
        .where(Certificate.user_id == user.id, Certificate.status != CertificateStatus.SUPERSEDED)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    )


def mine(user: User) -> list[Certificate]:
    """The learner's certificates, newest first; superseded versions are left out (the
    version that replaced each is there)."""
    return list(db.session.scalars(_mine(user)))


def mine_page(user: User, page: int = 1, per_page: int = 20) -> Page[Any]:
    """``mine``, one page of it, counted in SQL."""
    return paginate(_mine(user), page, per_page)


def can_download(viewer: User | None, certificate: Certificate) -> bool:
    """The holder, the admins and (for a course certificate) the course's trainers."""
    if viewer is None or not viewer.is_authenticated:
        return False
    if viewer.id == certificate.user_id or viewer.is_admin:
        return True
    if certificate.course_id is None:
        return False
    course = db.session.get(Course, certificate.course_id)
    return course is not None and can_manage_course(viewer, course)


def pdf_for_download(viewer: User | None, text: str) -> tuple[Certificate, BinaryIO]:
    """The certificate and its stored PDF, for the page and the API alike: the holder,
    the admins and the course's trainers only (PermissionDenied); a superseded version
    has none to give (NotFound); one still being drawn says so (Conflict
    ``pdf_not_ready``)."""
    certificate = get_by_serial(text)
    if not can_download(viewer, certificate):
        raise PermissionDenied()
    if certificate.status == CertificateStatus.SUPERSEDED:
        raise NotFound(code="certificate_superseded")
    stream = open_pdf(certificate)
    if stream is None:
        raise Conflict(
            _l("The PDF of this certificate is being drawn; try again in a moment."),
            code="pdf_not_ready",
        )
    return certificate, stream


def _for_course(course: Course) -> sa.Select[Any]:
    return (
        sa.select(Certificate)
        .where(
            Certificate.course_id == course.id,
            Certificate.kind == CertificateKind.COURSE,
            Certificate.status == CertificateStatus.VALID,
        )
        .order_by(Certificate.holder_name, Certificate.id)
    )


def for_course(course: Course) -> list[Certificate]:
    """A course's valid certificates in the order of the holders' names."""
    return list(db.session.scalars(_for_course(course)))


def course_page(course: Course, page: int = 1, per_page: int = 20) -> Page[Any]:
    """``for_course``, one page of it, counted in SQL."""
    return paginate(_for_course(course), page, per_page)


def search(
    actor: User,
    q: str = "",
    status: str | None = None,
    kind: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[Any]:
    """The admins' list: by serial, holder name or title; filtered by status and kind."""
    require_admin(actor)
    statement = sa.select(Certificate)
    term = (q or "").strip()
    if term:
        statement = statement.where(
            sa.or_(
                Certificate.serial == serials.normalise(term),
                contains_any(term, Certificate.serial, Certificate.holder_name, Certificate.title),
            )
        )
    if status in set(CertificateStatus):
        statement = statement.where(Certificate.status == status)
    if kind in set(CertificateKind):
        statement = statement.where(Certificate.kind == kind)
    statement = statement.order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    return paginate(statement, page, per_page)


def history(certificate: Certificate) -> list[Certificate]:
    """Every version of a certificate's number, oldest first (for the admins)."""
    first = serials.parse(certificate.serial)
    number = serials.Serial(first.prefix, first.year, first.sequence).body
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .where(
                Certificate.sequence == certificate.sequence,
                Certificate.serial.like(number + "-%"),
            )
            .order_by(Certificate.version)
        )
    )
