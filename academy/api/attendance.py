"""Attendance API: check-in windows and rotating tokens, check-in and check-out, roll-call
and corrections, online presence and video progress. Each handler parses, calls one
service function and answers (the request commits once, in academy.transactions); the
rules and their codes live in ``courses.services.attendance.checkin`` and
``courses.services.attendance``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import url_for
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from academy.access import STAFF, USER, allow
from academy.api.auth import BEARER, current_api_user
from academy.api.schemas import DATABASE_ID, error_responses
from courses.db import db
from courses.models import AttendanceMethod, AttendanceRecord, AttendanceStatus
from courses.services import attendance, lookups
from courses.services.attendance import checkin

blp = Blueprint("api_attendance", __name__, url_prefix="/api/v1", description="attendance")


class AttendanceSchema(Schema):
    id = fields.Integer()
    session_id = fields.Integer()
    user_id = fields.Integer()
    status = fields.Enum(AttendanceStatus, by_value=True)
    method = fields.Enum(AttendanceMethod, by_value=True)
    minutes = fields.Integer(metadata={"description": "minutes credited"})
    credited_hours = fields.Float()
    checked_in_at = fields.DateTime(format="iso", allow_none=True)
    checked_out_at = fields.DateTime(format="iso", allow_none=True)
    online_minutes = fields.Integer(metadata={"description": "minutes measured by heartbeats"})
    imported_minutes = fields.Integer(metadata={"description": "minutes from meeting reports"})
    video_complete = fields.Boolean()
    manual = fields.Boolean(metadata={"description": "status and minutes set by a trainer"})


class CheckinReplySchema(AttendanceSchema):
    action = fields.String(metadata={"description": "checkin or checkout"})
    already = fields.Boolean(metadata={"description": "done before: nothing changed"})


class WindowRequestSchema(Schema):
    opens_at = fields.AwareDateTime(load_default=None, allow_none=True)
    closes_at = fields.AwareDateTime(load_default=None, allow_none=True)


class WindowSchema(Schema):
    session_id = fields.Integer()
    opens_at = fields.DateTime(format="iso")
    closes_at = fields.DateTime(format="iso")
    checkout_until = fields.DateTime(format="iso")
    code = fields.String(metadata={"description": "the 6-digit fallback code"})


class TokenSchema(Schema):
    token = fields.String()
    expires_at = fields.DateTime(
        format="iso", metadata={"description": "the next token is shown from then on"}
    )
    url = fields.String(metadata={"description": "the check-in page with the token: the QR code"})


class CheckinRequestSchema(Schema):
    session_id = fields.Integer(required=True, validate=DATABASE_ID)
    token = fields.String(load_default=None, validate=validate.Length(max=64))
    code = fields.String(load_default=None, validate=validate.Length(max=12))
    action = fields.String(
        load_default=checkin.CHECK_IN,
        validate=validate.OneOf([checkin.CHECK_IN, checkin.CHECK_OUT]),
    )


class MarkSchema(Schema):
    user_id = fields.Integer(required=True, validate=DATABASE_ID)
    status = fields.Enum(AttendanceStatus, by_value=True, required=True)
    minutes = fields.Integer(load_default=None, allow_none=True)


class PresenceSchema(Schema):
    counted = fields.Boolean(
        metadata={"description": "whether this report earned a minute (inside the session)"}
    )
    meeting_url = fields.String(allow_none=True)
    attendance = fields.Nested(AttendanceSchema, allow_none=True)


class VideoRequestSchema(Schema):
    ranges = fields.List(
        fields.List(fields.Float(), validate=validate.Length(equal=2)),
        required=True,
        metadata={"description": "the player's played ranges in seconds, [[start, end], …]"},
    )
    duration = fields.Float(required=True, metadata={"description": "the video's length, s"})


class VideoStateSchema(Schema):
    watched_seconds = fields.Integer()
    duration_seconds = fields.Integer()
    share = fields.Float()
    complete = fields.Boolean()


_FIELDS = tuple(AttendanceSchema._declared_fields)


def _snapshot(record: AttendanceRecord) -> dict[str, Any]:
    """The record's fields as they are now (read before the commit expires them)."""
    return {name: getattr(record, name) for name in _FIELDS}


ERRORS = {
    403: "not_enrolled, or not a trainer of this course nor an admin",
    404: "No such session",
    422: "A rule refused: see error.code (checkin_not_open, checkin_closed, invalid_token, "
    "invalid_code, not_checked_in, not_onsite, not_online, not_recorded, invalid_marks, "
    "invalid_ranges, implausible_progress, checkin_window_order)",
    429: "Too many refused check-in attempts; try again later",
}
_document_errors = error_responses(blp, ERRORS)


def _window(session: Any) -> dict[str, Any]:
    opens, closes = checkin.window(session)
    return {
        "session_id": session.id,
        "opens_at": opens,
        "closes_at": closes,
        "checkout_until": checkin.checkout_until(session),
        "code": session.checkin_code,
    }


@blp.post("/sessions/<int:session_id>/checkin-window")
@allow(STAFF, owns="session")
@blp.arguments(WindowRequestSchema)
@blp.response(200, WindowSchema)
@_document_errors(403, 404, 422)
@blp.doc(security=BEARER)
def open_window(data: dict[str, Any], session_id: int) -> dict[str, Any]:
    """Open check-in (the session's trainers and admins): a new fallback code and the
    window, by default 30 minutes either side of the start."""
    session = lookups.get_session(session_id)
    checkin.open_checkin(current_api_user(), session, data["opens_at"], data["closes_at"])
    return _window(session)


