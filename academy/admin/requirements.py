"""Admin: the continuing-education requirement of each qualification level (hours per
registration cycle and the cycle's length). The rules live in
``courses.services.hours.set_requirement``."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import DecimalField, IntegerField
from wtforms.validators import InputRequired

from academy.access import ADMIN, allow
from academy.admin import bp
from academy.forms import QUALIFICATION_LABELS, submit
from courses.services import hours as hours_service


class RequirementForm(FlaskForm):
    required_hours = DecimalField(
        _l("Class hours per cycle"),
        places=2,
        validators=[InputRequired(_l("Enter the hours required: from 0 to 1000."))],
    )
    cycle_years = IntegerField(
        _l("Cycle length in years"),
        validators=[InputRequired(_l("Enter the cycle length: from 1 to 10 years."))],
    )


FormRow = tuple[object, str, "RequirementForm"]


def _forms(failed: tuple[str, RequirementForm] | None = None) -> list[FormRow]:
    rows = []
    for requirement in hours_service.requirements():
        level = requirement.level.value
        if failed is not None and failed[0] == level:
            form = failed[1]
        else:
            form = RequirementForm(prefix=level, formdata=None)
            form.required_hours.data = requirement.required_hours
            form.cycle_years.data = requirement.cycle_years
        rows.append((QUALIFICATION_LABELS[requirement.level], level, form))
    return rows


@bp.get("/requirements")
@allow(ADMIN)
def requirements() -> str:
    return render_template("admin/requirements.html", rows=_forms())


@bp.post("/requirements")
@allow(ADMIN)
def set_requirement() -> Response | tuple[str, int]:
    parsed = hours_service.parse_level(request.form.get("level"))
    form = RequirementForm(prefix=parsed.value)
    if form.validate_on_submit():
        answer = submit(
            lambda: hours_service.set_requirement(
                current_user, parsed, form.required_hours.data, form.cycle_years.data
            ),
            done=_("Requirement saved: %(level)s.", level=QUALIFICATION_LABELS[parsed]),
            to=url_for("admin.requirements"),
            form=form,
        )
        if answer is not None:
            return answer
    return render_template("admin/requirements.html", rows=_forms((parsed.value, form))), 422
