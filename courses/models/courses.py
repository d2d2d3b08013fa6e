from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from courses.db import TimestampMixin, UTCDateTime, db, enum_column
from courses.models.enums import CourseLevel, CourseMode, PublicationStatus

if TYPE_CHECKING:
    from courses.models.programmes import Programme
    from courses.models.sessions import CourseSession
    from courses.models.users import User

course_trainers = sa.Table(
    "course_trainers",
    db.metadata,
    sa.Column("course_id", sa.ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)

course_prerequisites = sa.Table(
    "course_prerequisites",
    db.metadata,
    sa.Column("course_id", sa.ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "prerequisite_id",
        sa.ForeignKey("courses.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    sa.CheckConstraint("course_id <> prerequisite_id", name="not_self"),
)


class Course(TimestampMixin, db.Model):
    """A course (课程): topic, level, mode, trainers, capacity, window and completion rule.

    ``seats_taken`` counts enrolled and completed learners; it is changed only by a
    conditional UPDATE so that capacity holds under any concurrency, and the CHECK
    constraint below refuses any write that would overbook.
    """

    __tablename__ = "courses"
    __table_args__ = (
        sa.CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        sa.CheckConstraint("seats_taken >= 0", name="seats_taken_not_negative"),
        sa.CheckConstraint("capacity IS NULL OR seats_taken <= capacity", name="not_overbooked"),
        sa.CheckConstraint(
            "completion_threshold > 0 AND completion_threshold <= 1",
            name="completion_threshold_range",
        ),
        sa.CheckConstraint(
            "enrol_opens_at IS NULL OR enrol_closes_at IS NULL OR enrol_closes_at > enrol_opens_at",
            name="enrol_window_order",
        ),
        sa.Index("ix_courses_status_level_mode", "status", "level", "mode"),
        # Catalogue search (ILIKE '%…%' on title and summary): trigram GIN indexes on
        # PostgreSQL (pg_trgm). SQLite gets plain indexes of the same names, so that one
        # schema describes both backends (Alembic compares indexes by name, not by
        # dialect); its LIKE '%…%' does not use them.
        sa.Index(
            "ix_courses_title_trgm",
            "title",
            postgresql_using="gin",
            postgresql_ops={"title": "gin_trgm_ops"},
        ),
        sa.Index(
            "ix_courses_summary_trgm",
            "summary",
            postgresql_using="gin",
            postgresql_ops={"summary": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("programmes.id", ondelete="SET NULL"), nullable=True, index=True
    )
    title: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    summary: Mapped[str] = mapped_column(sa.String(500), nullable=False, default="")
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    topic: Mapped[str] = mapped_column(sa.String(40), nullable=False, index=True)
    level: Mapped[CourseLevel] = mapped_column(
        enum_column(CourseLevel, "course_level"), nullable=False, index=True
    )
    mode: Mapped[CourseMode] = mapped_column(
        enum_column(CourseMode, "course_mode"), nullable=False, index=True
    )
    capacity: Mapped[int | None] = mapped_column(nullable=True)
    seats_taken: Mapped[int] = mapped_column(nullable=False, default=0, server_default="0")
    enrol_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    enrol_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancel_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completion_threshold: Mapped[float] = mapped_column(
        sa.Numeric(4, 3, asdecimal=False), nullable=False, default=0.8
    )
    feedback_required: Mapped[bool] = mapped_column(nullable=False, default=False)
    approval_required: Mapped[bool] = mapped_column(nullable=False, default=False)
    status: Mapped[PublicationStatus] = mapped_column(
        enum_column(PublicationStatus, "publication_status"),
        nullable=False,
        default=PublicationStatus.DRAFT,
        index=True,
    )
    cloned_from_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("courses.id", ondelete="SET NULL"), nullable=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )

    programme: Mapped[Programme | None] = relationship(back_populates="courses")
    trainers: Mapped[list[User]] = relationship(secondary=course_trainers, lazy="selectin")
    prerequisites: Mapped[list[Course]] = relationship(
        secondary=course_prerequisites,
        primaryjoin=lambda: Course.id == course_prerequisites.c.course_id,
        secondaryjoin=lambda: Course.id == course_prerequisites.c.prerequisite_id,
    )
    sessions: Mapped[list[CourseSession]] = relationship(
        back_populates="course",
        order_by="CourseSession.starts_at",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def seats_left(self) -> int | None:
        if self.capacity is None:
            return None
        return max(self.capacity - self.seats_taken, 0)

    def __repr__(self) -> str:
        return f"<Course {self.id} {self.title}>"
