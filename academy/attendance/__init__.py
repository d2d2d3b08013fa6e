"""Attendance pages: on-site check-in and check-out by QR code or code, the
trainer's check-in screen and roll-call, joining online sessions and watching recordings."""

from flask import Blueprint

bp = Blueprint("attendance", __name__)

from academy.attendance import checkin, online, roll_call  # noqa: E402,F401
