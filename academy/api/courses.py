"""Course management API: courses, sessions, cloning and programmes.

Each handler parses, calls one service function and answers (the request commits once,
in academy.transactions); the rules (and their 403/404/422 codes) live in
``courses.services.courses`` and ``.programmes``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import g
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from academy.access import PUBLIC, STAFF, allow
from academy.api.auth import BEARER, current_api_user
from academy.api.schemas import ListArgsSchema, error_responses, list_schema
from academy.api.schemas_courses import (
    CoursePatchSchema,
    CourseSchema,
    ProgrammeSchema,
    SessionPatchSchema,
    SessionSchema,
)
from courses.db import utcnow
from courses.models import Course, CourseSession, Programme
from courses.services import courses as course_service
from courses.services import lookups
from courses.services import programmes as programme_service

blp = Blueprint("api_courses", __name__, url_prefix="/api/v1", description="courses")


class CloneSchema(Schema):
    title = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=course_service.TITLE_LENGTH),
    )
    first_session_at = fields.AwareDateTime(
        load_default=None,
        allow_none=True,
        format="iso",
        metadata={"description": "move every session so that the first starts then"},
    )
    first_session_on = fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": "or: the first session's new date, at its time of day"},
    )
    shift_days = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=-3660, max=3660),
        metadata={"description": "or: move every session by this many days"},
    )


class ProgrammeCourseSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    status = fields.String()


class ProgrammeOutSchema(ProgrammeSchema):
    courses = fields.List(fields.Nested(ProgrammeCourseSchema), dump_only=True)


class ProgrammeInSchema(ProgrammeSchema):
    course_ids = fields.List(
        fields.Integer(), metadata={"description": "the programme's courses (replaces them)"}
    )


class ProgrammePatchSchema(ProgrammeInSchema):
    """Every field optional (loaded with ``partial=True``): only what is sent changes."""


class ProgrammeQuerySchema(ListArgsSchema):
    pass


ProgrammeListSchema = list_schema(ProgrammeOutSchema, "ProgrammeList")
ERRORS = {
    403: "Not a trainer of this course, nor an admin",
    404: "No such course, session or programme",
    422: "A rule refused the data: see error.code",
}


_document_errors = error_responses(blp, ERRORS)


def course_json(course: Course) -> dict[str, Any]:
    """The full course: its fields, trainers, prerequisites, sessions and derived values."""
    sessions = sorted(course.sessions, key=lambda s: s.starts_at)
    now = utcnow()
    upcoming = [s.starts_at for s in sessions if s.starts_at >= now]
    data = {name: getattr(course, name) for name in course_service.COURSE_FIELDS}
    data.update(
        id=course.id,
        trainer_ids=[t.id for t in course.trainers],
        trainers=course.trainers,
        prerequisite_ids=[c.id for c in course.prerequisites],
        sessions=sessions,
        class_hours=round(sum(float(s.class_hours) for s in sessions), 2),
        seats_left=course.seats_left,
        next_session_at=upcoming[0] if upcoming else None,
    )
    return data


def programme_json(programme: Programme) -> dict[str, Any]:
    data = {name: getattr(programme, name) for name in programme_service.PROGRAMME_FIELDS}
    courses = sorted(programme.courses, key=lambda c: (c.title, c.id))
    data.update(
        id=programme.id,
        course_ids=[c.id for c in courses],
        courses=[{"id": c.id, "title": c.title, "status": str(c.status)} for c in courses],
    )
    return data


# --- courses ----------------------------------------------------------------------------


@blp.post("/courses")
@allow(STAFF)
@blp.arguments(CourseSchema)
@blp.response(201, CourseSchema)
@_document_errors(403, 422)
@blp.doc(security=BEARER)
def create_course(data: dict[str, Any]) -> dict[str, Any]:
    """Create a course (trainers become its trainers; admins name them in ``trainer_ids``)."""
    course = course_service.create_course(current_api_user(), data)
    return course_json(course)


@blp.patch("/courses/<int:course_id>")
@allow(STAFF, owns="course")
@blp.arguments(CoursePatchSchema(partial=True))
@blp.response(200, CourseSchema)
@_document_errors(403, 404, 422)
@blp.doc(security=BEARER)
def update_course(data: dict[str, Any], course_id: int) -> dict[str, Any]:
    """Edit a course; ``status`` publishes (needs a session), archives or returns to draft."""
    course = lookups.get_course(course_id)
    course_service.update_course(current_api_user(), course, data)
    return course_json(course)


@blp.post("/courses/<int:course_id>/clone")
@allow(STAFF, owns="course")
@blp.arguments(CloneSchema)
@blp.response(201, CourseSchema)
@_document_errors(403, 404, 422)
@blp.doc(security=BEARER)
def clone_course(data: dict[str, Any], course_id: int) -> dict[str, Any]:
    """Copy a course for a new run, as a draft, with its sessions moved in time."""
    course = lookups.get_course(course_id)
    copy = course_service.clone_course(current_api_user(), course, **_when_cloned(data))
    return course_json(copy)


def _when_cloned(data: dict[str, Any]) -> dict[str, Any]:
    """A clone request's shift and new title, as the clone services take them."""
    shift = timedelta(days=data["shift_days"]) if data["shift_days"] is not None else None
    return {
        "shift_by": shift,
        "first_session_at": data["first_session_at"],
        "first_session_on": data["first_session_on"],
        "title": data["title"],
    }


