"""Feedback (满意度评估): a learner's satisfaction survey of a course, and the averages and
comments its trainers and admins see.

Rules and their codes
---------------------

=========================  ==========================================================
``not_enrolled``           403: only a learner enrolled in the course (enrolled,
                           completed or incomplete) gives feedback
``feedback_not_open``      422: the survey opens when the course's last session starts
``feedback_already_given`` 409: once per course (the table's unique constraint decides)
``invalid_score``          422: each score is a whole number from 1 to 5
``comment_too_long``       422: the comment has more than 2000 characters
=========================  ==========================================================

Submitting the survey re-evaluates the learner's completion
(``courses.services.attendance.evaluate_completion``): a course that requires feedback
completes only once it is in.

The comments are shown to trainers without the learner's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.db import db, dialect_statement, utcnow
from courses.errors import Conflict, PermissionDenied, ValidationFailed
from courses.models import (
    Course,
    CourseSession,
    Enrolment,
    FeedbackResponse,
    User,
    course_trainers,
)
from courses.services import permissions, stats
from courses.services.attendance import ATTENDING_STATUSES, evaluate_completion
from courses.services.pagination import MAX_PER_PAGE, Page
from courses.settings import to_local

SCORE_FIELDS = ("content_score", "trainer_score", "organisation_score")
MAX_COMMENT_LENGTH = 2000


# ---- reading --------------------------------------------------------------------------------


def survey_opens_at(course: Course) -> datetime | None:
    """When the survey opens: the start of the course's last session (None: no sessions)."""
    return db.session.scalar(
        sa.select(sa.func.max(CourseSession.starts_at)).where(CourseSession.course_id == course.id)
    )


def _attending_enrolment(user: User, course: Course, *, lock: bool = False) -> Enrolment | None:
    statement = sa.select(Enrolment).where(
        Enrolment.course_id == course.id,
        Enrolment.user_id == user.id,
        Enrolment.status.in_(ATTENDING_STATUSES),
    )
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return db.session.scalars(statement).first()


def response_of(user: User, course: Course) -> FeedbackResponse | None:
    return db.session.scalars(
        sa.select(FeedbackResponse).where(
            FeedbackResponse.course_id == course.id, FeedbackResponse.user_id == user.id
        )
    ).first()


@dataclass(frozen=True)
class FeedbackState:
    """What the learner's survey page offers: ``not_enrolled``, ``not_open`` (with
    ``opens_at``), ``open`` (the form) or ``given`` (with the stored ``response``)."""

    state: str
    opens_at: datetime | None
    response: FeedbackResponse | None

    @property
    def can_give(self) -> bool:
        return self.state == "open"


def feedback_state(user: User, course: Course, now: datetime | None = None) -> FeedbackState:
    now = now or utcnow()
    if _attending_enrolment(user, course) is None:
        return FeedbackState("not_enrolled", None, None)
    given = response_of(user, course)
    opens_at = survey_opens_at(course)
    if given is not None:
        return FeedbackState("given", opens_at, given)
    if opens_at is None or now < opens_at:
        return FeedbackState("not_open", opens_at, None)
    return FeedbackState("open", opens_at, None)


# ---- submitting -----------------------------------------------------------------------------


def _score(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        message = _l("Choose a rating from 1 to 5.")
        raise ValidationFailed(message, code="invalid_score", fields={name: [message]})
    return value


def _comment(value: Any) -> str:
    comment = (value or "").strip() if isinstance(value, str) or value is None else None
    if comment is None or len(comment) > MAX_COMMENT_LENGTH:
        message = _l("The comment may have at most %(n)s characters.", n=MAX_COMMENT_LENGTH)
        raise ValidationFailed(message, code="comment_too_long", fields={"comment": [message]})
    return comment


@dialect_statement
def _insert_statement(insert: Any) -> Any:
    table = FeedbackResponse.__table__
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=["course_id", "user_id"])
        .returning(table.c.id)
    )


