from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from courses.db import UTCDateTime, db, enum_column, utcnow
from courses.models.enums import CertificateKind, CertificateStatus

_CURRENT = "status <> 'superseded'"


class Certificate(db.Model):
    """A certificate (结业证书 / 课时证明) with a unique serial and a verification page.

    Exactly one current certificate per completed enrolment and per learner × programme,
    guarded by partial unique indexes so that duplicated or retried tasks cannot issue two.
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
    pdf_key: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    revoked_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
