"""Meeting-report API: upload a participant export for preview, read it, apply it. Each
handler parses, calls one service function and answers (the request commits once, in
academy.transactions); the rules and their codes live in
``courses.services.meeting_reports`` (its docstring documents the layouts)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from academy.access import STAFF, allow
from academy.api.auth import BEARER, current_api_user
from academy.api.materials import MultipartParser
from academy.api.schemas import error_responses
from courses.models import ImportStatus
from courses.services import lookups, meeting_reports

blp = Blueprint(
    "api_meeting_reports", __name__, url_prefix="/api/v1", description="meeting reports"
)
blp.ARGUMENTS_PARSER = MultipartParser()


class ReportUploadSchema(Schema):
    file = Upload(
        required=True,
        metadata={
            "description": "the participant export of Tencent Meeting, Zoom, Feishu, DingTalk "
            "or WeCom as the product saves it, or a file in the generic layout (CSV or XLSX, "
            "at most 5 MB and 5000 rows); only for a session that has ended"
        },
    )


class CandidateSchema(Schema):
    user_id = fields.Integer()
    name = fields.String()


class ReportRowSchema(Schema):
    row = fields.Integer(metadata={"description": "the person's first row in the file, from 1"})
    rows = fields.List(fields.Integer(), metadata={"description": "all the person's rows"})
    name = fields.String()
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    minutes = fields.Integer(
        allow_none=True, metadata={"description": "minutes inside the session, rows added up"}
    )
    credited_hours = fields.Float(
        allow_none=True, metadata={"description": "matched rows: the credit these minutes give"}
    )
    outcome = fields.String(
        metadata={"description": "matched, ambiguous, unmatched or invalid"},
    )
    reason = fields.String(
        allow_none=True,
        metadata={
            "description": "why a row is not matched: no_identifier, masked_phone, bad_time, "
            "bad_duration, duration_too_long, negative, left_before_joined, no_duration, "
            "not_enrolled, unknown_name, same_name, phone_tail_differs, masked_phone_only, "
            "phone_and_email_differ, several_learners, host, trainer"
        },
    )
    via = fields.String(
        allow_none=True,
        metadata={
            "description": "matched rows: contact (phone or e-mail), remembered (a name chosen "
            "before), name_phone (name and the phone's last four digits), name, chosen"
        },
    )
    upper_bound = fields.Boolean(
        metadata={
            "description": "the file gives only first join, last leave and a total per "
            "person: the minutes are at most these"
        }
    )
    pickable = fields.Boolean(
        metadata={"description": "the trainer may choose the learner on applying (choices)"}
    )
    message = fields.String(allow_none=True, metadata={"description": "the reason, in words"})
    value = fields.String(metadata={"description": "the value the reason is about"})
    user_id = fields.Integer(allow_none=True)
    learner_name = fields.String(allow_none=True)
    candidates = fields.List(
        fields.Nested(CandidateSchema), metadata={"description": "ambiguous: the learners"}
    )


class ChoiceSchema(Schema):
    row = fields.Integer(
        required=True, strict=True, metadata={"description": "the person's first row (row)"}
    )
    user_id = fields.Integer(
        required=True,
        strict=True,
        allow_none=True,
        metadata={"description": "an enrolled learner (one of learners), or null: leave out"},
    )


class ApplyReportSchema(Schema):
    choices = fields.List(
        fields.Nested(ChoiceSchema),
        load_default=list,
        metadata={
            "description": "the learner for each pickable row; remembered for the learner's "
            "next reports"
        },
    )


class ReportCountsSchema(Schema):
    matched = fields.Integer()
    ambiguous = fields.Integer()
    unmatched = fields.Integer()
    invalid = fields.Integer()


class AttendanceImportSchema(Schema):
    id = fields.Integer()
    session_id = fields.Integer()
    filename = fields.String()
    layout = fields.String(metadata={"description": "tencent, dingtalk, wecom or generic"})
    status = fields.Enum(ImportStatus, by_value=True)
    created_at = fields.DateTime(format="iso")
    applied_at = fields.DateTime(format="iso", allow_none=True)
    applied_by_id = fields.Integer(allow_none=True)
    counts = fields.Nested(ReportCountsSchema)
    rows = fields.List(fields.Nested(ReportRowSchema))
    learners = fields.List(
        fields.Nested(CandidateSchema),
        metadata={"description": "a report with pickable rows: the learners to choose from"},
    )


ERRORS = {
    403: "Not a trainer of this course, nor an admin",
    404: "No such session or report",
    422: "invalid_report (not a readable report), report_too_large (over 5 MB or 5000 rows), "
    "not_online (the session is neither online nor hybrid), session_not_ended (the session "
    "has not ended yet), invalid_choice (a choice names a row that cannot be chosen or a "
    "learner not enrolled), nothing_to_apply (no row matched and none was chosen)",
}
_document_errors = error_responses(blp, ERRORS)


@blp.post("/sessions/<int:session_id>/attendance-reports")
@allow(STAFF, owns="session")
@blp.arguments(ReportUploadSchema, location="files")
@blp.response(201, AttendanceImportSchema)
@blp.alt_response(200, schema=AttendanceImportSchema, description="This file was uploaded before")
@_document_errors(403, 404, 422)
@blp.doc(security=BEARER)
def upload_report(form: dict[str, Any], session_id: int) -> Any:
    """Upload a meeting platform's participant export (multipart/form-data, field ``file``)
    for preview: matched, ambiguous, unmatched and invalid rows. Nothing is applied; the
    same file again answers 200 with the same import."""
    session = lookups.get_session(session_id)
    upload = form["file"]
    data = upload.stream.read(meeting_reports.MAX_REPORT_BYTES + 1)
    uploaded = meeting_reports.upload_report(
        current_api_user(), session, upload.filename or "", data
    )
    reply = meeting_reports.view(uploaded.report_import, session)
    return reply, 201 if uploaded.created else 200


@blp.get("/attendance-reports/<int:import_id>")
@allow(STAFF, owns="import")
@blp.response(200, AttendanceImportSchema)
@_document_errors(403, 404)
@blp.doc(security=BEARER)
def get_report(import_id: int) -> dict[str, Any]:
    """An uploaded report with its rows and what each matched."""
    report_import = meeting_reports.get_import(current_api_user(), import_id)
    return meeting_reports.view(report_import)


@blp.post("/attendance-reports/<int:import_id>/apply")
@allow(STAFF, owns="import")
@blp.arguments(ApplyReportSchema, location="json", required=False)
@blp.response(200, AttendanceImportSchema)
@_document_errors(403, 404, 422)
@blp.doc(security=BEARER)
def apply_report(data: dict[str, Any], import_id: int) -> dict[str, Any]:
    """Apply the matched rows, and the rows given a learner in ``choices``, to the
    learners' attendance (status ``applied``); applying an applied report changes
    nothing."""
    actor = current_api_user()
    report_import = meeting_reports.get_import(actor, import_id)
    choices = {choice["row"]: choice["user_id"] for choice in data.get("choices") or []}
    applied = meeting_reports.apply_report(actor, report_import, choices=choices)
    return meeting_reports.view(applied)
