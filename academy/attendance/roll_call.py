"""The trainer's side of attendance: the full-screen check-in QR code, opening and
closing check-in, and roll-call (点名) with its corrections. The rules live in
``courses.services.attendance.checkin`` and ``courses.services.attendance``."""

from __future__ import annotations

import io
from typing import Any

import segno
from flask import (
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from academy.access import STAFF, allow
from academy.attendance import bp
from academy.attendance.forms import WindowForm
from academy.auth import answers_json
from academy.forms import attempt
from academy.manage.forms import ButtonForm
from courses.db import database_id
from courses.models import AttendanceStatus, CourseSession
from courses.services import attendance, permissions
from courses.services.attendance import checkin
from courses.settings import from_local

ROLL_CALL_STATUSES = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.PARTIAL,
    AttendanceStatus.ABSENT,
    AttendanceStatus.EXCUSED,
)
ROLL_CALL_FILTERS = frozenset({attendance.UNMARKED, *(s.value for s in ROLL_CALL_STATUSES)})
ROLL_CALL_PER_PAGE = 50


def _qr_svg(url: str) -> Markup:
    """The check-in link as an inline SVG QR code (no external requests)."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(
        buffer, kind="svg", scale=10, border=2, xmldecl=False, svgns=True, omitsize=True
    )
    return Markup(buffer.getvalue().decode())


# ---- trainers: the check-in screen and roll-call --------------------------------------------


@bp.get("/manage/sessions/<int:session_id>/checkin")
@allow(STAFF, owns="session")
def checkin_screen(session_id: int) -> str:
    """Full-screen QR code for the room's projector; it refreshes itself."""
    session = permissions.managed_session(current_user, session_id)
    shown = None
    if session.checkin_secret is not None:
        shown = checkin.current_token(current_user, session)
    url = (
        url_for(".checkin", session_id=session.id, t=shown.token, _external=True) if shown else None
    )
    opens, closes = checkin.window(session)
    return render_template(
        "attendance/screen.html",
        session=session,
        course=session.course,
        shown=shown,
        qr=_qr_svg(url) if url else None,
        url=url,
        opens=opens,
        closes=closes,
        checked_in=attendance.checked_in_count(session),
        attending=attendance.attending_count(session),
        step_seconds=checkin.STEP_SECONDS,
    )


@bp.get("/manage/sessions/<int:session_id>/checkin/token.json")
@allow(STAFF, owns="session")
@answers_json
def checkin_token(session_id: int) -> Response:
    """What the check-in screen polls: the current QR code and the count so far."""
    session = permissions.managed_session(current_user, session_id)
    shown = checkin.current_token(current_user, session)
    url = url_for(".checkin", session_id=session.id, t=shown.token, _external=True)
    return jsonify(
        token=shown.token,
        expires_at=shown.expires_at.isoformat(),
        url=url,
        svg=str(_qr_svg(url)),
        code=session.checkin_code,
        checked_in=attendance.checked_in_count(session),
    )


@bp.post("/manage/sessions/<int:session_id>/checkin/open")
@allow(STAFF, owns="session")
def open_checkin(session_id: int) -> Response:
    session = permissions.managed_session(current_user, session_id)
    form = WindowForm()
    if not form.validate_on_submit():
        flash(_("The check-in window is not valid."), "error")
        return redirect(url_for(".roll_call", session_id=session.id))
    opens = from_local(form.opens_at.data) if form.opens_at.data else None
    closes = from_local(form.closes_at.data) if form.closes_at.data else None
    checkin.open_checkin(current_user, session, opens, closes)
    flash(_("Check-in is open. The code is %(code)s.", code=session.checkin_code), "success")
    return redirect(url_for(".checkin_screen", session_id=session.id))


