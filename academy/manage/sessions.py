"""Management pages for a course's sessions: the list with the form to add one, editing
and deleting. The rules live in ``courses.services.courses``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from academy.access import STAFF, allow
from academy.forms import submit
from academy.manage import bp
from academy.manage.forms import ButtonForm, SessionForm
from academy.manage.values import form_local, form_number, form_utc
from courses.services import courses as course_service
from courses.services import permissions

# --- sessions ---------------------------------------------------------------------------------


def _session_data(form: SessionForm) -> dict[str, Any]:
    return {
        "title": form.title.data,
        "starts_at": form_utc(form.starts_at.data),
        "ends_at": form_utc(form.ends_at.data),
        "mode": form.mode.data,
        "venue": form.venue.data,
        "room": form.room.data,
        "address": form.address.data,
        "meeting_url": form.meeting_url.data,
        "meeting_number": form.meeting_number.data,
        "video_url": form.video_url.data,
        "class_hours": form_number(form.class_hours.data),
        "capacity": form.capacity.data,
    }


@bp.route("/courses/<int:course_id>/sessions", methods=["GET", "POST"])
@allow(STAFF, owns="course")
def sessions(course_id: int) -> str | Response:
    course = permissions.managed_course(current_user, course_id)
    form = SessionForm()
    if form.validate_on_submit():
        answer = submit(
            lambda: course_service.add_session(current_user, course, _session_data(form)),
            done=_("Session added."),
            to=url_for("manage.sessions", course_id=course.id),
            form=form,
        )
        if answer is not None:
            return answer
    return render_template(
        "manage/sessions.html",
        course=course,
        sessions=sorted(course.sessions, key=lambda s: s.starts_at),
        form=form,
        button=ButtonForm(),
        class_hours=course_service.course_class_hours(course),
    )


@bp.route("/sessions/<int:session_id>", methods=["GET", "POST"])
@allow(STAFF, owns="session")
def session_edit(session_id: int) -> str | Response:
    session = permissions.managed_session(current_user, session_id)
    course = session.course
    form = SessionForm(obj=session)
    if request.method == "GET":
        form.mode.data = session.mode.value
        form.starts_at.data = form_local(session.starts_at)
        form.ends_at.data = form_local(session.ends_at)
        # Hours equal to the duration's default stay empty, so that moving the session
        # recomputes them; hours set by hand are shown.
        default = course_service.default_class_hours(session.starts_at, session.ends_at)
        form.class_hours.data = (
            None if session.class_hours == default else Decimal(str(session.class_hours))
        )
    if form.validate_on_submit():
        answer = submit(
            lambda: course_service.update_session(current_user, session, _session_data(form)),
            done=_("Session saved."),
            to=url_for("manage.sessions", course_id=course.id),
            form=form,
        )
        if answer is not None:
            return answer
    return render_template("manage/session_form.html", form=form, session=session, course=course)


@bp.post("/sessions/<int:session_id>/delete")
@allow(STAFF, owns="session")
def session_delete(session_id: int) -> Response:
    session = permissions.managed_session(current_user, session_id)
    back = url_for("manage.sessions", course_id=session.course_id)
    if not ButtonForm().validate_on_submit():
        return redirect(back)
    return submit(
        lambda: course_service.delete_session(current_user, session),
        done=_("Session deleted."),
        to=back,
        refused_to=back,
    )
