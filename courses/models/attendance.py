from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from courses.db import TimestampMixin, UTCDateTime, db, enum_column
from courses.models.enums import AttendanceMethod, AttendanceStatus

if TYPE_CHECKING:
    from courses.models.sessions import CourseSession
    from courses.models.users import User


class AttendanceRecord(TimestampMixin, db.Model):
    """A learner × session (考勤): one record whichever way the learner came."""

    __tablename__ = "attendance_records"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "user_id"),
        sa.CheckConstraint("minutes >= 0", name="minutes_not_negative"),
        sa.CheckConstraint("credited_hours >= 0", name="credited_hours_not_negative"),
        sa.CheckConstraint(
            "checked_out_at IS NULL OR checked_in_at IS NULL OR checked_out_at >= checked_in_at",
            name="checkout_after_checkin",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("course_sessions.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    enrolment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("enrolments.id", ondelete="SET NULL"), nullable=True, index=True
    )
    status: Mapped[AttendanceStatus] = mapped_column(
        enum_column(AttendanceStatus, "attendance_status"), nullable=False, index=True
    )
    method: Mapped[AttendanceMethod] = mapped_column(
        enum_column(AttendanceMethod, "attendance_method"), nullable=False
    )
    minutes: Mapped[int] = mapped_column(nullable=False, default=0, server_default="0")
    credited_hours: Mapped[float] = mapped_column(
        sa.Numeric(5, 2, asdecimal=False), nullable=False, default=0, server_default="0"
    )
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )

    session: Mapped[CourseSession] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
