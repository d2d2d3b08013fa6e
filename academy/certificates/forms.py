from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import InputRequired

CYCLE = "cycle"


class TranscriptForm(FlaskForm):
    """Ask for a continuing-education proof of a year or of the current cycle."""

    period = SelectField(
        _l("Period"), validators=[InputRequired(_l("Choose a year or your registration cycle."))]
    )

    def offer(self, years: list[int]) -> TranscriptForm:
        self.period.choices = [(CYCLE, _l("My current registration cycle"))] + [
            (str(year), _l("The year %(year)s", year=year)) for year in years
        ]
        return self

    def period_asked(self) -> dict[str, object]:
        """The service's keywords: ``cycle=True`` or ``year=…``."""
        value = self.period.data or ""
        if value == CYCLE:
            return {"cycle": True}
        return {"year": int(value)}
