"""The statistics' summary tables, kept by ``courses.services.stats.tallies``.

Their grain is one course and one calendar month of the academy's time zone (the month
as ``yyyymm``), so that a change to one course recomputes that course's rows only and
any period of whole months adds up from them. Every figure but one adds up across
rows; unique participants (人数) do not, which is why ``StatParticipant`` keeps one row
per person, course and month to count distinct people over whatever is asked for.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from courses.db import db

_HOURS = sa.Numeric(10, 2, asdecimal=False)
#: ``organisation_id`` of learners without an organisation (a key column cannot be NULL).
NO_ORGANISATION = 0


class StatCourseMonth(db.Model):
    """What a course delivered in a month: its sessions and their class hours (课时),
    online (online and recorded sessions) and in all."""

    __tablename__ = "stat_course_months"
    __table_args__ = (sa.Index("ix_stat_course_months_month", "month"),)

    course_id: Mapped[int] = mapped_column(
        sa.ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[int] = mapped_column(primary_key=True)
    sessions: Mapped[int] = mapped_column(nullable=False, default=0)
    sessions_online: Mapped[int] = mapped_column(nullable=False, default=0)
    class_hours: Mapped[float] = mapped_column(_HOURS, nullable=False, default=0)
    class_hours_online: Mapped[float] = mapped_column(_HOURS, nullable=False, default=0)


class StatLearnerMonth(db.Model):
    """What the learners of one organisation did in a course, by month: enrolments,
    completions and satisfaction in the month the course opens (its first session),
    participant-times (人次) and credited hours in the month of the session,
    certificates in the month of issue."""

    __tablename__ = "stat_learner_months"
    __table_args__ = (sa.Index("ix_stat_learner_months_month", "month"),)

    course_id: Mapped[int] = mapped_column(
        sa.ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(primary_key=True)
    enrolments: Mapped[int] = mapped_column(nullable=False, default=0)
    completions: Mapped[int] = mapped_column(nullable=False, default=0)
    participant_times: Mapped[int] = mapped_column(nullable=False, default=0)
    participant_times_online: Mapped[int] = mapped_column(nullable=False, default=0)
    credited_hours: Mapped[float] = mapped_column(_HOURS, nullable=False, default=0)
    certificates: Mapped[int] = mapped_column(nullable=False, default=0)
    feedback_count: Mapped[int] = mapped_column(nullable=False, default=0)
    #: The sum of every response's three scores (1–5 each): satisfaction is
    #: ``score_sum / (3 × feedback_count)``, exact whatever is added up.
    score_sum: Mapped[int] = mapped_column(nullable=False, default=0)


class StatParticipant(db.Model):
    """A person with credited attendance in a course in a month, and whether online,
    offline or both: distinct people over any selection of these rows are its 人数."""

    __tablename__ = "stat_participants"
    __table_args__ = (sa.Index("ix_stat_participants_month", "month"),)

    course_id: Mapped[int] = mapped_column(
        sa.ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(nullable=False)
    online: Mapped[bool] = mapped_column(nullable=False, default=False)
    offline: Mapped[bool] = mapped_column(nullable=False, default=False)
