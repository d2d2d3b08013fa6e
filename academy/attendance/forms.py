"""Forms of the attendance pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField, StringField
from wtforms.validators import AnyOf, Length, Optional


class CheckinForm(FlaskForm):
    action = HiddenField(default="checkin", validators=[AnyOf(["checkin", "checkout"])])
    code = StringField(
        _l("Check-in code"),
        validators=[Optional(), Length(max=12)],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6},
    )


class WindowForm(FlaskForm):
    opens_at = DateTimeLocalField(
        _l("Check-in opens"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    closes_at = DateTimeLocalField(
        _l("Check-in closes"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
