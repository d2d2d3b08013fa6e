"""Attendance pages. Each view parses, makes one service call, commits and answers; the
rules and their messages live in ``courses.services.checkin`` and
``courses.services.attendance``."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import segno
from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadData, URLSafeTimedSerializer
from markupsafe import Markup

from academy.access import PUBLIC, STAFF, USER, allow
from academy.attendance import bp
from academy.attendance.forms import CheckinForm, WindowForm
from academy.manage.forms import ButtonForm
from courses.db import database_id, db, utcnow
from courses.errors import DomainError
from courses.models import AttendanceStatus, CourseSession
from courses.services import attendance, checkin, checkin_passes, lookups, permissions
from courses.services.permissions import require_course_visible
from courses.settings import from_local

#: A signed cookie: which session's QR token this browser saw, and when.
PASS_COOKIE = "checkin_pass"
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


# ---- learners: check-in and check-out ------------------------------------------------------


def _pass_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="checkin-pass")


def _presented_pass(session_id: int) -> checkin_passes.Pass | None:
    """The pass this browser holds for this session, if it is genuine and recent. Kept
    in a signed cookie of its own, because logging in starts a fresh session."""
    raw = request.cookies.get(PASS_COOKIE)
    if not raw:
        return None
    try:
        seen = _pass_serializer().loads(raw, max_age=int(checkin.PRESENCE_PASS.total_seconds()))
    except BadData:
        return None
    if not isinstance(seen, dict) or seen.get("session_id") != session_id:
        return None
    try:
        return checkin_passes.Pass(
            str(seen["id"]), session_id, datetime.fromisoformat(seen["seen_at"]), seen["user_id"]
        )
    except (KeyError, TypeError, ValueError):
        return None


def _usable_pass(session_id: int) -> checkin_passes.Pass | None:
    presented = _presented_pass(session_id)
    if presented is None or not checkin_passes.may_use(presented, current_user, utcnow()):
        return None
    return presented


def _remember_presence(response: Response, made: checkin_passes.Pass) -> Response:
    value = _pass_serializer().dumps(
        {
            "session_id": made.session_id,
            "seen_at": made.seen_at.isoformat(),
            "id": made.id,
            "user_id": made.user_id,
        }
    )
    response.set_cookie(
        PASS_COOKIE,
        value,
        max_age=int(checkin.PRESENCE_PASS.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        path="/checkin/",
    )
    return response


def _spend_pass(session: CourseSession, now: datetime) -> datetime | None:
    """When this learner's own, unused pass saw the QR token; the pass is spent."""
    presented = _presented_pass(session.id)
    if presented is None:
        return None
    return checkin_passes.use(presented, session, current_user, now)


def _checkin_page(
    session: CourseSession, form: CheckinForm, status: int = 200, has_pass: bool | None = None
) -> Any:
    record = attendance.own_record(current_user, session)
    opens, closes = checkin.window(session)
    return render_template(
        "attendance/checkin.html",
        session=session,
        course=session.course,
        record=record,
        form=form,
        opens=opens,
        closes=closes,
        checkout_until=checkin.checkout_until(session),
        now=utcnow(),
        has_pass=_usable_pass(session.id) is not None if has_pass is None else has_pass,
        # A scanned code checks in as the page opens (by its form, so still a POST);
        # a page shown again after a refusal waits for the learner.
        auto_submit=request.method == "GET",
    ), status


