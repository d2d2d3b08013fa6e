from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from courses.db import TimestampMixin, UTCDateTime, db, enum_column
from courses.models.enums import ACTIVE_ENROLMENT_STATUSES, EnrolmentStatus

if TYPE_CHECKING:
    from courses.models.courses import Course
    from courses.models.users import User

#: The partial unique index's condition: at most one enrolment per learner and course
#: in these statuses (also the conflict target of inserts that may race).
ACTIVE_PREDICATE = "status IN ({})".format(
    ", ".join(f"'{s.value}'" for s in ACTIVE_ENROLMENT_STATUSES)
)


class Enrolment(TimestampMixin, db.Model):
    """A learner × course (报名).

    At most one active enrolment per learner and course (partial unique index); the
    waitlist is ordered by a stored, per-course unique ``waitlist_position`` that is set
    exactly when the enrolment is waitlisted.
    """

    __tablename__ = "enrolments"
    __table_args__ = (
        sa.Index(
            "uq_enrolments_active",
            "user_id",
            "course_id",
            unique=True,
            postgresql_where=sa.text(ACTIVE_PREDICATE),
            sqlite_where=sa.text(ACTIVE_PREDICATE),
        ),
        sa.UniqueConstraint("course_id", "waitlist_position"),
        sa.CheckConstraint(
            "(status = 'waitlisted' AND waitlist_position IS NOT NULL) "
            "OR (status <> 'waitlisted' AND waitlist_position IS NULL)",
            name="waitlist_position_iff_waitlisted",
        ),
        sa.CheckConstraint(
            "waitlist_position IS NULL OR waitlist_position > 0", name="waitlist_position_positive"
        ),
        sa.CheckConstraint("credited_hours >= 0", name="credited_hours_not_negative"),
        sa.Index("ix_enrolments_course_id_status", "course_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(
        sa.ForeignKey("courses.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    status: Mapped[EnrolmentStatus] = mapped_column(
        enum_column(EnrolmentStatus, "enrolment_status"), nullable=False, index=True
    )
    waitlist_position: Mapped[int | None] = mapped_column(nullable=True)
    credited_hours: Mapped[float] = mapped_column(
        sa.Numeric(7, 2, asdecimal=False), nullable=False, default=0, server_default="0"
    )
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    enrolled_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )

    course: Mapped[Course] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
