from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from courses.db import UTCDateTime, db, enum_column, utcnow
from courses.models.enums import CertificateKind, CertificateStatus

_CURRENT = "status = 'valid'"


class Certificate(db.Model):
    """A certificate (结业证书 / 课时证明) with a unique serial and a verification page.

    At most one valid certificate per enrolment and per learner × programme, guarded by
    partial unique indexes so that duplicated or retried tasks cannot issue two. A revoked
    one (a withdrawn completion) leaves room for the next completion's; a re-issue marks
    the old row ``superseded`` and points ``replaces_id`` of the new one at it.

    ``facts`` is the snapshot printed on the PDF and shown on verification, taken at issue:
    a later edit of the course or the learner never changes an issued certificate.
    ``pdf_key`` stays NULL until a worker has stored the PDF.
    """

    __tablename__ = "certificates"
    __table_args__ = (
        sa.Index(
            "uq_certificates_enrolment_current",
            "enrolment_id",
            unique=True,
            postgresql_where=sa.text(f"enrolment_id IS NOT NULL AND {_CURRENT}"),
            sqlite_where=sa.text(f"enrolment_id IS NOT NULL AND {_CURRENT}"),
        ),
        sa.Index(
            "uq_certificates_programme_current",
            "user_id",
            "programme_id",
            unique=True,
            postgresql_where=sa.text(f"kind = 'programme' AND {_CURRENT}"),
            sqlite_where=sa.text(f"kind = 'programme' AND {_CURRENT}"),
        ),
        sa.CheckConstraint(
            "(kind = 'course' AND enrolment_id IS NOT NULL AND course_id IS NOT NULL) "
            "OR (kind = 'programme' AND programme_id IS NOT NULL) "
            "OR (kind = 'transcript' AND year IS NOT NULL)",
            name="kind_references",
        ),
        sa.CheckConstraint("class_hours >= 0", name="class_hours_not_negative"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        sa.Index(
            "ix_certificates_pdf_pending",
            "status",
            postgresql_where=sa.text("pdf_key IS NULL"),
            sqlite_where=sa.text("pdf_key IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(sa.String(32), nullable=False, unique=True)
    kind: Mapped[CertificateKind] = mapped_column(
        enum_column(CertificateKind, "certificate_kind"), nullable=False
    )
    status: Mapped[CertificateStatus] = mapped_column(
        enum_column(CertificateStatus, "certificate_status"),
        nullable=False,
        default=CertificateStatus.VALID,
        index=True,
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    enrolment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("enrolments.id", ondelete="RESTRICT"), nullable=True
    )
    course_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("courses.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    programme_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("programmes.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    year: Mapped[int | None] = mapped_column(nullable=True)
    holder_name: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    class_hours: Mapped[float] = mapped_column(sa.Numeric(7, 2, asdecimal=False), nullable=False)
    issued_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), nullable=False, default=utcnow, index=True
    )
    sequence: Mapped[int] = mapped_column(nullable=False)
    version: Mapped[int] = mapped_column(nullable=False, default=1, server_default="1")
    replaces_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("certificates.id", ondelete="RESTRICT"), nullable=True, unique=True
    )
    facts: Mapped[dict[str, Any]] = mapped_column(sa.JSON, nullable=False, default=dict)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    pdf_key: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    revoked_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class CertificateCounter(db.Model):
    """The last sequence number handed out per serial prefix and year: one row per
    (prefix, year), advanced by one atomic upsert so that two workers never share one."""

    __tablename__ = "certificate_counters"

    prefix: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_value: Mapped[int] = mapped_column(nullable=False)


class CertificateSettings(db.Model):
    """What an admin sets for every certificate printed from now on (one row, id 1): the
    academy's name, the signatory and the seal image. An issued certificate keeps what
    it was printed with: its ``facts`` hold the name and signatory of its day."""

    __tablename__ = "certificate_settings"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    academy_name: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    signatory: Mapped[str] = mapped_column(sa.String(60), nullable=False, default="")
    seal_key: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow
    )
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