@blp.delete("/sessions/<int:session_id>/checkin-window")
@allow(STAFF, owns="session")
@blp.response(200, WindowSchema)
@_document_errors(403, 404)
@blp.doc(security=BEARER)
def close_window(session_id: int) -> dict[str, Any]:
    """End the check-in window now; check-out stays possible until after the end."""
    session = lookups.get_session(session_id)
    checkin.close_checkin(current_api_user(), session)
    return _window(session)


@blp.get("/sessions/<int:session_id>/checkin-token")
@allow(STAFF, owns="session")
@blp.response(200, TokenSchema)
@_document_errors(403, 404, 422)
@blp.doc(security=BEARER)
def current_token(session_id: int) -> dict[str, Any]:
    """The rotating token to show now, and the check-in link that carries it."""
    session = lookups.get_session(session_id)
    shown = checkin.current_token(current_api_user(), session)
    url = url_for("attendance.checkin", session_id=session.id, t=shown.token, _external=True)
    return {"token": shown.token, "expires_at": shown.expires_at, "url": url}


@blp.post("/checkin")
@allow(USER)
@blp.arguments(CheckinRequestSchema)
@blp.response(201, CheckinReplySchema)
@blp.alt_response(200, schema=CheckinReplySchema, description="Done before: nothing changed")
@_document_errors(403, 404, 422, 429)
@blp.doc(security=BEARER)
def check_in(data: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Check in (or, with ``"action": "checkout"``, out) with the QR code's token or the
    fallback code. Refused attempts are rate-limited per learner."""
    session = lookups.get_session(data["session_id"])
    result = checkin.check(
        current_api_user(),
        session,
        token=data["token"],
        code=data["code"],
        action=data["action"],
    )
    reply = {
        **_snapshot(result.record),
        "action": result.action,
        "already": result.already,
    }
    return reply, 200 if result.already else 201


@blp.get("/sessions/<int:session_id>/attendance")
@allow(STAFF, owns="session")
@blp.response(200, AttendanceSchema(many=True))
@_document_errors(403, 404)
@blp.doc(security=BEARER)
def list_attendance(session_id: int) -> list[AttendanceRecord]:
    """Every attendance record of the session (its trainers and admins)."""
    session = lookups.get_session(session_id)
    attendance.require_session_manager(current_api_user(), session)
    return list(
        db.session.scalars(
            sa.select(AttendanceRecord)
            .where(AttendanceRecord.session_id == session.id)
            .order_by(AttendanceRecord.user_id)
        )
    )


@blp.post("/sessions/<int:session_id>/attendance")
@allow(STAFF, owns="session")
@blp.arguments(MarkSchema(many=True))
@blp.response(200, AttendanceSchema(many=True))
@_document_errors(403, 404, 422)
@blp.doc(security=BEARER)
def roll_call(marks: list[dict[str, Any]], session_id: int) -> list[dict[str, Any]]:
    """Roll-call and corrections: ``[{"user_id", "status", "minutes"?}]``, all or
    nothing; every change is audited and completion re-evaluated."""
    session = lookups.get_session(session_id)
    records = attendance.mark(current_api_user(), session, marks)
    return [_snapshot(record) for record in records]


@blp.delete("/sessions/<int:session_id>/attendance/<int:user_id>")
@allow(STAFF, owns="session")
@blp.response(200, AttendanceSchema)
@_document_errors(403, 404)
@blp.doc(security=BEARER)
def unmark(session_id: int, user_id: int) -> dict[str, Any]:
    """Undo a trainer's mark: the record goes back to what was measured."""
    session = lookups.get_session(session_id)
    record = attendance.unmark(current_api_user(), session, user_id)
    return _snapshot(record)


def _presence(session: Any) -> dict[str, Any]:
    presence = attendance.record_heartbeat(current_api_user(), session)
    reply = {
        "counted": presence.counted,
        "meeting_url": session.meeting_url,
        "attendance": _snapshot(presence.record) if presence.record else None,
    }
    return reply


@blp.post("/sessions/<int:session_id>/join")
@allow(USER)
@blp.response(200, PresenceSchema)
@_document_errors(403, 404, 422)
@blp.doc(security=BEARER)
def join(session_id: int) -> dict[str, Any]:
    """Join an online live session: records presence and returns the meeting link."""
    return _presence(lookups.get_session(session_id))


@blp.post("/sessions/<int:session_id>/heartbeat")
@allow(USER)
@blp.response(200, PresenceSchema)
@_document_errors(403, 404, 422)
@blp.doc(security=BEARER)
def heartbeat(session_id: int) -> dict[str, Any]:
    """Online presence, once a minute while the session page is open; minutes count
    only inside the session's time."""
    return _presence(lookups.get_session(session_id))


@blp.post("/sessions/<int:session_id>/video-progress")
@allow(USER)
@blp.arguments(VideoRequestSchema)
@blp.response(200, VideoStateSchema)
@_document_errors(403, 404, 422)
@blp.doc(security=BEARER)
def video_progress(data: dict[str, Any], session_id: int) -> dict[str, Any]:
    """The ranges of a recorded session's video actually played; 90 % earns the session."""
    session = lookups.get_session(session_id)
    state = attendance.record_video_progress(
        current_api_user(), session, data["ranges"], data["duration"]
    )
    reply = {
        "watched_seconds": state.watched_seconds,
        "duration_seconds": state.duration_seconds,
        "share": round(state.share, 4),
        "complete": state.complete,
    }
    return reply
