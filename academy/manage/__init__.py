"""Course management for trainers (their own courses) and admins (all courses)."""

from flask import Blueprint

from academy.auth import roles_required
from courses.models import Role

bp = Blueprint("manage", __name__, url_prefix="/manage")


@bp.before_request
@roles_required(Role.TRAINER, Role.ADMIN)
def require_trainer_or_admin() -> None:
    return None


from academy.manage import views  # noqa: E402,F401
