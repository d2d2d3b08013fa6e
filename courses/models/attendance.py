from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from courses.db import TimestampMixin, UTCDateTime, db, enum_column, utcnow
from courses.models.enums import AttendanceMethod, AttendanceStatus, ImportStatus

if TYPE_CHECKING:
    from courses.models.sessions import CourseSession
    from courses.models.users import User


class AttendanceRecord(TimestampMixin, db.Model):
    """A learner × session (考勤): one record whichever way the learner came."""

    __tablename__ = "attendance_records"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "user_id"),
        sa.CheckConstraint("minutes >= 0", name="minutes_not_negative"),
        sa.CheckConstraint("online_minutes >= 0", name="online_minutes_not_negative"),
        sa.CheckConstraint("imported_minutes >= 0", name="imported_minutes_not_negative"),
        sa.CheckConstraint("credited_hours >= 0", name="credited_hours_not_negative"),
        sa.CheckConstraint(
            "manual_minutes IS NULL OR manual_minutes >= 0", name="manual_minutes_not_negative"
        ),
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
    # What each way of attending measured; ``minutes`` is what they add up to
    # (``courses.services.attendance.derive``).
    online_minutes: Mapped[int] = mapped_column(nullable=False, default=0, server_default="0")
    imported_minutes: Mapped[int] = mapped_column(nullable=False, default=0, server_default="0")
    video_complete: Mapped[bool] = mapped_column(
        nullable=False, default=False, server_default=sa.false()
    )
    first_seen_online_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_seen_online_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Set by a trainer (roll-call or correction): automatic ways no longer change it.
    manual: Mapped[bool] = mapped_column(nullable=False, default=False, server_default=sa.false())
    #: The minutes the trainer gave (or the whole session, for "present"); ``minutes``
    #: holds the part of them that has passed.
    manual_minutes: Mapped[int | None] = mapped_column(nullable=True)
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )

    session: Mapped[CourseSession] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class AttendanceHeartbeat(db.Model):
    """One minute of presence in an online live session, as the session page reported
    it. The key makes a repeated heartbeat in the same minute harmless."""

    __tablename__ = "attendance_heartbeats"

    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("course_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    minute: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)


class VideoProgress(TimestampMixin, db.Model):
    """The parts of a recorded session's video a learner has watched, merged."""

    __tablename__ = "video_progress"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "user_id"),
        sa.CheckConstraint("duration_seconds > 0", name="duration_positive"),
        sa.CheckConstraint(
            "watched_seconds BETWEEN 0 AND duration_seconds", name="watched_within_duration"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("course_sessions.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    #: Watched ranges in seconds, ``[[start, end], …]``, sorted and non-overlapping.
    ranges: Mapped[list[list[float]]] = mapped_column(sa.JSON, nullable=False, default=list)
    duration_seconds: Mapped[int] = mapped_column(nullable=False)
    watched_seconds: Mapped[int] = mapped_column(nullable=False, default=0)


class AttendanceImport(db.Model):
    """An online-meeting attendance report uploaded for a session: previewed first,
    applied only when the trainer confirms. The file's digest makes a second upload of
    the same report the same import."""

    __tablename__ = "attendance_imports"
    __table_args__ = (sa.UniqueConstraint("session_id", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("course_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    uploaded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    filename: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    digest: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    layout: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    status: Mapped[ImportStatus] = mapped_column(
        enum_column(ImportStatus, "import_status"), nullable=False, default=ImportStatus.PREVIEW
    )
    #: The parsed rows with what each matched (see ``courses.services.meeting_reports``).
    rows: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, nullable=False, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    applied_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )

    session: Mapped[CourseSession] = relationship()
