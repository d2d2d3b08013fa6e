"""Enrolment API: enrol, cancel, approve/reject, move off the waitlist, rosters, my
enrolments. Each handler parses, calls one service function and answers (the request
commits once, in academy.transactions); the rules and their codes live in
``courses.services.enrolments`` (its docstring lists them)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from academy.access import STAFF, USER, allow
from academy.api.auth import BEARER, current_api_user
from academy.api.schemas import ListArgsSchema, error_responses, list_schema
from courses.models import EnrolmentStatus
from courses.services import enrolments as enrolment_service
from courses.services import lookups, rosters
from courses.services.pagination import Page

blp = Blueprint("api_enrolments", __name__, url_prefix="/api/v1", description="enrolments")


class EnrolmentSchema(Schema):
    id = fields.Integer(dump_only=True)
    course_id = fields.Integer(dump_only=True)
    user_id = fields.Integer(dump_only=True)
    status = fields.Enum(EnrolmentStatus, by_value=True, dump_only=True)
    waitlist_position = fields.Integer(
        allow_none=True,
        dump_only=True,
        metadata={"description": "place on the waitlist, 1 = next to get a seat"},
    )
    credited_hours = fields.Float(dump_only=True)
    created_at = fields.DateTime(format="iso", dump_only=True)
    cancelled_at = fields.DateTime(format="iso", allow_none=True, dump_only=True)
    completed_at = fields.DateTime(format="iso", allow_none=True, dump_only=True)


class LearnerRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)


class RosterEntrySchema(EnrolmentSchema):
    user = fields.Nested(LearnerRefSchema, dump_only=True)
    organisation_name = fields.String(allow_none=True, dump_only=True)


class CourseRefSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    cancel_deadline = fields.DateTime(format="iso", allow_none=True)


class MyEnrolmentSchema(EnrolmentSchema):
    course = fields.Nested(CourseRefSchema, dump_only=True)
    next_session_at = fields.DateTime(format="iso", allow_none=True, dump_only=True)
    can_cancel = fields.Boolean(dump_only=True)


class EnrolRequestSchema(Schema):
    user_id = fields.Integer(
        load_default=None,
        allow_none=True,
        metadata={"description": "trainers of the course and admins: enrol this learner"},
    )


class ReasonSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=200))


class RosterQuerySchema(ListArgsSchema):
    status = fields.Enum(EnrolmentStatus, by_value=True, load_default=None)
    q = fields.String(load_default=None, metadata={"description": "name, phone or e-mail"})


class MyEnrolmentQuerySchema(ListArgsSchema):
    status = fields.Enum(EnrolmentStatus, by_value=True, load_default=None)


RosterSchema = list_schema(RosterEntrySchema, "Roster")
MyEnrolmentListSchema = list_schema(MyEnrolmentSchema, "MyEnrolmentList")
ERRORS = {
    403: "Not a trainer of this course, nor an admin",
    404: "No such course or enrolment (or not yours)",
    409: "already_enrolled: an active enrolment exists",
    422: "A rule refused: see error.code (course_not_open, enrolment_not_open, "
    "enrolment_closed, prerequisite_unmet, cancel_deadline, not_cancellable, not_pending, "
    "not_waitlisted, invalid_user)",
}


_document_errors = error_responses(blp, ERRORS)


def _page(page: Page[Any]) -> dict[str, Any]:
    return {"items": page.items, "total": page.total, "page": page.page, "per_page": page.per_page}


@blp.post("/courses/<int:course_id>/enrolments")
@allow(USER)
@blp.arguments(EnrolRequestSchema())  # an instance: a class would be instantiated per request
@blp.response(201, EnrolmentSchema)
@_document_errors(403, 404, 409, 422)
@blp.doc(security=BEARER)
def enrol(data: dict[str, Any], course_id: int) -> rosters.EnrolmentView:
    """Enrol yourself (or, as the course's trainer or an admin, ``user_id``): ``enrolled``,
    ``waitlisted`` with a place when the course is full, or ``pending`` approval."""
    actor = current_api_user()
    learner = None
    if data["user_id"] is not None:
        learner = enrolment_service.learner_by_id(
            actor, lookups.get_course(course_id, with_trainers=False), data["user_id"]
        )
    placed = enrolment_service.enrol_in_course(actor, course_id, learner)
    return rosters.placed_view(placed)


@blp.delete("/enrolments/<int:enrolment_id>")
@allow(USER)
@blp.arguments(ReasonSchema, location="query")
@blp.response(200, EnrolmentSchema)
@_document_errors(404, 422)
@blp.doc(security=BEARER)
def cancel(data: dict[str, Any], enrolment_id: int) -> rosters.EnrolmentView:
    """Cancel your enrolment (before the deadline if you hold a seat), or remove a learner
    as the course's trainer or an admin; the first on the waitlist takes the seat."""
    enrolment = lookups.get_enrolment(enrolment_id)
    enrolment_service.cancel(current_api_user(), enrolment, reason=data["reason"])
    return rosters.view(enrolment)


@blp.post("/enrolments/<int:enrolment_id>/approve")
@allow(STAFF, owns="enrolment")
@blp.response(200, EnrolmentSchema)
@_document_errors(403, 404, 422)
@blp.doc(security=BEARER)
def approve(enrolment_id: int) -> rosters.EnrolmentView:
    """Approve a pending enrolment: a seat, or the waitlist when the course is full."""
    enrolment = lookups.get_enrolment(enrolment_id)
    enrolment_service.approve(current_api_user(), enrolment)
    return rosters.view(enrolment)


@blp.post("/enrolments/<int:enrolment_id>/reject")
@allow(STAFF, owns="enrolment")
@blp.arguments(ReasonSchema)
@blp.response(200, EnrolmentSchema)
@_document_errors(403, 404, 422)
@blp.doc(security=BEARER)
def reject(data: dict[str, Any], enrolment_id: int) -> rosters.EnrolmentView:
    """Reject a pending enrolment, with an optional reason the learner sees."""
    enrolment = lookups.get_enrolment(enrolment_id)
    enrolment_service.reject(current_api_user(), enrolment, reason=data["reason"])
    return rosters.view(enrolment)


@blp.post("/enrolments/<int:enrolment_id>/promote")
@allow(STAFF, owns="enrolment")
@blp.response(200, EnrolmentSchema)
@_document_errors(403, 404, 422)
@blp.doc(security=BEARER)
def promote(enrolment_id: int) -> rosters.EnrolmentView:
    """Move a learner off the waitlist into a seat now (adds one seat to the capacity)."""
    enrolment = lookups.get_enrolment(enrolment_id)
    enrolment_service.promote(current_api_user(), enrolment)
    return rosters.view(enrolment)


@blp.get("/courses/<int:course_id>/enrolments")
@allow(STAFF, owns="course")
@blp.arguments(RosterQuerySchema, location="query")
@blp.response(200, RosterSchema)
@_document_errors(403, 404)
@blp.doc(security=BEARER)
def roster(args: dict[str, Any], course_id: int) -> dict[str, Any]:
    """The course's roster: pending first, then seats, then the waitlist in order."""
    course = lookups.get_course(course_id)
    page = rosters.roster(
        current_api_user(),
        course,
        status=args["status"],
        q=(args["q"] or "").strip()[:60] or None,
        page=args["page"],
        per_page=args["per_page"],
    )
    return _page(page)


@blp.get("/me/enrolments")
@allow(USER)
@blp.arguments(MyEnrolmentQuerySchema, location="query")
@blp.response(200, MyEnrolmentListSchema)
@blp.doc(security=BEARER)
def my_enrolments(args: dict[str, Any]) -> dict[str, Any]:
    """All your enrolments, newest first (cancelled and rejected ones too: filter with
    ``status``), with waitlist place, next session and whether you can still cancel."""
    page = rosters.my_enrolments(
        current_api_user(),
        statuses=(args["status"],) if args["status"] else None,
        page=args["page"],
        per_page=args["per_page"],
    )
    return _page(page)
