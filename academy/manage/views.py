"""Management pages for courses: the list (trainers: their own; admins: all), creating,
editing, publishing and cloning a course, and the searchable pickers of the forms. The
request commits once, in ``academy.transactions``; the rules live in the services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from academy.access import STAFF, allow
from academy.forms import submit
from academy.manage import bp
from academy.manage.forms import ButtonForm, CloneForm, CourseForm
from academy.manage.values import form_local, form_number, form_utc
from courses.db import database_id
from courses.models import Course, PublicationStatus
from courses.services import choices as choice_service
from courses.services import courses as course_service
from courses.services import permissions
from courses.services.choices import Choice
from courses.services.permissions import can_choose_trainers


def _list_page(target: str) -> str:
    """The page of the course list a button was pressed on (that list's address only)."""
    index = url_for("manage.index")
    return target if target == index or target.startswith(index + "?") else index


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
            getattr(form, name).data = form_local(getattr(course, name))
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
        "enrol_opens_at": form_utc(form.enrol_opens_at.data),
        "enrol_closes_at": form_utc(form.enrol_closes_at.data),
        "cancel_deadline": form_utc(form.cancel_deadline.data),
        "completion_threshold": form_number(form.completion_threshold.data),
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
        answer = submit(
            lambda: course_service.create_course(current_user, _course_data(form)),
            done=_("Course created. Now add its sessions."),
            to=lambda course: url_for("manage.sessions", course_id=course.id),
            form=form,
        )
        if answer is not None:
            return answer
    return render_template("manage/course_form.html", form=form, chosen=chosen, course=None)


@bp.route("/courses/<int:course_id>", methods=["GET", "POST"])
@allow(STAFF, owns="course")
def course_edit(course_id: int) -> str | Response:
    course = permissions.managed_course(current_user, course_id)
    form, chosen = _course_form(course)
    if form.validate_on_submit():
        answer = submit(
            lambda: course_service.update_course(current_user, course, _course_data(form)),
            done=_("Course saved."),
            to=url_for("manage.course_edit", course_id=course.id),
            form=form,
        )
        if answer is not None:
            return answer
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
    if request.form.get("next") == "edit":
        back = url_for("manage.course_edit", course_id=course.id)
    else:
        back = _list_page(request.form.get("next", ""))
    if not form.validate_on_submit():
        return redirect(back)
    messages = {
        PublicationStatus.PUBLISHED: _("Course published."),
        PublicationStatus.ARCHIVED: _("Course archived."),
        PublicationStatus.DRAFT: _("Course returned to draft."),
    }
    return submit(
        lambda: course_service.set_status(current_user, course, wanted),
        done=lambda _none: messages[course.status],
        to=back,
        refused_to=back,
    )


@bp.post("/courses/<int:course_id>/clone")
@allow(STAFF, owns="course")
def course_clone(course_id: int) -> Response:
    course = permissions.managed_course(current_user, course_id)
    form = CloneForm()
    if not form.validate_on_submit():
        flash(_("Enter a valid date for the first session."), "error")
        return redirect(url_for("manage.course_edit", course_id=course.id))
    return submit(
        lambda: course_service.clone_course(
            current_user, course, first_session_on=form.first_session_on.data, title=form.title.data
        ),
        done=_("A draft copy was made. Check its sessions, then publish it."),
        to=lambda copy: url_for("manage.course_edit", course_id=copy.id),
        refused_to=url_for("manage.course_edit", course_id=course.id),
    )


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
