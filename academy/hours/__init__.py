"""Hours ledger pages (课时台账): a learner's credited hours by year and registration
cycle against their requirement; admins add outside hours and edit the requirements."""

from flask import Blueprint

bp = Blueprint("hours", __name__)

from academy.hours import views  # noqa: E402,F401
