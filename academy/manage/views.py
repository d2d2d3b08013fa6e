"""Management pages: courses and sessions (trainers: their own; admins: all) and
programmes (admins). Each view parses its form, makes one service call and commits."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from academy.access import STAFF, allow
from academy.forms import show_errors
from academy.manage import bp
from academy.manage.forms import ButtonForm, CloneForm, CourseForm, ProgrammeForm, SessionForm
from courses.db import database_id, db
from courses.errors import DomainError
from courses.models import Course, Programme, PublicationStatus
from courses.services import choices as choice_service
from courses.services import courses as course_service
from courses.services import permissions
from courses.services import programmes as programme_service
from courses.services.choices import Choice
from courses.services.permissions import can_choose_trainers
from courses.settings import from_local, to_local


def _utc(value: datetime | None) -> datetime | None:
    return from_local(value) if value is not None else None


def _local(value: datetime | None) -> datetime | None:
    """A stored UTC time as the naive wall-clock time a ``datetime-local`` input shows."""
    return to_local(value).replace(tzinfo=None) if value is not None else None


def _number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _list_page(target: str) -> str:
    """The page of the course list a button was pressed on (that list's address only)."""
    index = url_for("manage.index")
    return target if target == index or target.startswith(index + "?") else index


def _flash_error(error: DomainError) -> None:
    messages = [str(m) for ms in error.fields.values() for m in ms]
    flash("；".join(messages) or str(error.message), "error")


# --- courses ------------------------------------------------------------------------------


COURSES_PER_PAGE = 20


def _list_filters() -> tuple[str, PublicationStatus | None]:
    raw = request.args.get("status", "")
    status = PublicationStatus(raw) if raw in {s.value for s in PublicationStatus} else None
    return request.args.get("q", "").strip()[:60], status


@bp.get("/")
@allow(STAFF)
def index() -> str:
    q, status = _list_filters()
    page = course_service.managed_course_page(
        current_user,
        q=q,
        status=status,
        page=request.args.get("page", 1, type=int) or 1,
        per_page=COURSES_PER_PAGE,
    )
    return render_template(
        "manage/index.html",
        page=page,
        counts=course_service.managed_status_counts(current_user),
        q=q,
        status=status,
        button=ButtonForm(),
    )


def _course_form(course: Course | None) -> tuple[CourseForm, dict[str, list[Choice]]]:
    """The form and, for each picker, the choices shown as chosen: the course's own on a
    first view, what was sent when a refused form is shown again."""
    form = CourseForm(obj=course) if course is not None else CourseForm()
    if course is not None and request.method == "GET":
        form.level.data = course.level.value
        form.mode.data = course.mode.value
        form.programme_id.data = course.programme_id or 0
        form.trainer_ids.data = [t.id for t in course.trainers]
        form.prerequisite_ids.data = [c.id for c in course.prerequisites]
        for name in ("enrol_opens_at", "enrol_closes_at", "cancel_deadline"):
            getattr(form, name).data = _local(getattr(course, name))
    chosen = {
        "programme_id": choice_service.chosen_programme(
            current_user,
            database_id(form.programme_id.data),
            course.programme_id if course is not None else None,
        ),
        "prerequisite_ids": choice_service.chosen_courses(
            choice_service.ids(form.prerequisite_ids.data or [])
        ),
        "trainer_ids": (
            choice_service.chosen_trainers(choice_service.ids(form.trainer_ids.data or []))
            if can_choose_trainers(current_user)
            else []
        ),
    }
    form.programme_id.choices = [(0, _("— none —"))] + [
        (c.id, c.label) for c in chosen["programme_id"]
    ]
    form.trainer_ids.choices = [(c.id, c.label) for c in chosen["trainer_ids"]]
    form.prerequisite_ids.choices = [(c.id, c.label) for c in chosen["prerequisite_ids"]]
    return form, chosen


def _course_data(form: CourseForm) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": form.title.data,
        "summary": form.summary.data,
        "description": form.description.data,
        "topic": form.topic.data,
        "level": form.level.data,
        "mode": form.mode.data,
        "programme_id": form.programme_id.data or None,
        "prerequisite_ids": form.prerequisite_ids.data or [],
        "capacity": form.capacity.data,
        "enrol_opens_at": _utc(form.enrol_opens_at.data),
        "enrol_closes_at": _utc(form.enrol_closes_at.data),
        "cancel_deadline": _utc(form.cancel_deadline.data),
        "completion_threshold": _number(form.completion_threshold.data),
        "feedback_required": form.feedback_required.data,
        "approval_required": form.approval_required.data,
    }
    if can_choose_trainers(current_user) or "trainer_ids" in request.form:
        # Shown to admins only (none ticked: none); the service refuses anyone else's choice.
        data["trainer_ids"] = form.trainer_ids.data or []
    return data


