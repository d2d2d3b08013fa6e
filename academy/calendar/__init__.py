"""iCalendar feeds: per course, and a private per-learner feed."""

from flask import Blueprint

bp = Blueprint("calendar", __name__)

from academy.calendar import views  # noqa: E402,F401
