"""Online sessions and recordings for learners: the session page, joining the meeting,
the heartbeat each minute and the recording's progress (scripts call the last two:
they answer in JSON). The rules live in ``courses.services.attendance``."""

from __future__ import annotations

from typing import Any

from flask import (
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
)
from flask_login import current_user

from academy.access import USER, allow
from academy.attendance import bp
from academy.auth import answers_json, wants_json
from academy.manage.forms import ButtonForm
from courses.db import utcnow
from courses.services import attendance, lookups
from courses.services.permissions import require_course_visible

# ---- learners: online sessions and recordings ----------------------------------------------


@bp.get("/sessions/<int:session_id>")
@allow(USER)
def session_page(session_id: int) -> str:
    """Attend a session: join the live meeting (with a heartbeat each minute while the
    page is open), watch the recording, or check in on site."""
    session = lookups.get_session(session_id)
    require_course_visible(current_user, session.course)  # as the course page
    enrolment = attendance.attending_enrolment(session, current_user.id)
    return render_template(
        "attendance/session.html",
        session=session,
        course=session.course,
        enrolment=enrolment,
        record=attendance.own_record(current_user, session),
        progress=attendance.own_video_progress(current_user, session),
        now=utcnow(),
        button=ButtonForm(),
        required_share=attendance.VIDEO_SHARE_REQUIRED,
        heartbeat_seconds=current_app.config.get("HEARTBEAT_SECONDS", 60),
    )


@bp.post("/sessions/<int:session_id>/join")
@allow(USER)
def join(session_id: int) -> Any:
    """Record the join and open the meeting (a form without script lands here too)."""
    session = lookups.get_session(session_id)
    presence = attendance.record_heartbeat(current_user, session)
    if wants_json():
        return jsonify(counted=presence.counted, meeting_url=session.meeting_url)
    if not session.meeting_url:
        abort(404)
    return redirect(session.meeting_url)


@bp.post("/sessions/<int:session_id>/heartbeat")
@allow(USER)
@answers_json
def heartbeat(session_id: int) -> Any:
    session = lookups.get_session(session_id)
    presence = attendance.record_heartbeat(current_user, session)
    record = presence.record
    return jsonify(
        counted=presence.counted,
        online_minutes=record.online_minutes if record else 0,
        credited_hours=record.credited_hours if record else 0,
    )


@bp.post("/sessions/<int:session_id>/video-progress")
@allow(USER)
@answers_json
def video_progress(session_id: int) -> Any:
    session = lookups.get_session(session_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        body = {}
    state = attendance.record_video_progress(
        current_user, session, body.get("ranges"), body.get("duration")
    )
    return jsonify(
        watched_seconds=state.watched_seconds,
        duration_seconds=state.duration_seconds,
        share=round(state.share, 4),
        complete=state.complete,
    )
