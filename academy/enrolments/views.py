"""Enrolment pages. Each view parses, makes one service call and redirects (the request
commits once, in academy.transactions); the rules and their messages live in
``courses.services.enrolments``."""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from academy.access import STAFF, USER, allow
from academy.downloads import content_disposition
from academy.enrolments import bp
from academy.enrolments.forms import EnrolOnBehalfForm, ReasonForm
from academy.forms import back_to, submit
from academy.manage.forms import ButtonForm
from courses.models import Enrolment, EnrolmentStatus
from courses.services import enrolments as enrolment_service
from courses.services import lookups, permissions, rosters
from courses.services.spreadsheets import csv_chunks, write_xlsx

ROSTER_PER_PAGE = 50
ROSTER_ACTIONS = ("approve", "reject", "remove", "promote")
#: Column widths of the roster sheet, in characters.
ROSTER_WIDTHS = (6, 12, 14, 26, 24, 12, 10, 18, 12)


def _placed_message(placed: enrolment_service.Placed) -> str:
    enrolment = placed.enrolment
    if enrolment.status == EnrolmentStatus.ENROLLED:
        return _("You are enrolled. See you in class!")
    if enrolment.status == EnrolmentStatus.PENDING:
        return _("Your enrolment has been sent; the trainer will confirm it.")
    rank = placed.waitlist_rank
    return _(
        "The course is full: you are number %(rank)d on the waitlist. "
        "You will get the seat automatically when one is freed.",
        rank=rank or 0,
    )


# ---- learners ----------------------------------------------------------------------------


@bp.post("/courses/<int:course_id>/enrol")
@allow(USER)
def enrol(course_id: int) -> Response:
    page = url_for("catalogue.course_detail", course_id=course_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    return submit(
        lambda: enrolment_service.enrol_in_course(current_user, course_id),
        done=_placed_message,
        to=page,
        refused_to=page,
        news=frozenset({"already_enrolled"}),
    )


@bp.post("/enrolments/<int:enrolment_id>/cancel")
@allow(USER)
def cancel(enrolment_id: int) -> Response:
    enrolment = lookups.get_enrolment(enrolment_id)
    back = back_to(url_for("enrolments.my_courses"))
    if not ButtonForm().validate_on_submit():
        abort(400)
    if enrolment.status == EnrolmentStatus.WAITLISTED:
        done = _("You have left the waitlist.")
    elif enrolment.status == EnrolmentStatus.PENDING:
        done = _("Your request has been withdrawn.")
    else:
        done = _("Your enrolment has been cancelled.")
    return submit(
        lambda: enrolment_service.cancel(current_user, enrolment),
        done=done,
        to=back,
        refused_to=back,
    )


@bp.get("/me/courses")
@allow(USER)
def my_courses() -> str:
    page = rosters.my_enrolments(
        current_user,
        statuses=rosters.CURRENT_STATUSES,
        page=request.args.get("page", 1, type=int) or 1,
    )
    return render_template(
        "enrolments/my_courses.html",
        page=page,
        notices=rosters.unread_notices(current_user),
        upcoming=rosters.upcoming_sessions(current_user),
        button=ButtonForm(),
    )


@bp.post("/me/notices/read")
@allow(USER)
def notices_read() -> Response:
    if ButtonForm().validate_on_submit():
        rosters.mark_notices_read(current_user)
    return redirect(url_for("enrolments.my_courses"))


# ---- trainers and admins -----------------------------------------------------------------


def _roster_message(text: Any) -> Callable[[Enrolment], str]:
    """The flash after a roster change: ``text`` (lazy, with ``%(name)s`` and
    ``%(status)s``) for the learner's name and their status now."""

    def message(enrolment: Enrolment) -> str:
        status = rosters.STATUS_LABELS[enrolment.status]
        return str(text) % {"name": enrolment.user.name, "status": status}

    return message


def _roster_filters() -> tuple[EnrolmentStatus | None, str | None]:
    raw = request.args.get("status", "")
    status = EnrolmentStatus(raw) if raw in {s.value for s in EnrolmentStatus} else None
    q = request.args.get("q", "").strip()[:60] or None
    return status, q


@bp.route("/manage/courses/<int:course_id>/enrolments", methods=["GET", "POST"])
@allow(STAFF, owns="course")
def roster(course_id: int) -> str | Response:
    course = permissions.managed_course(current_user, course_id)
    form = EnrolOnBehalfForm()
    if form.validate_on_submit():
        added = submit(
            lambda: enrolment_service.enrol(
                current_user, course, enrolment_service.learner_by_login(form.login.data)
            ),
            done=_roster_message(_l("%(name)s added: %(status)s.")),
            to=url_for("enrolments.roster", course_id=course.id),
            form=form,
        )
        if added is not None:
            return added
    status, q = _roster_filters()
    page = rosters.roster(
        current_user,
        course,
        status=status,
        q=q,
        page=request.args.get("page", 1, type=int) or 1,
        per_page=ROSTER_PER_PAGE,
    )
    return render_template(
        "enrolments/roster.html",
        course=course,
        page=page,
        counts=rosters.status_counts(course),
        status=status,
        q=q or "",
        form=form,
        action_form=ReasonForm(),
        labels=rosters.STATUS_LABELS,
    )


@bp.post("/manage/enrolments/<int:enrolment_id>/<action>")
@allow(STAFF, owns="enrolment")
def roster_action(enrolment_id: int, action: str) -> Response:
    if action not in ROSTER_ACTIONS:
        abort(404)
    enrolment = lookups.get_enrolment(enrolment_id)
    course = permissions.managed_course(current_user, enrolment.course_id)
    back = back_to(url_for("enrolments.roster", course_id=course.id))
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("The reason is too long (at most 200 characters)."), "error")
        return redirect(back)
    reason = form.reason.data or ""
    calls = {
        "approve": lambda: enrolment_service.approve(current_user, enrolment),
        "reject": lambda: enrolment_service.reject(current_user, enrolment, reason=reason),
        "remove": lambda: enrolment_service.cancel(current_user, enrolment, reason=reason),
        "promote": lambda: enrolment_service.promote(current_user, enrolment),
    }

    def act() -> Enrolment:
        calls[action]()
        return enrolment

    return submit(
        act, done=_roster_message(_l("%(name)s is now: %(status)s.")), to=back, refused_to=back
    )


@bp.get("/manage/courses/<int:course_id>/enrolments.<any(xlsx, csv):kind>")
@allow(STAFF, owns="course")
def roster_export(course_id: int, kind: str) -> Response:
    course = permissions.managed_course(current_user, course_id)
    headers, rows = rosters.roster_table(current_user, course)
    label = _("roster")
    name = f"{course.title}-{label}.{kind}"
    if kind == "csv":
        response = Response(stream_with_context(csv_chunks(headers, rows)), mimetype="text/csv")
        response.headers["Content-Disposition"] = content_disposition(name)
        return response
    folder = Path(tempfile.mkdtemp(prefix="academy-roster-"))
    try:
        path = write_xlsx(folder / "roster.xlsx", _("Roster"), headers, rows, ROSTER_WIDTHS)
        data = io.BytesIO(path.read_bytes())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    response = send_file(
        data,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        max_age=0,
    )
    response.headers["Content-Disposition"] = content_disposition(name)
    return response
