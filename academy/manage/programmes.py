"""Management pages for programmes (admins, and trainers for their own): the list with
the form to create one, editing, publishing and cloning. The rules live in
``courses.services.programmes``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from academy.access import STAFF, allow
from academy.forms import submit
from academy.manage import bp
from academy.manage.forms import ButtonForm, CloneForm, ProgrammeForm
from academy.manage.values import form_number
from courses.models import Programme
from courses.services import choices as choice_service
from courses.services import permissions
from courses.services import programmes as programme_service
from courses.services.choices import Choice

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
        "required_hours": form_number(form.required_hours.data),
        "certificate_title": form.certificate_title.data,
    }


@bp.route("/programmes", methods=["GET", "POST"])
@allow(STAFF)
def programme_list() -> str | Response:
    """Admins see every programme; a trainer the programmes they built."""
    form, chosen = _programme_form(None)
    if form.validate_on_submit():
        answer = submit(
            lambda: programme_service.create_programme(current_user, _programme_data(form)),
            done=lambda programme: _("Programme %(title)s created.", title=programme.title),
            to=url_for("manage.programme_list"),
            form=form,
        )
        if answer is not None:
            return answer
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
        answer = submit(
            lambda: programme_service.update_programme(
                current_user, programme, _programme_data(form)
            ),
            done=_("Programme saved."),
            to=url_for("manage.programme_edit", programme_id=programme.id),
            form=form,
        )
        if answer is not None:
            return answer
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
    back = url_for("manage.programme_edit", programme_id=programme.id)
    if not ButtonForm().validate_on_submit():
        return redirect(back)
    return submit(
        lambda: programme_service.set_status(
            current_user, programme, request.form.get("status", "")
        ),
        done=_("Programme saved."),
        to=back,
        refused_to=back,
    )


@bp.post("/programmes/<int:programme_id>/clone")
@allow(STAFF, owns="programme")
def programme_clone(programme_id: int) -> Response:
    programme = permissions.managed_programme(current_user, programme_id)
    form = CloneForm()
    if not form.validate_on_submit():
        flash(_("Enter a valid date for the first session."), "error")
        return redirect(url_for("manage.programme_edit", programme_id=programme.id))
    return submit(
        lambda: programme_service.clone_programme(
            current_user,
            programme,
            first_session_on=form.first_session_on.data,
            title=form.title.data,
        ),
        done=_("A draft copy of the programme and its courses was made. Check them, then publish."),
        to=lambda copy: url_for("manage.programme_edit", programme_id=copy.id),
        refused_to=url_for("manage.programme_edit", programme_id=programme.id),
    )