@bp.route("/courses/new", methods=["GET", "POST"])
@allow(STAFF)
def course_new() -> str | Response:
    form, chosen = _course_form(None)
    if request.method == "GET":
        form.completion_threshold.data = Decimal("0.8")
    if form.validate_on_submit():
        try:
            course = course_service.create_course(current_user, _course_data(form))
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Course created. Now add its sessions."), "success")
            return redirect(url_for("manage.sessions", course_id=course.id))
    return render_template("manage/course_form.html", form=form, chosen=chosen, course=None)


@bp.route("/courses/<int:course_id>", methods=["GET", "POST"])
@allow(STAFF, owns="course")
def course_edit(course_id: int) -> str | Response:
    course = permissions.managed_course(current_user, course_id)
    form, chosen = _course_form(course)
    if form.validate_on_submit():
        try:
            course_service.update_course(current_user, course, _course_data(form))
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Course saved."), "success")
            return redirect(url_for("manage.course_edit", course_id=course.id))
    return render_template(
        "manage/course_form.html",
        form=form,
        chosen=chosen,
        course=course,
        clone_form=CloneForm(formdata=None, title=course.title),
        button=ButtonForm(),
        class_hours=course_service.course_class_hours(course),
    )


@bp.post("/courses/<int:course_id>/status")
@allow(STAFF, owns="course")
def course_status(course_id: int) -> Response:
    course = permissions.managed_course(current_user, course_id)
    form = ButtonForm()
    wanted = request.form.get("status", "")
    if form.validate_on_submit():
        try:
            course_service.set_status(current_user, course, wanted)
        except DomainError as error:
            db.session.rollback()
            _flash_error(error)
        else:
            db.session.commit()
            messages = {
                PublicationStatus.PUBLISHED: _("Course published."),
                PublicationStatus.ARCHIVED: _("Course archived."),
                PublicationStatus.DRAFT: _("Course returned to draft."),
            }
            flash(messages[course.status], "success")
    if request.form.get("next") == "edit":
        return redirect(url_for("manage.course_edit", course_id=course.id))
    return redirect(_list_page(request.form.get("next", "")))


@bp.post("/courses/<int:course_id>/clone")
@allow(STAFF, owns="course")
def course_clone(course_id: int) -> Response:
    course = permissions.managed_course(current_user, course_id)
    form = CloneForm()
    if not form.validate_on_submit():
        flash(_("Enter a valid date for the first session."), "error")
        return redirect(url_for("manage.course_edit", course_id=course.id))
    try:
        copy = course_service.clone_course(
            current_user, course, first_session_on=form.first_session_on.data, title=form.title.data
        )
    except DomainError as error:
        db.session.rollback()
        _flash_error(error)
        return redirect(url_for("manage.course_edit", course_id=course.id))
    db.session.commit()
    flash(_("A draft copy was made. Check its sessions, then publish it."), "success")
    return redirect(url_for("manage.course_edit", course_id=copy.id))


# --- what the forms' pickers offer -------------------------------------------------------


@bp.get("/choices/<any(trainers, courses, programmes):kind>")
@allow(STAFF)
def choices(kind: str) -> Response:
    """At most 20 trainers, courses or programmes matching ``q``, as JSON, for the
    search-as-you-type pickers of the forms. ``exclude`` leaves out one course (the one
    being edited); ``taught=1`` keeps the courses a trainer teaches."""
    q = request.args.get("q", "")
    limit = request.args.get("limit", type=int)
    if kind == "trainers":
        found = choice_service.find_trainers(current_user, q, limit)
    elif kind == "programmes":
        found = choice_service.find_programmes(current_user, q, limit)
    else:
        taught = request.args.get("taught") == "1" and not current_user.is_admin
        found = choice_service.find_courses(
            q,
            exclude_id=database_id(request.args.get("exclude")),
            taught_by=current_user if taught else None,
            limit=limit,
        )
    return jsonify(items=[choice.as_json() for choice in found])


# --- sessions ---------------------------------------------------------------------------------


def _session_data(form: SessionForm) -> dict[str, Any]:
    return {
        "title": form.title.data,
        "starts_at": _utc(form.starts_at.data),
        "ends_at": _utc(form.ends_at.data),
        "mode": form.mode.data,
        "venue": form.venue.data,
        "room": form.room.data,
        "address": form.address.data,
        "meeting_url": form.meeting_url.data,
        "meeting_number": form.meeting_number.data,
        "video_url": form.video_url.data,
        "class_hours": _number(form.class_hours.data),
        "capacity": form.capacity.data,
    }


@bp.route("/courses/<int:course_id>/sessions", methods=["GET", "POST"])
@allow(STAFF, owns="course")
def sessions(course_id: int) -> str | Response:
    course = permissions.managed_course(current_user, course_id)
    form = SessionForm()
    if form.validate_on_submit():
        try:
            course_service.add_session(current_user, course, _session_data(form))
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Session added."), "success")
            return redirect(url_for("manage.sessions", course_id=course.id))
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
        form.starts_at.data = _local(session.starts_at)
        form.ends_at.data = _local(session.ends_at)
        # Hours equal to the duration's default stay empty, so that moving the session
        # recomputes them; hours set by hand are shown.
        default = course_service.default_class_hours(session.starts_at, session.ends_at)
        form.class_hours.data = (
            None if session.class_hours == default else Decimal(str(session.class_hours))
        )
    if form.validate_on_submit():
        try:
            course_service.update_session(current_user, session, _session_data(form))
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Session saved."), "success")
            return redirect(url_for("manage.sessions", course_id=course.id))
    return render_template("manage/session_form.html", form=form, session=session, course=course)


