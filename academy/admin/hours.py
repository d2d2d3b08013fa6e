"""Admin: a user's hours ledger on their page, and the hours they earned outside the
academy (add, delete). The rules live in ``courses.services.hours``."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import DateField, DecimalField, HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from academy.access import ADMIN, allow
from academy.admin import bp
from academy.admin.forms import ActiveForm, UserRolesForm
from academy.forms import submit
from courses.models import User
from courses.services import accounts
from courses.services import hours as hours_service


class ExternalHoursForm(FlaskForm):
    title = StringField(
        _l("Training"),
        validators=[InputRequired(_l("Enter what the training was.")), Length(max=200)],
    )
    hours = DecimalField(
        _l("Class hours"),
        places=2,
        validators=[InputRequired(_l("Enter the hours: more than 0 and at most 200."))],
    )
    earned_on = DateField(
        _l("Date"), validators=[InputRequired(_l("Enter the date the hours were earned."))]
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class DeleteForm(FlaskForm):
    """A CSRF-protected delete button for one record."""

    record_id = HiddenField(validators=[InputRequired()])


def hours_context(user: User, external_form: ExternalHoursForm | None = None) -> dict[str, Any]:
    """What the admin's user page shows of the hours ledger."""
    return {
        "ledger": hours_service.ledger_for(current_user, user),
        "external_records": hours_service.external_records(current_user, user, per_page=100),
        "external_form": external_form or ExternalHoursForm(prefix="external"),
        "delete_form": DeleteForm(prefix="delete"),
    }


@bp.post("/users/<int:user_id>/external-hours")
@allow(ADMIN)
def add_external_hours(user_id: int) -> str | Response | tuple[str, int]:
    user = accounts.get_user(user_id)
    form = ExternalHoursForm(prefix="external")
    if form.validate_on_submit():
        answer = submit(
            lambda: hours_service.add_external_hours(
                current_user,
                user,
                form.title.data,
                form.hours.data,
                form.earned_on.data,
                form.note.data or "",
            ),
            done=_("The outside hours have been added."),
            to=url_for("admin.user_detail", user_id=user.id) + "#hours",
            form=form,
        )
        if answer is not None:
            return answer
    roles_form = UserRolesForm(prefix="roles", formdata=None)
    roles_form.roles.data = sorted(r.value for r in user.roles)
    page = render_template(
        "admin/user_detail.html",
        user=user,
        roles_form=roles_form,
        active_form=ActiveForm(prefix="active", formdata=None),
        **hours_context(user, form),
    )
    return page, 422


@bp.post("/users/<int:user_id>/external-hours/delete")
@allow(ADMIN)
def delete_external_hours(user_id: int) -> Response:
    back = url_for("admin.user_detail", user_id=user_id) + "#hours"
    form = DeleteForm(prefix="delete")
    if not form.validate_on_submit() or not str(form.record_id.data).isdigit():
        abort(400)
    record = hours_service.get_external_record(int(form.record_id.data))
    if record.user_id != user_id:
        abort(404)
    hours_service.delete_external_hours(current_user, record)
    flash(_("The outside hours have been deleted."), "success")
    return redirect(back)
