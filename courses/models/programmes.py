from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from courses.db import TimestampMixin, db, enum_column
from courses.models.enums import CourseLevel, PublicationStatus

if TYPE_CHECKING:
    from courses.models.courses import Course


class Programme(TimestampMixin, db.Model):
    """A named group of courses (培育计划 / 项目) with its own completion rule and certificate.

    Completion rule: the learner completes ``required_course_count`` of the programme's
    courses (all of them when NULL) and at least ``required_hours`` credited hours (if set).
    """

    __tablename__ = "programmes"
    __table_args__ = (
        sa.CheckConstraint(
            "required_course_count IS NULL OR required_course_count > 0",
            name="required_course_count_positive",
        ),
        sa.CheckConstraint(
            "required_hours IS NULL OR required_hours > 0", name="required_hours_positive"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    summary: Mapped[str] = mapped_column(sa.String(500), nullable=False, default="")
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    level: Mapped[CourseLevel | None] = mapped_column(
        enum_column(CourseLevel, "course_level"), nullable=True
    )
    status: Mapped[PublicationStatus] = mapped_column(
        enum_column(PublicationStatus, "publication_status"),
        nullable=False,
        default=PublicationStatus.DRAFT,
        index=True,
    )
    required_course_count: Mapped[int | None] = mapped_column(nullable=True)
    required_hours: Mapped[float | None] = mapped_column(sa.Numeric(7, 2, asdecimal=False))
    certificate_title: Mapped[str | None] = mapped_column(sa.String(120), nullable=True)
    # The trainer who built the programme manages it (with the admins).
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )

    courses: Mapped[list[Course]] = relationship(back_populates="programme")
