"""Admin pages, one module per page group; each route is declared admins-only."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")


from academy.admin import hours, organisations, requirements, users  # noqa: E402,F401
