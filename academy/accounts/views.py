from __future__ import annotations

from typing import cast

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from academy.access import PUBLIC, USER, allow
from academy.accounts import bp
from academy.accounts.forms import (
    ChangePasswordForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    person_fields,
)
from academy.forms import attempt, same_site, submit
from courses.errors import Conflict
from courses.models import User
from courses.services import accounts, organisations


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after login."""
    return same_site(target, url_for("main.index"))


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if request.method == "GET" and "login_hint" in session:
        form.login.data = session.pop("login_hint")  # just registered (or tried to)
    if form.validate_on_submit():
        found = attempt(lambda: accounts.authenticate(form.login.data, form.password.data), form)
        if found.ok:
            user = cast(User, found.value)
            locale = session.get("locale") or user.locale
            session.clear()  # a fresh session on login: nothing carried over from before
            if locale:
                session["locale"] = locale
            login_user(user, remember=form.remember.data)
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@allow(USER)
def logout() -> Response:
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/register", methods=["GET", "POST"])
@allow(PUBLIC)
def register() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm()
    form.set_organisations(organisations.active_choices())
    if form.validate_on_submit():
        new_user = accounts.NewUser(password=form.password.data, **person_fields(form))
        # A concurrent registration of the same details (Conflict) gets the same answer.
        registered = attempt(lambda: accounts.register(new_user), form, unshown=(Conflict,))
        if not registered.ok and not isinstance(registered.error, Conflict):
            return render_template("accounts/register.html", form=form)
        # One answer whether the phone or e-mail was new (an account now exists) or
        # already had an account (its owner was told): the form reveals no account.
        session["login_hint"] = (form.phone.data or form.email.data or "").strip()[:254]
        flash(
            _(
                "Thank you. If this phone number or e-mail address had no account yet, "
                "yours is ready: log in with it and the password you chose. If it already "
                "had one, we have let its owner know: log in to that account, or ask the "
                "academy to reset its password."
            ),
            "info",
        )
        return redirect(url_for("accounts.login"))
    return render_template("accounts/register.html", form=form)


@bp.route("/profile", methods=["GET", "POST"])
@allow(USER)
def profile() -> str | Response:
    form = ProfileForm(obj=current_user)
    form.set_organisations(organisations.active_choices())
    if request.method == "GET":
        form.organisation.data = current_user.organisation_id or 0
        form.qualification_level.data = current_user.qualification_level.value
    if form.validate_on_submit():
        saved = submit(
            lambda: accounts.update_profile(current_user, **person_fields(form)),
            done=_("Your profile has been saved."),
            to=url_for("accounts.profile"),
            form=form,
        )
        if saved is not None:
            return saved
    return render_template("accounts/profile.html", form=form)


@bp.route("/profile/password", methods=["GET", "POST"])
@allow(USER)
def change_password() -> str | Response:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        changed = attempt(
            lambda: accounts.change_password(
                current_user, form.current_password.data, form.new_password.data
            ),
            form,
        )
        if changed.ok:
            # The nonce changed: every other session is now out; keep this one in.
            # The user itself, not the proxy: Flask-Login keeps what it is given as the
            # request's user, and a proxy pointing at itself recurses without end.
            login_user(current_user._get_current_object(), remember=False)  # type: ignore[attr-defined]
            flash(
                _("Your password has been changed. Other devices have been logged out."), "success"
            )
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/change_password.html", form=form)
