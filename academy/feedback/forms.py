"""Forms of the feedback pages; they only parse, the service decides."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from courses.services.feedback import MAX_COMMENT_LENGTH

SCORE_CHOICES = [SelectChoice(n, str(n)) for n in range(1, 6)]


def _rating(label: object) -> RadioField:
    return RadioField(
        label,
        choices=SCORE_CHOICES,
        coerce=int,
        validators=[InputRequired(_l("Choose a rating from 1 to 5."))],
    )


class FeedbackForm(FlaskForm):
    content_score = _rating(_l("Course content"))
    trainer_score = _rating(_l("Trainer"))
    organisation_score = _rating(_l("Organisation of the course"))
    comment = TextAreaField(
        _l("Comments and suggestions (optional)"),
        validators=[Optional(), Length(max=MAX_COMMENT_LENGTH)],
    )
