from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from academy.access import ADMIN, allow
from academy.admin import bp
from academy.admin.forms import OrganisationForm
from academy.forms import show_errors
from courses.db import db
from courses.errors import DomainError
from courses.services import organisations


@bp.route("/organisations", methods=["GET", "POST"])
@allow(ADMIN)
def organisation_list() -> str | Response:
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            organisation = organisations.create(
                current_user,
                name=form.name.data,
                kind=form.kind.data,
                contact_name=form.contact_name.data,
                contact_phone=form.contact_phone.data,
            )
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Organisation %(name)s added.", name=organisation.name), "success")
            return redirect(url_for("admin.organisation_list"))
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
        try:
            organisations.update(
                current_user,
                organisation,
                name=form.name.data,
                kind=form.kind.data,
                contact_name=form.contact_name.data,
                contact_phone=form.contact_phone.data,
                is_active=form.is_active.data,
            )
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Organisation saved."), "success")
            return redirect(url_for("admin.organisation_list"))
    return render_template("admin/organisation_edit.html", form=form, organisation=organisation)
