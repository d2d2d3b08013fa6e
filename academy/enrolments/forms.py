"""Forms of the enrolment pages; they only parse, the services decide."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length, Optional


class EnrolOnBehalfForm(FlaskForm):
    login = StringField(
        _l("Learner's mobile number or e-mail"),
        validators=[InputRequired(_l("Enter a mobile number or e-mail.")), Length(max=120)],
    )


class ReasonForm(FlaskForm):
    """A CSRF-protected roster action with an optional reason (reject, remove)."""

    reason = StringField(_l("Reason (optional)"), validators=[Optional(), Length(max=200)])
