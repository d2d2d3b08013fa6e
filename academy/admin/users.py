from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from academy.access import ADMIN, allow
from academy.accounts.forms import person_fields
from academy.admin import bp
from academy.admin.forms import ActiveForm, UserCreateForm, UserRolesForm
from academy.admin.hours import hours_context
from academy.forms import attempt, submit
from courses.services import accounts, organisations


@bp.get("/users")
@allow(ADMIN)
def users() -> str:
    found = attempt(
        lambda: accounts.search_users(
            q=request.args.get("q") or None,
            role=request.args.get("role") or None,
            organisation_id=request.args.get("organisation_id", type=int),
            page=request.args.get("page", 1, type=int),
            per_page=30,
        )
    )
    page = found.value if found.ok else accounts.search_users(page=1, per_page=30)
    return render_template(
        "admin/users.html", page=page, organisations=organisations.active_choices()
    )


@bp.route("/users/new", methods=["GET", "POST"])
@allow(ADMIN)
def create_user() -> str | Response:
    form = UserCreateForm()
    form.organisation.choices = [(0, _("— none —"))] + [
        (o.id, o.name) for o in organisations.active_choices()
    ]
    if form.validate_on_submit():
        answer = submit(
            lambda: accounts.create_user(
                accounts.NewUser(
                    password=form.password.data, roles=form.roles.data, **person_fields(form)
                ),
                actor=current_user,
            ),
            done=lambda user: _("The account of %(name)s has been created.", name=user.name),
            to=lambda user: url_for("admin.user_detail", user_id=user.id),
            form=form,
        )
        if answer is not None:
            return answer
    return render_template("admin/user_new.html", form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@allow(ADMIN)
def user_detail(user_id: int) -> str | Response:
    user = accounts.get_user(user_id)
    roles_form = UserRolesForm(prefix="roles")
    active_form = ActiveForm(prefix="active")
    if request.method == "GET":
        roles_form.roles.data = sorted(r.value for r in user.roles)
    elif roles_form.validate_on_submit():
        answer = submit(
            lambda: accounts.set_roles(current_user, user, roles_form.roles.data),
            done=_("Roles saved."),
            to=url_for("admin.user_detail", user_id=user.id),
            form=roles_form,
        )
        if answer is not None:
            return answer
    return render_template(
        "admin/user_detail.html",
        user=user,
        roles_form=roles_form,
        active_form=active_form,
        **hours_context(user),
    )


@bp.post("/users/<int:user_id>/active")
@allow(ADMIN)
def set_user_active(user_id: int) -> Response:
    user = accounts.get_user(user_id)
    form = ActiveForm(prefix="active")
    back = url_for("admin.user_detail", user_id=user.id)
    if not form.validate_on_submit():
        return redirect(back)
    active = request.form.get("active") == "1"
    return submit(
        lambda: accounts.set_active(current_user, user, active),
        done=_("Account activated.") if active else _("Account deactivated."),
        to=back,
        refused_to=back,
    )