@bp.post("/manage/sessions/<int:session_id>/checkin/close")
@allow(STAFF, owns="session")
def close_checkin(session_id: int) -> Response:
    session = permissions.managed_session(current_user, session_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    checkin.close_checkin(current_user, session)
    flash(_("Check-in is closed. Check-out stays open until after the session."), "success")
    return redirect(url_for(".roll_call", session_id=session.id))


def _roll_call_filters() -> dict[str, Any]:
    """The roll-call's search, filter and page, as given (and kept by its links)."""
    show = request.args.get("show", "")
    if show not in ROLL_CALL_FILTERS:
        show = ""
    page = request.args.get("page", 1, type=int) or 1
    filters = {"q": request.args.get("q", "").strip()[:60], "show": show, "page": page}
    return {name: value for name, value in filters.items() if value and value != 1}


@bp.route("/manage/sessions/<int:session_id>/attendance", methods=["GET", "POST"])
@allow(STAFF, owns="session")
def roll_call(session_id: int) -> Any:
    """Roll-call (点名) and later corrections, a page of the roster at a time with a
    search. Only the rows whose status or minutes were changed are sent to the service;
    "the others are present" marks the learners without a record, on the page or in
    the whole session."""
    session = permissions.managed_session(current_user, session_id)
    filters = _roll_call_filters()
    back = url_for(".roll_call", session_id=session.id, **filters)
    if request.method == "POST":
        if not ButtonForm().validate_on_submit():
            abort(400)
        marks = _changed_marks(session)
        saved = attempt(lambda: attendance.mark(current_user, session, marks))
        if saved.ok and marks:
            flash(_("Attendance saved for %(n)s learners.", n=len(marks)), "success")
        elif saved.ok:
            flash(_("Nothing was changed."), "info")
        return redirect(back)
    page = attendance.session_roster_page(
        current_user,
        session,
        q=filters.get("q"),
        show=filters.get("show"),
        page=filters.get("page", 1),
        per_page=ROLL_CALL_PER_PAGE,
    )
    opens, closes = checkin.window(session)
    return render_template(
        "attendance/roll_call.html",
        session=session,
        course=session.course,
        page=page,
        counts=attendance.roll_call_counts(session),
        filters=filters,
        statuses=ROLL_CALL_STATUSES,
        full_minutes=attendance.session_minutes(session),
        button=ButtonForm(),
        window_form=WindowForm(),
        opens=opens,
        closes=closes,
        onsite=session.mode in checkin.ONSITE_MODES,
    )


def _posted_ids(*prefixes: str) -> list[int]:
    found = []
    for key in request.form:
        for prefix in prefixes:
            if key.startswith(prefix):
                found.append(database_id(key.removeprefix(prefix)))
    return [i for i in dict.fromkeys(found) if i is not None]


def _changed_marks(session: CourseSession) -> list[dict[str, Any]]:
    """The marks the roll-call form changes. ``rest=page`` marks present the learners of
    the page (``shown``) without a record; ``rest=present`` those of the whole session."""
    rest = request.form.get("rest", "")
    rest_ids: list[int] = []
    if rest == "page":
        rest_ids = [i for i in map(database_id, request.form.getlist("shown")) if i is not None]
    elif rest == "present":
        rest_ids = attendance.unmarked_learner_ids(current_user, session)
    wanted = list(dict.fromkeys(_posted_ids("status-", "minutes-") + rest_ids))
    lines = attendance.session_roster_lines(current_user, session, wanted)
    resting = set(rest_ids)
    marks = []
    for line in lines:
        user_id = line.user.id
        status = request.form.get(f"status-{user_id}", "")
        if not status and user_id in resting and line.record is None:
            status = "present"
        minutes_text = request.form.get(f"minutes-{user_id}", "").strip()
        if not status:
            continue
        current = line.record.status.value if line.record else ""
        current_minutes = str(line.record.minutes) if line.record else ""
        status_changed = status != current
        minutes_changed = minutes_text != "" and minutes_text != current_minutes
        if not status_changed and not minutes_changed:
            continue
        mark: dict[str, Any] = {"user_id": user_id, "status": status}
        if status in ("absent", "excused"):
            minutes_text = ""  # nothing to credit
            if not status_changed:
                continue
        if minutes_text and (status in ("late", "partial") or not status_changed):
            mark["minutes"] = minutes_text
        marks.append(mark)
    return marks


@bp.post("/manage/sessions/<int:session_id>/attendance/<int:user_id>/unmark")
@allow(STAFF, owns="session")
def unmark(session_id: int, user_id: int) -> Response:
    session = permissions.managed_session(current_user, session_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    attendance.unmark(current_user, session, user_id)
    flash(_("The record now follows what was measured again."), "success")
    return redirect(url_for(".roll_call", session_id=session.id, **_roll_call_filters()))
