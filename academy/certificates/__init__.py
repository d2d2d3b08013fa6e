"""Certificate pages: the public verification, the learner's certificates and the
continuing-education proof, and the PDF downloads. The rules live in
``courses.services.certificates``."""

from flask import Blueprint

bp = Blueprint("certificates", __name__)

from academy.certificates import files, views  # noqa: E402,F401
