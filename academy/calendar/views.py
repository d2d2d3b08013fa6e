"""Calendar feeds: public per course, private per learner, and the learner's feed token.

The two feeds are fetched by calendar apps: they need neither a login session nor a
CSRF token. The learner feed's secret is the token in its URL.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from academy.access import PUBLIC, USER, allow
from academy.calendar import bp
from academy.downloads import content_disposition
from courses.services import calendar

ICS_MIMETYPE = "text/calendar"
#: Calendar apps poll; a course's public timetable may be served from caches briefly.
COURSE_FEED_MAX_AGE = 300


def _ics_response(body: bytes, filename: str, cache_control: str) -> Response:
    response = current_app.response_class(body, mimetype=ICS_MIMETYPE)
    response.charset = "utf-8"
    response.headers["Content-Type"] = f"{ICS_MIMETYPE}; charset=utf-8"
    response.headers["Content-Disposition"] = content_disposition(filename, inline=True)
    response.headers["Cache-Control"] = cache_control
    return response


def _feed_locale(preferred: str | None = None) -> str:
    """Feeds are read by apps without the visitor's session: the user's own language or
    the academy's default, never whatever ``?lang=`` or a cookie happens to say."""
    if preferred in current_app.config["LANGUAGES"]:
        return preferred  # type: ignore[return-value]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


@bp.get("/calendar/course/<int:course_id>.ics")
@allow(PUBLIC)
def course_feed(course_id: int) -> Response:
    course = calendar.published_course(course_id)
    with force_locale(_feed_locale()):
        body = calendar.course_feed(course)
    return _ics_response(body, f"{course.title}.ics", f"public, max-age={COURSE_FEED_MAX_AGE}")


@bp.get("/calendar/u/<token>.ics")
@allow(PUBLIC)
def learner_feed(token: str) -> Response:
    user = calendar.user_by_calendar_token(token)
    if user is None:
        abort(404)
    with force_locale(_feed_locale(user.locale)):
        body = calendar.learner_feed(user)
        filename = f"{_('My courses')}.ics"
    response = _ics_response(body, filename, "private, no-store")
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.post("/calendar/token")
@allow(USER)
def issue_token() -> Response:
    rotated = current_user.calendar_token is not None
    calendar.issue_calendar_token(current_user)
    if rotated:
        flash(_("A new calendar link has been made. The old link no longer works."), "success")
    else:
        flash(_("Your calendar link is ready. Add it to your calendar app."), "success")
    return redirect(url_for("accounts.profile", _anchor="calendar"))


@bp.post("/calendar/token/revoke")
@allow(USER)
def revoke_token() -> Response:
    calendar.revoke_calendar_token(current_user)
    flash(_("Your calendar link has been switched off."), "info")
    return redirect(url_for("accounts.profile", _anchor="calendar"))
