"""Enrolment pages: enrol and cancel, "My courses" with notices, and course rosters
(approve, reject, remove, move off the waitlist, enrol on behalf, export)."""

from flask import Blueprint

bp = Blueprint("enrolments", __name__)

from academy.enrolments import views  # noqa: E402,F401
