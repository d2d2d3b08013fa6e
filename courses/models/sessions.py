from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from courses.db import TimestampMixin, UTCDateTime, db, enum_column
from courses.models.enums import SessionMode

if TYPE_CHECKING:
    from courses.models.courses import Course


class CourseSession(TimestampMixin, db.Model):
    """One scheduled meeting of a course (课次), worth ``class_hours`` 课时."""

    __tablename__ = "course_sessions"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint("class_hours > 0", name="class_hours_positive"),
        sa.CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        sa.CheckConstraint("late_after_minutes >= 0", name="late_after_minutes_not_negative"),
        sa.CheckConstraint(
            "checkin_closes_at IS NULL OR checkin_opens_at IS NULL "
            "OR checkin_closes_at > checkin_opens_at",
            name="checkin_window_order",
        ),
        sa.Index("ix_course_sessions_course_id_starts_at", "course_id", "starts_at"),
        sa.Index(
            "ix_course_sessions_unsettled",
            "ends_at",
            postgresql_where=sa.text("settled_at IS NULL"),
            sqlite_where=sa.text("settled_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(
        sa.ForeignKey("courses.id", ondelete="CASCADE"), nullable=False
    )
    title: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    mode: Mapped[SessionMode] = mapped_column(
        enum_column(SessionMode, "session_mode"), nullable=False, index=True
    )
    venue: Mapped[str | None] = mapped_column(sa.String(120), nullable=True)
    room: Mapped[str | None] = mapped_column(sa.String(60), nullable=True)
    address: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    meeting_url: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    meeting_number: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    video_url: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    class_hours: Mapped[float] = mapped_column(sa.Numeric(5, 2, asdecimal=False), nullable=False)
    capacity: Mapped[int | None] = mapped_column(nullable=True)
    # Check-in: a per-session HMAC secret for the rotating QR token, a fallback code,
    # and an optional window overriding the default around the start time.
    checkin_secret: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    checkin_code: Mapped[str | None] = mapped_column(sa.String(6), nullable=True)
    checkin_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    checkin_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Minutes after the start (and before the end) that still count as on time.
    late_after_minutes: Mapped[int] = mapped_column(
        sa.SmallInteger, nullable=False, default=10, server_default="10"
    )
    # When the records were last brought up to date after the session ended
    # (``courses.services.attendance.settle_ended_sessions``); None while it runs.
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    course: Mapped[Course] = relationship(back_populates="sessions")

    def __repr__(self) -> str:
        return f"<CourseSession {self.id} course={self.course_id} {self.starts_at:%Y-%m-%d}>"
