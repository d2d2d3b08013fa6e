"""Academy: the web application (factory, config, accounts, admin, API, CLI)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

#: The project root in a checkout, or site-packages in a wheel install: both hold
#: ``templates/`` and ``migrations/`` beside the ``academy`` package.
ROOT = Path(__file__).resolve().parent.parent


class DatabaseId(IntegerConverter):
    """``<int:…>`` in routes: only integers that fit the database's integer columns
    match, so a larger one is simply not found (404) rather than a database error."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the application; every piece is initialised here, in a visible order."""
    from academy import access, auth, errors, i18n, inputs, ratelimit, security, transactions
    from academy.config import load_settings
    from academy.extensions import csrf, db, migrate

    settings = load_settings(overrides=overrides)
    app = Flask(
        "academy",
        instance_path=settings["INSTANCE_PATH"],
        template_folder=str(ROOT / "templates"),
        static_folder=str(Path(__file__).parent / "static"),
    )
    app.config.update(settings)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    from courses.db import check_connections_on_checkout, configure_sqlite
    from courses.services import stats
    from courses.services.materials import register_file_listeners

    with app.app_context():
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            configure_sqlite(db.engine)
        else:
            check_connections_on_checkout(db.engine)
    _declare_write_intent(app)
    register_file_listeners()  # a material's stored file follows the transaction
    stats.install()  # a change to what the statistics count writes its outbox row
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)

    # The order of the request hooks: the size, path and query checks; who is calling;
    # may they call this route (academy.access); only then what the body holds.
    inputs.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    security.init_app(app)
    errors.init_app(app)

    app.url_map.converters["int"] = DatabaseId
    _register_blueprints(app)  # the API's bearer-token hook comes with it
    access.init_app(app)
    inputs.init_body_checks(app)
    csrf.init_app(app)  # every page form; the API blueprints are exempt (token auth)
    access.check_declared(app)
    transactions.init_app(app)  # every view commits once, after it returns
    ratelimit.init_app(app)

    from workers import celery_init_app

    celery_init_app(app)

    from academy import cli

    cli.init_app(app)
    return app


def _declare_write_intent(app: Flask) -> None:
    """Requests that may change data take SQLite's write lock when they begin
    (``courses.db.set_write_intent``); registered first, before any hook that queries."""
    from flask import request

    from courses.db import set_write_intent

    @app.before_request
    def _begin_writes() -> None:
        set_write_intent(request.method not in ("GET", "HEAD", "OPTIONS"))

    @app.teardown_request
    def _end_writes(_error: BaseException | None) -> None:
        set_write_intent(False)


def _register_blueprints(app: Flask) -> None:
    from academy.accounts import bp as accounts_bp
    from academy.admin import bp as admin_bp
    from academy.api import init_app as init_api
    from academy.attendance import bp as attendance_bp
    from academy.calendar import bp as calendar_bp
    from academy.catalogue import bp as catalogue_bp
    from academy.certificates import bp as certificates_bp
    from academy.enrolments import bp as enrolments_bp
    from academy.feedback import bp as feedback_bp
    from academy.hours import bp as hours_bp
    from academy.main import bp as main_bp
    from academy.manage import bp as manage_bp
    from academy.materials import bp as materials_bp
    from academy.meeting_reports import bp as meeting_reports_bp

    for blueprint in (
        main_bp,
        accounts_bp,
        catalogue_bp,
        enrolments_bp,
        manage_bp,
        materials_bp,
        attendance_bp,
        meeting_reports_bp,
        feedback_bp,
        hours_bp,
        certificates_bp,
        calendar_bp,
        admin_bp,
    ):
        app.register_blueprint(blueprint)
    init_api(app)
