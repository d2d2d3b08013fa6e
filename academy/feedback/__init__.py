"""Feedback pages (满意度评估): the learner's survey after a course's last session, and
the averages and comments for the course's trainers and admins."""

from flask import Blueprint

bp = Blueprint("feedback", __name__)

from academy.feedback import views  # noqa: E402,F401
