from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from academy.access import ADMIN, allow
from academy.admin import bp
from academy.admin.forms import OrganisationForm
from academy.forms import submit
from courses.services import organisations


@bp.route("/organisations", methods=["GET", "POST"])
@allow(ADMIN)
def organisation_list() -> str | Response:
    form = OrganisationForm()
    if form.validate_on_submit():
        answer = submit(
            lambda: organisations.create(
                current_user,
                name=form.name.data,
                kind=form.kind.data,
                contact_name=form.contact_name.data,
                contact_phone=form.contact_phone.data,
            ),
            done=lambda organisation: _("Organisation %(name)s added.", name=organisation.name),
            to=url_for("admin.organisation_list"),
            form=form,
        )
        if answer is not None:
            return answer
    page = organisations.search(
        q=request.args.get("q") or None,
        page=request.args.get("page", 1, type=int),
        include_inactive=True,
    )
    return render_template("admin/organisations.html", page=page, form=form)


@bp.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
@allow(ADMIN)
def organisation_edit(organisation_id: int) -> str | Response:
    organisation = organisations.get(organisation_id)
    form = OrganisationForm(obj=organisation)
    if request.method == "GET":
        form.kind.data = organisation.kind.value
    if form.validate_on_submit():
        answer = submit(
            lambda: organisations.update(
                current_user,
                organisation,
                name=form.name.data,
                kind=form.kind.data,
                contact_name=form.contact_name.data,
                contact_phone=form.contact_phone.data,
                is_active=form.is_active.data,
            ),
            done=_("Organisation saved."),
            to=url_for("admin.organisation_list"),
            form=form,
        )
        if answer is not None:
            return answer
    return render_template("admin/organisation_edit.html", form=form, organisation=organisation)
