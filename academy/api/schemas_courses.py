"""API schemas for programmes, courses and sessions; field names are fixed by SPEC §5.

Dumping works from the model objects; ``class_hours``, ``seats_left``,
``next_session_at`` and ``sessions`` are read from attributes that the service layer
sets or that the models derive.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, post_dump, validate

from academy.api.schemas import ListArgsSchema
from courses.models import CourseLevel, CourseMode, PublicationStatus, SessionMode
from courses.services.courses.rules import TITLE_LENGTH
from courses.settings import FIRST_YEAR, LAST_YEAR


class TrainerRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class SessionSchema(Schema):
    id = fields.Integer(dump_only=True)
    course_id = fields.Integer(dump_only=True)
    title = fields.String(load_default="", validate=validate.Length(max=TITLE_LENGTH))
    starts_at = fields.AwareDateTime(required=True, format="iso")
    ends_at = fields.AwareDateTime(required=True, format="iso")
    mode = fields.Enum(SessionMode, by_value=True, required=True)
    venue = fields.String(
        allow_none=True, load_default=None, validate=validate.Length(max=TITLE_LENGTH)
    )
    room = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=60))
    address = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=255))
    meeting_url = fields.String(allow_none=True, load_default=None)
    meeting_number = fields.String(allow_none=True, load_default=None)
    video_url = fields.String(allow_none=True, load_default=None)
    class_hours = fields.Float(
        allow_none=True,
        load_default=None,
        metadata={"description": "default: duration / minutes per class hour"},
    )
    capacity = fields.Integer(allow_none=True, load_default=None)


class SessionPatchSchema(SessionSchema):
    """Load with ``partial=True``: only what is sent changes."""


class CourseSchema(Schema):
    id = fields.Integer(dump_only=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=TITLE_LENGTH))
    summary = fields.String(load_default="", validate=validate.Length(max=500))
    description = fields.String(load_default="")
    topic = fields.String(required=True, validate=validate.Length(min=1, max=40))
    level = fields.Enum(CourseLevel, by_value=True, required=True)
    mode = fields.Enum(CourseMode, by_value=True, required=True)
    capacity = fields.Integer(allow_none=True, load_default=None)
    enrol_opens_at = fields.AwareDateTime(allow_none=True, load_default=None, format="iso")
    enrol_closes_at = fields.AwareDateTime(allow_none=True, load_default=None, format="iso")
    cancel_deadline = fields.AwareDateTime(allow_none=True, load_default=None, format="iso")
    completion_threshold = fields.Float(load_default=0.8)
    feedback_required = fields.Boolean(load_default=False)
    approval_required = fields.Boolean(load_default=False)
    prerequisite_ids = fields.List(fields.Integer(), load_default=list)
    trainer_ids = fields.List(fields.Integer(), load_default=list)
    programme_id = fields.Integer(allow_none=True, load_default=None)
    status = fields.Enum(PublicationStatus, by_value=True, load_default=PublicationStatus.DRAFT)
    # Derived, read-only.
    class_hours = fields.Float(dump_only=True)
    seats_left = fields.Integer(dump_only=True, allow_none=True)
    next_session_at = fields.AwareDateTime(dump_only=True, allow_none=True, format="iso")
    trainers = fields.List(fields.Nested(TrainerRefSchema), dump_only=True)
    sessions = fields.List(fields.Nested(SessionSchema), dump_only=True)

    @post_dump(pass_original=True)
    def hide_the_meeting(self, data: dict[str, Any], original: Any, **kwargs: Any) -> dict:
        """A catalogue page (``CourseDetail``) shows how to join online only to those
        ``permissions.can_see_meeting`` lets in: null for everyone else."""
        if getattr(original, "shows_meeting", True) is False:
            for session in data.get("sessions", []):
                session["meeting_url"] = session["meeting_number"] = None
        return data


class CoursePatchSchema(CourseSchema):
    """Load with ``partial=True``: only what is sent changes."""


class CourseSummarySchema(CourseSchema):
    """A catalogue entry: the course without its sessions."""

    class Meta:
        exclude = ("sessions", "description")


def _month_in_years(month: str) -> None:
    year = month[:4]
    if year.isdigit() and not FIRST_YEAR <= int(year) <= LAST_YEAR:
        raise ValidationError(
            str(_l("Choose a month from %(first)d to %(last)d.", first=FIRST_YEAR, last=LAST_YEAR))
        )


class CourseQuerySchema(ListArgsSchema):
    q = fields.String(load_default=None, validate=validate.Length(max=100))
    topic = fields.String(load_default=None)
    level = fields.Enum(CourseLevel, by_value=True, load_default=None)
    mode = fields.Enum(CourseMode, by_value=True, load_default=None)
    month = fields.String(
        load_default=None,
        validate=[validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$"), _month_in_years],
        metadata={"description": "YYYY-MM: courses with a session in that month"},
    )
    available = fields.Boolean(load_default=False, metadata={"description": "only seats left"})
    when = fields.String(
        load_default="all",
        validate=validate.OneOf(("current", "past", "all")),
        metadata={"description": "current: not over yet; past: over; all (default)"},
    )


class ProgrammeSchema(Schema):
    id = fields.Integer(dump_only=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=TITLE_LENGTH))
    summary = fields.String(load_default="", validate=validate.Length(max=500))
    description = fields.String(load_default="")
    level = fields.Enum(CourseLevel, by_value=True, allow_none=True, load_default=None)
    status = fields.Enum(PublicationStatus, by_value=True, load_default=PublicationStatus.DRAFT)
    required_course_count = fields.Integer(allow_none=True, load_default=None)
    required_hours = fields.Float(allow_none=True, load_default=None)
    certificate_title = fields.String(allow_none=True, load_default=None)
    course_ids = fields.List(fields.Integer(), dump_only=True)
