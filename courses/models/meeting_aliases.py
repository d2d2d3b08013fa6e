from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from courses.db import UTCDateTime, db, utcnow


class MeetingAlias(db.Model):
    """A name or platform user id in meeting reports that a trainer said is this learner
    (``courses.services.meeting_reports``): for one course, or for every course
    (``course_id`` empty), so that the learner's next reports match by themselves."""

    __tablename__ = "meeting_aliases"
    __table_args__ = (
        sa.Index(
            "uq_meeting_aliases_course_alias",
            "course_id",
            "alias",
            unique=True,
            postgresql_where=sa.text("course_id IS NOT NULL"),
            sqlite_where=sa.text("course_id IS NOT NULL"),
        ),
        sa.Index(
            "uq_meeting_aliases_global_alias",
            "alias",
            unique=True,
            postgresql_where=sa.text("course_id IS NULL"),
            sqlite_where=sa.text("course_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("courses.id", ondelete="CASCADE"), nullable=True
    )
    #: ``name:<normalised name>`` or ``ref:<layout>:<platform user id>``.
    alias: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    chosen_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
