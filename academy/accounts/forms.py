from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TelField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from academy.forms import qualification_choices


class LoginForm(FlaskForm):
    login = StringField(
        _l("Phone or e-mail"), validators=[DataRequired(_l("Enter your phone number or e-mail."))]
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])
    remember = BooleanField(_l("Keep me logged in"))


class ProfileFields(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name.")), Length(max=60)])
    phone = TelField(_l("Mobile phone"), validators=[Optional()])
    email = EmailField(_l("E-mail"), validators=[Optional()])
    organisation = SelectField(_l("Organisation"), coerce=int, validate_choice=False)
    qualification_level = SelectField(_l("Qualification"), choices=qualification_choices)

    def set_organisations(self, organisations: list) -> None:
        self.organisation.choices = [(0, _l("— none —"))] + [(o.id, o.name) for o in organisations]


class RegisterForm(ProfileFields):
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter a password."))])
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[
            DataRequired(_l("Repeat the password.")),
            EqualTo("password", _l("The two passwords differ.")),
        ],
    )


class ProfileForm(ProfileFields):
    pass


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your current password."))]
    )
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(_l("Enter a new password."))]
    )
    confirm = PasswordField(
        _l("Repeat new password"),
        validators=[
            DataRequired(_l("Repeat the password.")),
            EqualTo("new_password", _l("The two passwords differ.")),
        ],
    )


def person_fields(form: FlaskForm) -> dict[str, Any]:
    """What a registration, profile or new-account form says about the person, as the
    accounts service takes it."""
    return {
        "name": form.name.data,
        "email": form.email.data,
        "phone": form.phone.data,
        "organisation_id": form.organisation.data or None,
        "qualification_level": form.qualification_level.data,
    }