@bp.post("/sessions/<int:session_id>/delete")
@allow(STAFF, owns="session")
def session_delete(session_id: int) -> Response:
    session = permissions.managed_session(current_user, session_id)
    course_id = session.course_id
    if ButtonForm().validate_on_submit():
        try:
            course_service.delete_session(current_user, session)
        except DomainError as error:
            db.session.rollback()
            _flash_error(error)
        else:
            db.session.commit()
            flash(_("Session deleted."), "success")
    return redirect(url_for("manage.sessions", course_id=course_id))


# --- programmes (admins, and trainers for their own) ----------------------------------


def _programme_form(programme: Programme | None) -> tuple[ProgrammeForm, list[Choice]]:
    """The form and the courses its picker shows as chosen (the programme's own on a first
    view, what was sent when a refused form is shown again)."""
    form = ProgrammeForm(obj=programme) if programme is not None else ProgrammeForm()
    if programme is not None and request.method == "GET":
        form.level.data = programme.level.value if programme.level else ""
        form.course_ids.data = [c.id for c in programme.courses]
        if programme.required_hours is not None:
            form.required_hours.data = Decimal(str(programme.required_hours))
    chosen = choice_service.chosen_courses(choice_service.ids(form.course_ids.data or []))
    form.course_ids.choices = [(c.id, c.label) for c in chosen]
    return form, chosen


def _programme_data(form: ProgrammeForm) -> dict[str, Any]:
    return {
        "title": form.title.data,
        "summary": form.summary.data,
        "description": form.description.data,
        "level": form.level.data or None,
        "course_ids": form.course_ids.data or [],
        "required_course_count": form.required_course_count.data,
        "required_hours": _number(form.required_hours.data),
        "certificate_title": form.certificate_title.data,
    }


@bp.route("/programmes", methods=["GET", "POST"])
@allow(STAFF)
def programme_list() -> str | Response:
    """Admins see every programme; a trainer the programmes they built."""
    form, chosen = _programme_form(None)
    if form.validate_on_submit():
        try:
            programme = programme_service.create_programme(current_user, _programme_data(form))
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Programme %(title)s created.", title=programme.title), "success")
            return redirect(url_for("manage.programme_list"))
    page = programme_service.list_programmes(
        include_unpublished=True,
        created_by=None if current_user.is_admin else current_user,
        page=request.args.get("page", 1, type=int),
        per_page=30,
    )
    return render_template("manage/programmes.html", page=page, form=form, chosen=chosen)


@bp.route("/programmes/<int:programme_id>", methods=["GET", "POST"])
@allow(STAFF, owns="programme")
def programme_edit(programme_id: int) -> str | Response:
    programme = permissions.managed_programme(current_user, programme_id)
    form, chosen = _programme_form(programme)
    if form.validate_on_submit():
        try:
            programme_service.update_programme(current_user, programme, _programme_data(form))
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Programme saved."), "success")
            return redirect(url_for("manage.programme_edit", programme_id=programme.id))
    return render_template(
        "manage/programme_form.html",
        form=form,
        chosen=chosen,
        programme=programme,
        button=ButtonForm(),
        clone_form=CloneForm(formdata=None, title=programme.title),
    )


@bp.post("/programmes/<int:programme_id>/status")
@allow(STAFF, owns="programme")
def programme_status(programme_id: int) -> Response:
    programme = permissions.managed_programme(current_user, programme_id)
    if ButtonForm().validate_on_submit():
        try:
            programme_service.set_status(current_user, programme, request.form.get("status", ""))
        except DomainError as error:
            db.session.rollback()
            _flash_error(error)
        else:
            db.session.commit()
            flash(_("Programme saved."), "success")
    return redirect(url_for("manage.programme_edit", programme_id=programme.id))


@bp.post("/programmes/<int:programme_id>/clone")
@allow(STAFF, owns="programme")
def programme_clone(programme_id: int) -> Response:
    programme = permissions.managed_programme(current_user, programme_id)
    form = CloneForm()
    if not form.validate_on_submit():
        flash(_("Enter a valid date for the first session."), "error")
        return redirect(url_for("manage.programme_edit", programme_id=programme.id))
    try:
        copy = programme_service.clone_programme(
            current_user,
            programme,
            first_session_on=form.first_session_on.data,
            title=form.title.data,
        )
    except DomainError as error:
        db.session.rollback()
        _flash_error(error)
        return redirect(url_for("manage.programme_edit", programme_id=programme.id))
    db.session.commit()
    flash(
        _("A draft copy of the programme and its courses was made. Check them, then publish."),
        "success",
    )
    return redirect(url_for("manage.programme_edit", programme_id=copy.id))