def submit_feedback(
    user: User,
    course: Course,
    content_score: Any,
    trainer_score: Any,
    organisation_score: Any,
    comment: Any = "",
    now: datetime | None = None,
) -> FeedbackResponse:
    """Store the learner's survey once (see the module doc for the rules), then
    re-evaluate their completion of the course."""
    now = now or utcnow()
    if _attending_enrolment(user, course) is None:
        raise PermissionDenied(
            _l("Only learners enrolled in this course can rate it."), code="not_enrolled"
        )
    opens_at = survey_opens_at(course)
    if opens_at is None or now < opens_at:
        if opens_at is None:
            message = _l("The survey opens when the course's last session starts.")
        else:
            message = _l(
                "The survey opens when the last session starts, on %(when)s.",
                when=to_local(opens_at).strftime("%Y-%m-%d %H:%M"),
            )
        raise ValidationFailed(message, code="feedback_not_open")
    scores = {
        "content_score": _score("content_score", content_score),
        "trainer_score": _score("trainer_score", trainer_score),
        "organisation_score": _score("organisation_score", organisation_score),
    }
    text = _comment(comment)
    new_id = db.session.execute(
        _insert_statement(),
        {
            "course_id": course.id,
            "user_id": user.id,
            **scores,
            "comment": text,
            "created_at": now,
            "updated_at": now,
        },
    ).scalar()
    if new_id is None:
        raise Conflict(
            _l("You have already rated this course. Thank you!"), code="feedback_already_given"
        )
    stats.touch(course.id)  # a row written by SQL: no flush sees it
    enrolment = _attending_enrolment(user, course, lock=True)
    if enrolment is not None:
        evaluate_completion(enrolment, now)
    db.session.flush()
    response = db.session.get(FeedbackResponse, new_id)
    assert response is not None
    return response


# ---- what trainers see ----------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackComment:
    comment: str
    created_at: datetime
    content_score: int
    trainer_score: int
    organisation_score: int


@dataclass(frozen=True)
class FeedbackSummary:
    count: int
    content_average: float | None
    trainer_average: float | None
    organisation_average: float | None
    comments: Page[FeedbackComment]


def _average(column: Any) -> Any:
    return sa.func.round(sa.func.avg(column), 2)


def _float(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


def feedback_summary(
    actor: User, course: Course, *, page: int = 1, per_page: int = 20
) -> FeedbackSummary:
    """The course's averages (rounded to two decimals) and one page of its non-empty
    comments, newest first: for its trainers and admins. Three statements after the
    permission check, whatever the number of responses."""
    permissions.require_course_manager(actor, course)
    page = max(int(page or 1), 1)
    per_page = min(max(int(per_page or 20), 1), MAX_PER_PAGE)
    has_comment = FeedbackResponse.comment != ""
    row = db.session.execute(
        sa.select(
            sa.func.count(FeedbackResponse.id),
            _average(FeedbackResponse.content_score),
            _average(FeedbackResponse.trainer_score),
            _average(FeedbackResponse.organisation_score),
            sa.func.count(sa.case((has_comment, 1), else_=None)),
        ).where(FeedbackResponse.course_id == course.id)
    ).one()
    count, content, trainer, organisation, commented = row
    rows = db.session.execute(
        sa.select(
            FeedbackResponse.comment,
            FeedbackResponse.created_at,
            FeedbackResponse.content_score,
            FeedbackResponse.trainer_score,
            FeedbackResponse.organisation_score,
        )
        .where(FeedbackResponse.course_id == course.id, has_comment)
        .order_by(FeedbackResponse.created_at.desc(), FeedbackResponse.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    comments = Page(
        items=[FeedbackComment(*r) for r in rows],
        total=int(commented or 0),
        page=page,
        per_page=per_page,
    )
    return FeedbackSummary(
        count=int(count or 0),
        content_average=_float(content),
        trainer_average=_float(trainer),
        organisation_average=_float(organisation),
        comments=comments,
    )


@dataclass(frozen=True)
class TrainerSatisfaction:
    trainer_id: int
    name: str
    courses: int
    responses: int
    content_average: float | None
    trainer_average: float | None
    organisation_average: float | None


def satisfaction_by_trainer(actor: User) -> list[TrainerSatisfaction]:
    """The survey averages over each trainer's courses, in one grouped statement: every
    trainer for admins, only their own line for a trainer (others get 403). A course
    with two trainers counts for both."""
    if actor is None or not (actor.is_admin or actor.is_trainer):
        raise PermissionDenied()
    statement = (
        sa.select(
            User.id,
            User.name,
            sa.func.count(sa.distinct(FeedbackResponse.course_id)),
            sa.func.count(FeedbackResponse.id),
            _average(FeedbackResponse.content_score),
            _average(FeedbackResponse.trainer_score),
            _average(FeedbackResponse.organisation_score),
        )
        .join(course_trainers, course_trainers.c.user_id == User.id)
        .join(FeedbackResponse, FeedbackResponse.course_id == course_trainers.c.course_id)
        .group_by(User.id, User.name)
        .order_by(User.name, User.id)
    )
    if not actor.is_admin:
        statement = statement.where(User.id == actor.id)
    return [
        TrainerSatisfaction(
            trainer_id, name, int(courses), int(responses), _float(c), _float(t), _float(o)
        )
        for trainer_id, name, courses, responses, c, t, o in db.session.execute(statement)
    ]
