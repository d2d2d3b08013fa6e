"""Statistics API: the figures of a period, grouped by one dimension, from the summary
tables (admins everything, trainers their own courses). The rules live in
``courses.services.stats``."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from academy.access import STAFF, allow
from academy.api.auth import BEARER, current_api_user
from academy.api.schemas import error_responses
from courses.services import stats

blp = Blueprint("api_stats", __name__, url_prefix="/api/v1", description="statistics")
_document_errors = error_responses(
    blp,
    {
        403: "Learners see no statistics",
        422: "invalid_period (from, to) or invalid_group_by",
    },
)
_PERIOD = validate.Length(max=10)


class StatsArgsSchema(Schema):
    start = fields.String(
        data_key="from",
        validate=_PERIOD,
        metadata={"description": "2025, 2025-03 or 2025-03-01 (its month); default: this year"},
    )
    end = fields.String(
        data_key="to",
        validate=_PERIOD,
        metadata={"description": "as ``from``, inclusive; default: the end of from's year"},
    )
    group_by = fields.String(
        validate=validate.Length(max=20),
        metadata={"description": " / ".join(stats.GROUPS) + "; none: the summary only"},
    )


class StatsRowSchema(Schema):
    key = fields.Raw(
        allow_none=True,
        metadata={"description": "year 2025, quarter 20251, month 202503, or the group's id"},
    )
    label = fields.String(allow_none=True)
    courses = fields.Integer()
    sessions = fields.Integer(allow_none=True, metadata={"description": "null by organisation"})
    sessions_online = fields.Integer(allow_none=True)
    class_hours = fields.Float(allow_none=True, metadata={"description": "课时 delivered"})
    class_hours_online = fields.Float(allow_none=True)
    class_hours_offline = fields.Float(allow_none=True)
    participant_times = fields.Integer(metadata={"description": "人次: attendances counted"})
    participant_times_online = fields.Integer()
    participant_times_offline = fields.Integer()
    unique_participants = fields.Integer(
        metadata={"description": "人数: distinct people over the whole period and group"}
    )
    unique_participants_online = fields.Integer()
    unique_participants_offline = fields.Integer()
    enrolments = fields.Integer()
    completions = fields.Integer()
    completion_rate = fields.Float(allow_none=True)
    certificates = fields.Integer()
    credited_hours = fields.Float()
    feedback_count = fields.Integer()
    satisfaction = fields.Float(allow_none=True, metadata={"description": "mean score 1–5"})


class StatsSchema(Schema):
    start = fields.String(data_key="from", required=True)
    end = fields.String(data_key="to", required=True)
    label = fields.String(required=True)
    group_by = fields.String(allow_none=True)
    items = fields.List(fields.Nested(StatsRowSchema), required=True)
    total = fields.Integer(required=True)
    summary = fields.Nested(StatsRowSchema, required=True)


@blp.get("/stats")
@allow(STAFF)
@blp.arguments(StatsArgsSchema, location="query")
@blp.response(200, StatsSchema)
@_document_errors(403, 422)
@blp.doc(security=BEARER)
def figures(args: dict[str, Any]) -> dict[str, Any]:
    """A period's figures (whole months), one item per group, and the period's summary.
    人数 (unique participants) is counted over the period and the group, never added
    up from smaller periods; admins see every course, trainers their own."""
    actor = current_api_user()
    period = stats.period(args.get("start"), args.get("end"))
    found = stats.figures(actor, period, args.get("group_by") or None)
    return {
        "start": stats.month_label(period.first),
        "end": stats.month_label(period.last),
        "label": period.label,
        "group_by": found.group_by,
        "items": [row.as_dict() for row in found.items],
        "total": len(found.items),
        "summary": found.summary.as_dict(),
    }
