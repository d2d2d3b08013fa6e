"""JSON API v1 under /api/v1: flask-smorest blueprints, bearer tokens, one error shape."""

from __future__ import annotations

from flask import Flask

from academy.extensions import api, csrf


def init_app(app: Flask) -> None:
    from academy.api import (
        attendance,
        auth,
        catalogue,
        certificates,
        courses,
        enrolments,
        feedback,
        hours,
        materials,
        meeting_reports,
        organisations,
        stats,
        tokens,
        users,
    )
    from academy.api.schemas import ErrorSchema

    api.ERROR_SCHEMA = ErrorSchema
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "POST /api/v1/tokens"}
    )
    for module in (
        tokens,
        users,
        organisations,
        catalogue,
        courses,
        enrolments,
        materials,
        attendance,
        meeting_reports,
        feedback,
        hours,
        certificates,
        stats,
    ):
        csrf.exempt(module.blp)
        api.register_blueprint(module.blp)
    auth.init_app(app)
