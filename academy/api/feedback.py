"""Feedback API: submit the course survey; averages and comments for trainers. Each handler
parses, calls one service function and answers (the request commits once, in
academy.transactions); the rules and their codes live in ``courses.services.feedback``
(its docstring lists them)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from academy.access import STAFF, USER, allow
from academy.api.auth import BEARER, current_api_user
from academy.api.schemas import ListArgsSchema, error_responses
from courses.models import FeedbackResponse
from courses.services import feedback as feedback_service
from courses.services import lookups

blp = Blueprint("api_feedback", __name__, url_prefix="/api/v1", description="feedback")


def _score(description: str) -> fields.Integer:
    return fields.Integer(required=True, metadata={"description": f"{description}, 1–5"})


class FeedbackRequestSchema(Schema):
    content_score = _score("the course's content")
    trainer_score = _score("the trainer")
    organisation_score = _score("the organisation of the course")
    comment = fields.String(
        load_default="", allow_none=True, metadata={"description": "at most 2000 characters"}
    )


class FeedbackResponseSchema(Schema):
    id = fields.Integer()
    course_id = fields.Integer()
    user_id = fields.Integer()
    content_score = fields.Integer()
    trainer_score = fields.Integer()
    organisation_score = fields.Integer()
    comment = fields.String()
    created_at = fields.DateTime(format="iso")


class FeedbackCommentSchema(Schema):
    comment = fields.String()
    created_at = fields.DateTime(format="iso")
    content_score = fields.Integer()
    trainer_score = fields.Integer()
    organisation_score = fields.Integer()


class FeedbackSummarySchema(Schema):
    count = fields.Integer(required=True, metadata={"description": "responses received"})
    content_average = fields.Float(allow_none=True, required=True)
    trainer_average = fields.Float(allow_none=True, required=True)
    organisation_average = fields.Float(allow_none=True, required=True)
    items = fields.List(
        fields.Nested(FeedbackCommentSchema),
        required=True,
        metadata={"description": "the non-empty comments, newest first, without names"},
    )
    total = fields.Integer(required=True, metadata={"description": "comments in all"})
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


ERRORS = {
    403: "not_enrolled: not enrolled in the course; or not a trainer of it, nor an admin",
    404: "No such course",
    409: "feedback_already_given: the survey is given once per course",
    422: "A rule refused: see error.code (feedback_not_open, invalid_score, comment_too_long)",
}
_document_errors = error_responses(blp, ERRORS)


@blp.post("/courses/<int:course_id>/feedback")
@allow(USER)
@blp.arguments(FeedbackRequestSchema)
@blp.response(201, FeedbackResponseSchema)
@_document_errors(403, 404, 409, 422)
@blp.doc(security=BEARER)
def submit(data: dict[str, Any], course_id: int) -> FeedbackResponse:
    """Rate the course (content, trainer, organisation, 1–5) with an optional comment:
    once, after its last session has started, as a learner enrolled in it."""
    course = lookups.get_course(course_id)
    response = feedback_service.submit_feedback(
        current_api_user(),
        course,
        data["content_score"],
        data["trainer_score"],
        data["organisation_score"],
        data["comment"] or "",
    )
    return response


@blp.get("/courses/<int:course_id>/feedback")
@allow(STAFF, owns="course")
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, FeedbackSummarySchema)
@_document_errors(403, 404)
@blp.doc(security=BEARER)
def summary(args: dict[str, Any], course_id: int) -> dict[str, Any]:
    """The course's averages and its comments, for its trainers and admins."""
    course = lookups.get_course(course_id)
    result = feedback_service.feedback_summary(
        current_api_user(), course, page=args["page"], per_page=args["per_page"]
    )
    comments = result.comments
    return {
        "count": result.count,
        "content_average": result.content_average,
        "trainer_average": result.trainer_average,
        "organisation_average": result.organisation_average,
        "items": comments.items,
        "total": comments.total,
        "page": comments.page,
        "per_page": comments.per_page,
    }


class TrainerSatisfactionSchema(Schema):
    trainer_id = fields.Integer()
    name = fields.String()
    courses = fields.Integer(metadata={"description": "courses with at least one response"})
    responses = fields.Integer()
    content_average = fields.Float(allow_none=True)
    trainer_average = fields.Float(allow_none=True)
    organisation_average = fields.Float(allow_none=True)


@blp.get("/feedback/trainers")
@allow(STAFF)
@blp.response(200, TrainerSatisfactionSchema(many=True))
@_document_errors(403)
@blp.doc(security=BEARER)
def by_trainer() -> list[feedback_service.TrainerSatisfaction]:
    """Survey averages over each trainer's courses: every trainer for admins, a
    trainer's own line for trainers."""
    return feedback_service.satisfaction_by_trainer(current_api_user())
