"""Admin pages, one module per page group; every route needs the admin role."""

from flask import Blueprint

from academy.auth import admin_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@admin_required
def require_admin() -> None:
    return None


from academy.admin import hours, organisations, requirements, users  # noqa: E402,F401
