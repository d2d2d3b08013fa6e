from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from courses.db import TimestampMixin, db


class FeedbackResponse(TimestampMixin, db.Model):
    """A learner's satisfaction survey (满意度评估) for a course: once per course."""

    __tablename__ = "feedback_responses"
    __table_args__ = (
        sa.UniqueConstraint("course_id", "user_id"),
        sa.CheckConstraint("content_score BETWEEN 1 AND 5", name="content_score_range"),
        sa.CheckConstraint("trainer_score BETWEEN 1 AND 5", name="trainer_score_range"),
        sa.CheckConstraint("organisation_score BETWEEN 1 AND 5", name="organisation_score_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(
        sa.ForeignKey("courses.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    content_score: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    trainer_score: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    organisation_score: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    comment: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
