"""Online-meeting attendance reports: upload (Tencent Meeting, DingTalk, WeCom or the
generic layout), preview the matches, then apply."""

from flask import Blueprint

bp = Blueprint("meeting_reports", __name__)

from academy.meeting_reports import views  # noqa: E402,F401
