from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from academy.forms import organisation_kind_choices, qualification_choices, role_choices
from courses.services.courses.rules import TITLE_LENGTH


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserCreateForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name.")), Length(max=60)])
    phone = TelField(_l("Mobile phone"), validators=[Optional()])
    email = EmailField(_l("E-mail"), validators=[Optional()])
    organisation = SelectField(_l("Organisation"), coerce=int, validate_choice=False)
    qualification_level = SelectField(_l("Qualification"), choices=qualification_choices)
    roles = CheckboxesField(_l("Roles"), choices=role_choices, default=["learner"])
    password = PasswordField(
        _l("Initial password"), validators=[DataRequired(_l("Enter a password."))]
    )


class UserRolesForm(FlaskForm):
    roles = CheckboxesField(_l("Roles"), choices=role_choices)


class ActiveForm(FlaskForm):
    """A CSRF-protected button: activate or deactivate."""


class OrganisationForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Enter the organisation's name.")), Length(max=TITLE_LENGTH)],
    )
    kind = SelectField(_l("Kind"), choices=organisation_kind_choices)
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=60)])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=20)])
    is_active = BooleanField(_l("Active"), default=True)