# --- sessions ---------------------------------------------------------------------------


@blp.post("/courses/<int:course_id>/sessions")
@allow(STAFF, owns="course")
@blp.arguments(SessionSchema)
@blp.response(201, SessionSchema)
@_document_errors(403, 404, 422)
@blp.doc(security=BEARER)
def add_session(data: dict[str, Any], course_id: int) -> CourseSession:
    """Add a session; ``class_hours`` defaults to the duration / minutes per class hour."""
    course = lookups.get_course(course_id)
    session = course_service.add_session(current_api_user(), course, data)
    return session


@blp.patch("/sessions/<int:session_id>")
@allow(STAFF, owns="session")
@blp.arguments(SessionPatchSchema(partial=True))
@blp.response(200, SessionSchema)
@_document_errors(403, 404, 422)
@blp.doc(security=BEARER)
def update_session(data: dict[str, Any], session_id: int) -> CourseSession:
    """Edit a session; only the fields sent change."""
    session = lookups.get_session(session_id)
    course_service.update_session(current_api_user(), session, data)
    return session


@blp.delete("/sessions/<int:session_id>")
@allow(STAFF, owns="session")
@blp.response(204)
@_document_errors(403, 404, 422)
@blp.doc(security=BEARER)
def delete_session(session_id: int) -> None:
    """Delete a session nobody attended (a published course keeps at least one)."""
    session = lookups.get_session(session_id)
    course_service.delete_session(current_api_user(), session)


# --- programmes ---------------------------------------------------------------------------


@blp.get("/programmes")
@allow(PUBLIC)
@blp.arguments(ProgrammeQuerySchema, location="query")
@blp.response(200, ProgrammeListSchema)
def list_programmes(args: dict[str, Any]) -> dict[str, Any]:
    """Published programmes with their courses; with a token, also the ones the caller
    manages (all for admins, their own for trainers)."""
    page = programme_service.list_programmes(
        viewer=g.get("api_user"),
        page=args["page"],
        per_page=args["per_page"],
    )
    return {
        "items": [programme_json(p) for p in page.items],
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
    }


@blp.post("/programmes")
@allow(STAFF)
@blp.arguments(ProgrammeInSchema)
@blp.response(201, ProgrammeOutSchema)
@_document_errors(403, 422)
@blp.doc(security=BEARER)
def create_programme(data: dict[str, Any]) -> dict[str, Any]:
    """Create a programme (trainer or admin) with its completion rule and, optionally, its
    courses; a trainer may attach only courses they teach and then manages the programme."""
    programme = programme_service.create_programme(current_api_user(), data)
    return programme_json(programme)


@blp.patch("/programmes/<int:programme_id>")
@allow(STAFF, owns="programme")
@blp.arguments(ProgrammePatchSchema(partial=True))
@blp.response(200, ProgrammeOutSchema)
@_document_errors(403, 404, 422)
@blp.doc(security=BEARER)
def update_programme(data: dict[str, Any], programme_id: int) -> dict[str, Any]:
    """Edit a programme (its trainer or an admin); ``status`` publishes or archives it."""
    user = current_api_user()
    programme = programme_service.get_programme(programme_id)
    programme_service.update_programme(user, programme, data)
    return programme_json(programme)


@blp.post("/programmes/<int:programme_id>/clone")
@allow(STAFF, owns="programme")
@blp.arguments(CloneSchema)
@blp.response(201, ProgrammeOutSchema)
@_document_errors(403, 404, 422)
@blp.doc(security=BEARER)
def clone_programme(data: dict[str, Any], programme_id: int) -> dict[str, Any]:
    """Copy a programme and each of its courses for a new run, as drafts, moved in time."""
    programme = programme_service.get_programme(programme_id)
    copy = programme_service.clone_programme(current_api_user(), programme, **_when_cloned(data))
    return programme_json(copy)
