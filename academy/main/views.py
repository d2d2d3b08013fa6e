from __future__ import annotations

from flask import render_template

from academy.access import PUBLIC, allow
from academy.main import bp
from courses.services import catalogue


@bp.get("/")
@allow(PUBLIC)
def index() -> str:
    upcoming = catalogue.upcoming_courses(limit=6)
    return render_template("main/index.html", upcoming=upcoming)


@bp.get("/healthz")
@allow(PUBLIC)
def healthz() -> tuple[dict, int]:
    """Liveness and database reachability for load balancers (503 when the DB is down)."""
    catalogue.ping()
    return {"status": "ok"}, 200
