"""Admin pages, one module per page group; each route is declared admins-only."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")


from academy.admin import (  # noqa: E402,F401
    certificate_settings,
    certificates,
    hours,
    organisations,
    outbox,
    requirements,
    users,
)
