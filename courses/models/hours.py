from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from courses.db import TimestampMixin, db, enum_column
from courses.models.enums import QualificationLevel


class QualificationRequirement(db.Model):
    """Continuing-education requirement per qualification level, editable by admins.

    Defaults (seeded by the migration): 72 hours per 3-year cycle for 助理社会工作师,
    90 for 社会工作师 and 高级社会工作师.
    """

    __tablename__ = "qualification_requirements"
    __table_args__ = (
        sa.CheckConstraint("required_hours >= 0", name="required_hours_not_negative"),
        sa.CheckConstraint("cycle_years > 0", name="cycle_years_positive"),
    )

    level: Mapped[QualificationLevel] = mapped_column(
        enum_column(QualificationLevel, "qualification_level"), primary_key=True
    )
    required_hours: Mapped[float] = mapped_column(sa.Numeric(6, 2, asdecimal=False), nullable=False)
    cycle_years: Mapped[int] = mapped_column(nullable=False)


class ExternalHoursRecord(TimestampMixin, db.Model):
    """Hours a learner earned outside the academy, added by an admin with a note."""

    __tablename__ = "external_hours_records"
    __table_args__ = (sa.CheckConstraint("hours > 0", name="hours_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    hours: Mapped[float] = mapped_column(sa.Numeric(6, 2, asdecimal=False), nullable=False)
    earned_on: Mapped[date] = mapped_column(sa.Date, nullable=False, index=True)
    note: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    added_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
