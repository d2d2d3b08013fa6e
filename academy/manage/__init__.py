"""Course management for trainers (their own courses) and admins (all courses)."""

from flask import Blueprint

bp = Blueprint("manage", __name__, url_prefix="/manage")


from academy.manage import programmes, sessions, views  # noqa: E402,F401
