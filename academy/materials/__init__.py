"""Course materials (课件): upload by trainers, download by enrolled learners."""

from flask import Blueprint

bp = Blueprint("materials", __name__)

from academy.materials import views  # noqa: E402,F401