@bp.route("/checkin/<int:session_id>", methods=["GET", "POST"], endpoint="checkin")
@allow(PUBLIC)
def checkin_page(session_id: int) -> Any:
    """Where the QR code leads. A valid token seen here is remembered for two minutes in
    a single-use pass of this learner (``courses.services.checkin_passes``), so a
    learner who must log in first comes straight back and checks in."""
    session = lookups.get_session(session_id)
    token = request.args.get("t", "")
    now = utcnow()
    scanned = (
        request.method == "GET" and bool(token) and checkin.token_is_valid(session, token, now)
    )
    if not current_user.is_authenticated:
        response = redirect(
            url_for("accounts.login", next=url_for(".checkin", session_id=session.id))
        )
        if scanned:
            return _remember_presence(response, checkin_passes.new_pass(session, None, now))
        return response
    form = CheckinForm()
    if request.method == "GET":
        if token and not scanned:
            flash(
                _(
                    "This QR code has expired or belongs to another session. "
                    "Scan the code on the screen again."
                ),
                "error",
            )
        if scanned:
            page, status = _checkin_page(session, form, has_pass=True)
            made = checkin_passes.new_pass(session, current_user, now)
            return _remember_presence(make_response(page, status), made)
        return _checkin_page(session, form)
    if not form.validate_on_submit():
        return _checkin_page(session, form, 422)
    code = form.code.data or None
    presence_seen_at = None if code else _spend_pass(session, now)
    try:
        result = checkin.check(
            current_user,
            session,
            code=code,
            presence_seen_at=presence_seen_at,
            action=form.action.data,
        )
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        if code or presence_seen_at is not None:
            return _checkin_page(session, form, 403 if error.status == 403 else 422)
        # No pass, or one that is not this learner's or was used: ask for the code.
        page, status = _checkin_page(session, form, 403 if error.status == 403 else 422, False)
        response = make_response(page, status)
        response.delete_cookie(PASS_COOKIE, path="/checkin/")
        return response
    response = redirect(url_for(".checkin", session_id=session.id))
    response.delete_cookie(PASS_COOKIE, path="/checkin/")  # spent, or not needed

    if result.action == checkin.CHECK_OUT:
        flash(_("Checked out. Thank you for coming!"), "success")
    elif result.already:
        flash(_("You are already checked in."), "info")
    else:
        flash(_("Checked in. Welcome!"), "success")
    return response


@bp.get("/checkin")
@allow(USER)
def checkin_today() -> str:
    """Today's sessions of the learner, for checking in with the code on the screen."""
    return render_template(
        "attendance/today.html", sessions=attendance.todays_sessions(current_user), now=utcnow()
    )


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


def _json_error(error: DomainError) -> tuple[Response, int]:
    db.session.rollback()
    return jsonify({"error": {"code": error.code, "message": str(error.message)}}), error.status


@bp.post("/sessions/<int:session_id>/join")
@allow(USER)
def join(session_id: int) -> Any:
    """Record the join and open the meeting (a form without script lands here too)."""
    session = lookups.get_session(session_id)
    try:
        presence = attendance.record_heartbeat(current_user, session)
        db.session.commit()
    except DomainError as error:
        if request.accept_mimetypes.best == "application/json":
            return _json_error(error)
        raise
    if request.accept_mimetypes.best == "application/json":
        return jsonify(counted=presence.counted, meeting_url=session.meeting_url)
    if not session.meeting_url:
        abort(404)
    return redirect(session.meeting_url)


@bp.post("/sessions/<int:session_id>/heartbeat")
@allow(USER)
def heartbeat(session_id: int) -> Any:
    session = lookups.get_session(session_id)
    try:
        presence = attendance.record_heartbeat(current_user, session)
        db.session.commit()
    except DomainError as error:
        return _json_error(error)
    record = presence.record
    return jsonify(
        counted=presence.counted,
        online_minutes=record.online_minutes if record else 0,
        credited_hours=record.credited_hours if record else 0,
    )


@bp.post("/sessions/<int:session_id>/video-progress")
@allow(USER)
def video_progress(session_id: int) -> Any:
    session = lookups.get_session(session_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        body = {}
    try:
        state = attendance.record_video_progress(
            current_user, session, body.get("ranges"), body.get("duration")
        )
        db.session.commit()
    except DomainError as error:
        return _json_error(error)
    return jsonify(
        watched_seconds=state.watched_seconds,
        duration_seconds=state.duration_seconds,
        share=round(state.share, 4),
        complete=state.complete,
    )


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
def checkin_token(session_id: int) -> Response:
    """What the check-in screen polls: the current QR code and the count so far."""
    session = permissions.managed_session(current_user, session_id)
    try:
        shown = checkin.current_token(current_user, session)
    except DomainError as error:
        return _json_error(error)[0]
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
    db.session.commit()
    flash(_("Check-in is open. The code is %(code)s.", code=session.checkin_code), "success")
    return redirect(url_for(".checkin_screen", session_id=session.id))


@bp.post("/manage/sessions/<int:session_id>/checkin/close")
@allow(STAFF, owns="session")
def close_checkin(session_id: int) -> Response:
    session = permissions.managed_session(current_user, session_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    checkin.close_checkin(current_user, session)
    db.session.commit()
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
        try:
            attendance.mark(current_user, session, marks)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
            return redirect(back)
        if marks:
            flash(_("Attendance saved for %(n)s learners.", n=len(marks)), "success")
        else:
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
    db.session.commit()
    flash(_("The record now follows what was measured again."), "success")
    return redirect(url_for(".roll_call", session_id=session.id, **_roll_call_filters()))
