"""Hours ledger API: the learner's credited hours; outside hours and requirements (admins).
Each handler parses, calls one service function and answers (the request commits once,
in academy.transactions); the rules (and the registration-cycle rule) live in
``courses.services.hours``."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from academy.access import ADMIN, USER, allow
from academy.api.auth import BEARER, current_api_user
from academy.api.schemas import ListArgsSchema, error_responses, list_schema
from courses.models import (
    AttendanceStatus,
    ExternalHoursRecord,
    QualificationLevel,
    QualificationRequirement,
)
from courses.services import accounts
from courses.services import hours as hours_service
from courses.services.pagination import Page

blp = Blueprint("api_hours", __name__, url_prefix="/api/v1", description="hours")


class YearArgsSchema(Schema):
    year = fields.Integer(
        load_default=None,
        validate=validate.Range(min=2000, max=2100),
        metadata={"description": "calendar year (Asia/Shanghai); default: this year"},
    )


class SessionHoursSchema(Schema):
    session_id = fields.Integer()
    title = fields.String()
    starts_at = fields.DateTime(format="iso")
    credited_hours = fields.Float()
    status = fields.Enum(AttendanceStatus, by_value=True)


class CourseHoursSchema(Schema):
    course_id = fields.Integer()
    title = fields.String()
    hours = fields.Float()
    sessions = fields.List(fields.Nested(SessionHoursSchema))


class ExternalHoursSchema(Schema):
    id = fields.Integer(dump_only=True)
    title = fields.String(required=True, metadata={"description": "what the training was"})
    hours = fields.Float(required=True, metadata={"description": "more than 0, at most 200"})
    earned_on = fields.Date(required=True)
    note = fields.String(load_default="", allow_none=True)
    external = fields.Constant(True, dump_only=True)


class CycleSchema(Schema):
    starts_on = fields.Date()
    ends_on = fields.Date(metadata={"description": "the cycle's last day"})
    hours = fields.Float()
    academy_hours = fields.Float()
    external_hours = fields.Float()
    required_hours = fields.Float()
    cycle_years = fields.Integer()
    progress = fields.Float(metadata={"description": "hours / required hours, at most 1"})
    remaining_hours = fields.Float()


class LedgerSchema(Schema):
    year = fields.Integer()
    year_hours = fields.Float(metadata={"description": "academy and outside hours together"})
    year_academy_hours = fields.Float()
    year_external_hours = fields.Float()
    cycle = fields.Nested(
        CycleSchema,
        allow_none=True,
        metadata={"description": "the current registration cycle; null without a requirement"},
    )
    qualification_level = fields.Enum(QualificationLevel, by_value=True)
    courses = fields.List(fields.Nested(CourseHoursSchema))
    external = fields.List(fields.Nested(ExternalHoursSchema))


class RequirementSchema(Schema):
    level = fields.Enum(QualificationLevel, by_value=True, dump_only=True)
    required_hours = fields.Float(required=True)
    cycle_years = fields.Integer(required=True)


ExternalHoursListSchema = list_schema(ExternalHoursSchema, "ExternalHoursList")
ERRORS = {
    403: "Admins only",
    404: "No such user or record",
    422: "A rule refused: see error.code (title_required, invalid_hours, invalid_date, "
    "note_too_long, invalid_level, invalid_required_hours, invalid_cycle_years)",
}
_document_errors = error_responses(blp, ERRORS)


@blp.get("/me/hours")
@allow(USER)
@blp.arguments(YearArgsSchema, location="query")
@blp.response(200, LedgerSchema)
@_document_errors(422)
@blp.doc(security=BEARER)
def my_hours(args: dict[str, Any]) -> hours_service.Ledger:
    """Your credited class hours per course and session for the year, and for your
    current registration cycle against the requirement of your qualification level;
    hours earned outside the academy are listed apart (``external``)."""
    return hours_service.ledger(current_api_user(), args["year"])


@blp.get("/users/<int:user_id>/external-hours")
@allow(ADMIN)
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, ExternalHoursListSchema)
@_document_errors(403, 404)
@blp.doc(security=BEARER)
def external_hours(args: dict[str, Any], user_id: int) -> dict[str, Any]:
    """A user's hours earned outside the academy, newest first (admins)."""
    actor = current_api_user()
    page: Page[ExternalHoursRecord] = hours_service.external_records(
        actor, accounts.get_user(user_id), page=args["page"], per_page=args["per_page"]
    )
    return {"items": page.items, "total": page.total, "page": page.page, "per_page": page.per_page}


@blp.post("/users/<int:user_id>/external-hours")
@allow(ADMIN)
@blp.arguments(ExternalHoursSchema)
@blp.response(201, ExternalHoursSchema)
@_document_errors(403, 404, 422)
@blp.doc(security=BEARER)
def add_external_hours(data: dict[str, Any], user_id: int) -> ExternalHoursRecord:
    """Add hours a user earned outside the academy, with a note (admins)."""
    actor = current_api_user()
    record = hours_service.add_external_hours(
        actor,
        accounts.get_user(user_id),
        data["title"],
        data["hours"],
        data["earned_on"],
        data["note"] or "",
    )
    return record


@blp.delete("/external-hours/<int:record_id>")
@allow(ADMIN)
@blp.response(204)
@_document_errors(403, 404)
@blp.doc(security=BEARER)
def delete_external_hours(record_id: int) -> None:
    """Delete a record of outside hours (admins)."""
    actor = current_api_user()
    hours_service.delete_external_hours(actor, hours_service.get_external_record(record_id))


@blp.get("/qualification-requirements")
@allow(USER)
@blp.response(200, RequirementSchema(many=True))
@blp.doc(security=BEARER)
def requirements() -> list[hours_service.Requirement]:
    """The continuing-education requirement of each qualification level."""
    return hours_service.requirements()


@blp.put("/qualification-requirements/<level>")
@allow(ADMIN)
@blp.arguments(RequirementSchema)
@blp.response(200, RequirementSchema)
@_document_errors(403, 422)
@blp.doc(security=BEARER)
def set_requirement(data: dict[str, Any], level: str) -> QualificationRequirement:
    """Change a level's hours per cycle and the cycle's length (admins)."""
    row = hours_service.set_requirement(
        current_api_user(), level, data["required_hours"], data["cycle_years"]
    )
    return row
