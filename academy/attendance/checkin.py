"""On-site check-in and check-out pages for learners: the page a QR code leads to, with
the single-use pass that survives logging in, and today's sessions. The rules live in
``courses.services.attendance.checkin`` and ``courses.services.attendance.passes``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from flask import (
    Response,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadData, URLSafeTimedSerializer

from academy.access import PUBLIC, USER, allow
from academy.attendance import bp
from academy.attendance.forms import CheckinForm
from academy.forms import attempt
from courses.db import utcnow
from courses.models import CourseSession
from courses.services import attendance, lookups
from courses.services.attendance import checkin
from courses.services.attendance import passes as checkin_passes

#: A signed cookie: which session's QR token this browser saw, and when.
PASS_COOKIE = "checkin_pass"


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
    a single-use pass of this learner (``courses.services.attendance.passes``), so a
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
    if request.method == "GET":
        return _show_checkin(session, token, scanned, now)
    return _check(session, now)


def _show_checkin(session: CourseSession, token: str, scanned: bool, now: datetime) -> Any:
    """The check-in page; a scanned QR code gives the learner a pass for the POST that
    the page sends as it opens."""
    form = CheckinForm()
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


def _check(session: CourseSession, now: datetime) -> Any:
    """Check in or out with the code typed, or with this learner's pass of the QR code."""
    form = CheckinForm()
    if not form.validate_on_submit():
        return _checkin_page(session, form, 422)
    code = form.code.data or None
    presence_seen_at = None if code else _spend_pass(session, now)
    checked = attempt(
        lambda: checkin.check(
            current_user,
            session,
            code=code,
            presence_seen_at=presence_seen_at,
            action=form.action.data,
        )
    )
    if checked.error is not None:
        status = 403 if checked.error.status == 403 else 422
        if code or presence_seen_at is not None:
            return _checkin_page(session, form, status)
        # No pass, or one that is not this learner's or was used: ask for the code.
        response = make_response(*_checkin_page(session, form, status, False))
        response.delete_cookie(PASS_COOKIE, path="/checkin/")
        return response
    result = cast(checkin.CheckinResult, checked.value)
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
