"""Catalogue API: the public course list with search and filters, and one course.

Anonymous callers see published courses; a bearer token of a course's trainer or of
an admin also opens that course's draft or archived page, as on the web.
"""

from __future__ import annotations

from typing import Any

from flask import g
from flask_smorest import Blueprint

from academy.access import PUBLIC, allow
from academy.api.schemas import ErrorSchema, list_schema
from academy.api.schemas_courses import CourseQuerySchema, CourseSchema, CourseSummarySchema
from courses.services import catalogue
from courses.services.catalogue import CourseDetail

blp = Blueprint("api_catalogue", __name__, url_prefix="/api/v1", description="catalogue")
CourseListSchema = list_schema(CourseSummarySchema, "CourseList")


@blp.get("/courses")
@allow(PUBLIC)
@blp.arguments(CourseQuerySchema, location="query")
@blp.response(200, CourseListSchema)
def list_courses(args: dict[str, Any]) -> dict[str, Any]:
    """The catalogue: published courses, next session first.

    ``q`` searches title and summary (substring, e.g. 心理 finds 心理健康服务); ``month``
    (YYYY-MM) keeps courses with a session starting that month in Asia/Shanghai;
    ``available=1`` keeps courses with seats left and an enrolment window still open.
    """
    page = catalogue.search(
        q=args["q"],
        topic=args["topic"],
        level=args["level"],
        mode=args["mode"],
        month=args["month"],
        available=args["available"],
        when=args["when"],
        page=args["page"],
        per_page=args["per_page"],
        viewer=g.get("api_user"),
        with_prerequisites=True,
    )
    return {"items": page.items, "total": page.total, "page": page.page, "per_page": page.per_page}


@blp.get("/courses/<int:course_id>")
@allow(PUBLIC)
@blp.response(200, CourseSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such course, or not published")
def get_course(course_id: int) -> CourseDetail:
    """One course with its sessions (timetable), trainers, class hours and seats left."""
    return catalogue.course_detail(course_id, viewer=g.get("api_user"))
