"""Forms of the management pages. They only parse; every rule is checked by the services.

Times are ``datetime-local`` inputs: wall-clock times in the academy's zone, turned into
UTC by ``courses.settings.from_local`` in the views and shown back with ``to_local``.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from academy.admin.forms import CheckboxesField
from courses.services.courses.rules import TITLE_LENGTH

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]

LEVEL_CHOICES = [
    ("beginner", _l("Beginner")),
    ("intermediate", _l("Intermediate")),
    ("advanced", _l("Advanced")),
]
COURSE_MODE_CHOICES = [
    ("offline", _l("Offline")),
    ("online", _l("Online")),
    ("hybrid", _l("Online + offline")),
]
SESSION_MODE_CHOICES = [
    ("offline", _l("Offline")),
    ("online", _l("Online")),
    ("recorded", _l("Recorded video")),
    ("hybrid", _l("Online + offline")),
]


def _local_datetime(label: object, required: bool = False) -> DateTimeLocalField:
    validators = [InputRequired(_l("Enter a date and time."))] if required else [Optional()]
    return DateTimeLocalField(label, format=DATETIME_FORMATS, validators=validators)


class CourseForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Length(max=TITLE_LENGTH)])
    summary = TextAreaField(_l("Summary"), validators=[Length(max=500)])
    description = TextAreaField(_l("Description"))
    topic = StringField(_l("Topic"), validators=[Length(max=40)])
    level = SelectField(_l("Level"), choices=lambda: LEVEL_CHOICES)
    mode = SelectField(_l("Delivery mode"), choices=lambda: COURSE_MODE_CHOICES)
    programme_id = SelectField(_l("Programme"), coerce=int, validate_choice=False)
    trainer_ids = CheckboxesField(_l("Trainers"), coerce=int, validate_choice=False)
    prerequisite_ids = CheckboxesField(_l("Prerequisites"), coerce=int, validate_choice=False)
    capacity = IntegerField(_l("Capacity"), validators=[Optional()])
    enrol_opens_at = _local_datetime(_l("Enrolment opens"))
    enrol_closes_at = _local_datetime(_l("Enrolment closes"))
    cancel_deadline = _local_datetime(_l("Cancellation deadline"))
    completion_threshold = DecimalField(
        _l("Completion threshold"), places=3, default=0.8, validators=[Optional()]
    )
    feedback_required = BooleanField(_l("Feedback survey required for completion"))
    approval_required = BooleanField(_l("Enrolments need approval"))


class SessionForm(FlaskForm):
    title = StringField(_l("Title of the session"), validators=[Length(max=TITLE_LENGTH)])
    starts_at = _local_datetime(_l("Starts"), required=True)
    ends_at = _local_datetime(_l("Ends"), required=True)
    mode = SelectField(_l("Mode"), choices=lambda: SESSION_MODE_CHOICES)
    venue = StringField(_l("Venue"), validators=[Length(max=TITLE_LENGTH)])
    room = StringField(_l("Room"), validators=[Length(max=60)])
    address = StringField(_l("Address"), validators=[Length(max=255)])
    meeting_url = StringField(_l("Meeting link"), validators=[Length(max=500)])
    meeting_number = StringField(_l("Meeting number"), validators=[Length(max=40)])
    video_url = StringField(_l("Video link"), validators=[Length(max=500)])
    class_hours = DecimalField(_l("Class hours"), places=2, validators=[Optional()])
    capacity = IntegerField(_l("Own capacity"), validators=[Optional()])


class CloneForm(FlaskForm):
    title = StringField(_l("Title of the new run"), validators=[Length(max=TITLE_LENGTH)])
    first_session_on = DateField(_l("Date of the first session"), validators=[Optional()])


class ButtonForm(FlaskForm):
    """A CSRF-protected button: publish, archive, delete."""


class ProgrammeForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Length(max=TITLE_LENGTH)])
    summary = TextAreaField(_l("Summary"), validators=[Length(max=500)])
    description = TextAreaField(_l("Description"))
    level = SelectField(_l("Level"), choices=lambda: [("", _l("— any —")), *LEVEL_CHOICES])
    course_ids = CheckboxesField(_l("Courses"), coerce=int, validate_choice=False)
    required_course_count = IntegerField(_l("Courses to complete"), validators=[Optional()])
    required_hours = DecimalField(_l("Class hours required"), places=2, validators=[Optional()])
    certificate_title = StringField(
        _l("Title on the certificate"), validators=[Length(max=TITLE_LENGTH)]
    )
