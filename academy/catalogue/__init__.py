"""Public catalogue: course list with search and filters, course pages, programme pages."""

from flask import Blueprint

bp = Blueprint("catalogue", __name__)

from academy.catalogue import views  # noqa: E402,F401
