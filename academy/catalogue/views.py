"""Catalogue pages: the course list with search and filters, course and programme pages."""

from __future__ import annotations

import re
from typing import Any

from flask import render_template, request
from flask_login import current_user

from academy.access import PUBLIC, allow
from academy.catalogue import bp
from academy.manage.forms import ButtonForm
from academy.materials.views import list_context
from courses.models import CourseLevel, CourseMode
from courses.services import catalogue, rosters
from courses.settings import FIRST_YEAR, LAST_YEAR

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
PER_PAGE = 12


#: Chinese labels people type or share in links (``?level=中级``), beside the codes.
ALIASES = {
    "level": {"初级": "beginner", "中级": "intermediate", "高级": "advanced"},
    "mode": {"线上": "online", "线下": "offline", "混合": "hybrid", "线上+线下": "hybrid"},
}


def _choice(name: str, allowed: set[str]) -> str | None:
    value = request.args.get(name, "").strip()
    value = ALIASES.get(name, {}).get(value, value)
    return value if value in allowed else None


def catalogue_filters() -> dict[str, Any]:
    """The filters of the catalogue's query string; a value that makes no sense is ignored."""
    month = request.args.get("month", "").strip()
    return {
        "q": request.args.get("q", "").strip()[:100] or None,
        "topic": request.args.get("topic", "").strip() or None,
        "level": _choice("level", {level.value for level in CourseLevel}),
        "mode": _choice("mode", {mode.value for mode in CourseMode}),
        "month": month
        if MONTH.match(month) and FIRST_YEAR <= int(month[:4]) <= LAST_YEAR
        else None,
        "available": request.args.get("available") in ("1", "true", "on"),
        # Past courses are asked for; a month asked for is shown whole.
        "when": _choice("when", set(catalogue.WHEN_CHOICES))
        or ("all" if MONTH.match(month) else "current"),
    }


@bp.get("/courses")
@allow(PUBLIC)
def course_list() -> str:
    filters = catalogue_filters()
    page = catalogue.search(
        **filters,
        page=request.args.get("page", 1, type=int) or 1,
        per_page=PER_PAGE,
        viewer=current_user,
    )
    return render_template(
        "catalogue/list.html",
        page=page,
        filters=filters,
        topics=catalogue.topics(),
        levels=[level.value for level in CourseLevel],
        modes=[mode.value for mode in CourseMode],
    )


@bp.get("/courses/<int:course_id>")
@allow(PUBLIC)
def course_detail(course_id: int) -> str:
    detail = catalogue.course_detail(course_id, viewer=current_user)
    state = None
    if current_user.is_authenticated:
        state = rosters.enrol_state(current_user, detail.course)
    return render_template(
        "catalogue/detail.html",
        detail=detail,
        course=detail.course,
        enrol_state=state,
        button=ButtonForm(),
        **list_context(current_user, detail.course),
    )


@bp.get("/programmes")
@allow(PUBLIC)
def programme_list() -> str:
    return render_template("catalogue/programmes.html", entries=catalogue.published_programmes())


@bp.get("/programmes/<int:programme_id>")
@allow(PUBLIC)
def programme_detail(programme_id: int) -> str:
    detail = catalogue.programme_detail(programme_id, viewer=current_user)
    return render_template("catalogue/programme.html", detail=detail, programme=detail.programme)
