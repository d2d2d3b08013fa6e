from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from courses.db import UTCDateTime, db


class CheckinPass(db.Model):
    """A check-in pass that has been used, and the learner it was used by.

    The pass itself is a signed cookie set when a browser shows a valid QR token
    (``academy.attendance.views``); this row makes it single-use, so that a copy of the
    cookie checks in no one else. Rows outlive their passes only briefly.
    """

    __tablename__ = "checkin_passes"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("course_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    used_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
