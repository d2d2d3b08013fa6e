"""Test harness: one schema per run (built by the real migration), emptied after each test.

The backend comes from ``ACADEMY_TEST_DATABASE_URL``: ``sqlite`` (default, a file in a
temporary folder) or a PostgreSQL URL. A backend that was asked for and cannot be
reached stops the run with an error: it never turns into skipped tests.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from flask import Flask, g, has_app_context, message_flashed, template_rendered
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from academy.config import normalise_database_url
from courses.db import db
from courses.services import accounts
from tests.factories import DEFAULT_PASSWORD

_TMP = Path(tempfile.mkdtemp(prefix="academy-tests-"))
KEEP_TABLES = {"alembic_version", "qualification_requirements"}


def _database_url() -> str:
    raw = os.environ.get("ACADEMY_TEST_DATABASE_URL", "sqlite").strip()
    if raw in ("", "sqlite"):
        return f"sqlite:///{_TMP / 'test.db'}"
    return normalise_database_url(raw)


def _prepare_postgres(url: str) -> None:
    """Create the test database if needed and drop whatever an earlier run left."""
    parsed = make_url(url)
    conninfo = {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": parsed.username or "postgres",
        "password": parsed.password,
        "connect_timeout": 5,
    }
    try:
        with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{parsed.database}"')
        with psycopg.connect(dbname=parsed.database, autocommit=True, **conninfo) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            # The tests need no durability: a commit need not wait for the disk.
            conn.execute(f'ALTER DATABASE "{parsed.database}" SET synchronous_commit = off')
    except psycopg.OperationalError as error:
        pytest.exit(
            f"PostgreSQL was asked for ({url}) but cannot be reached: {error}", returncode=3
        )


DATABASE_URL = _database_url()


def pytest_report_header() -> str:
    return f"academy test database: {make_url(DATABASE_URL).render_as_string(hide_password=True)}"


#: Every app built for the tests, so that their connection pools are closed at the end
#: rather than garbage-collected with connections still open (a ResourceWarning).
_APPS: list[Flask] = []


@pytest.fixture(scope="session", autouse=True)
def _close_connection_pools() -> Iterator[None]:
    yield
    for application in _APPS:
        with application.app_context():
            db.engine.dispose()


def make_app(**overrides: object) -> Flask:
    from academy import create_app

    settings: dict[str, object] = {
        "ACADEMY_DATABASE_URL": DATABASE_URL,
        "ACADEMY_INSTANCE_PATH": str(_TMP / "instance"),
        "ACADEMY_SECRET_KEY": "test-secret-key-not-for-production",
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "RATELIMIT_ENABLED": False,
    }
    settings.update(overrides)
    application = create_app(settings)
    application.test_client_class = FreshGlobalsClient
    _APPS.append(application)
    return application


class FreshGlobalsClient(FlaskClient):
    """A test client whose every request starts with an empty ``g``, as in production.

    A request made while the test holds an app context (``app_ctx``) runs in that same
    context, and ``g`` lives there: without this, the user Flask-Login loaded and the
    locale Babel chose in one request would carry over to the next request, even to
    another client's.
    """

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if has_app_context():
            vars(g).clear()
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app() -> Iterator[Flask]:
    from flask_migrate import upgrade

    if DATABASE_URL.startswith("postgresql"):
        _prepare_postgres(DATABASE_URL)
    accounts.use_fast_hashing_for_tests()
    application = make_app()
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty every table after each test that used the app."""
    yield
    if "app" not in request.fixturenames:
        return
    empty_database(request.getfixturevalue("app"))


def empty_database(application: Flask) -> None:
    """Delete every row (but the kept tables') and restart the id sequences."""
    with application.app_context():
        db.session.remove()
        tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEEP_TABLES]
        with db.engine.begin() as conn:
            # DELETE in dependency order: on the few rows a test leaves, it is an order of
            # magnitude faster than TRUNCATE, which rewrites every table's files.
            for table in tables:
                # A row that points at another row of its own table (a re-issued
                # certificate at the one it replaces) would block that one's deletion.
                own = [fk.parent for fk in table.foreign_keys if fk.column.table is table]
                if own:
                    conn.execute(table.update().values({column.name: None for column in own}))
                conn.execute(table.delete())
            if conn.dialect.name == "postgresql":
                for table in tables:
                    if "id" in table.c and table.c.id.autoincrement is not False:
                        conn.execute(
                            sa.text("SELECT setval(pg_get_serial_sequence(:t, 'id'), 1, false)"),
                            {"t": f'"{table.name}"'},
                        )


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def login_as(client: FlaskClient):  # type: ignore[no-untyped-def]
    """Log a user in through the real login form; returns the client."""

    def _login(user, password: str = DEFAULT_PASSWORD) -> FlaskClient:  # type: ignore[no-untyped-def]
        response = client.post(
            "/login", data={"login": user.email or user.phone, "password": password}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return _login


@pytest.fixture
def count_queries(app: Flask):  # type: ignore[no-untyped-def]
    """Count SQL statements run inside a ``with count_queries() as counter:`` block."""
    from contextlib import contextmanager

    @contextmanager
    def _count() -> Iterator[list[str]]:
        statements: list[str] = []

        def before(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
            statements.append(statement)

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            sa.event.remove(engine, "before_cursor_execute", before)

    return _count


@pytest.fixture
def rendered(app):  # type: ignore[no-untyped-def]
    """The (template name, context) of every template rendered during the test."""
    records: list[tuple[str, dict]] = []

    def record(sender, template, context, **extra):  # type: ignore[no-untyped-def]
        records.append((template.name, context))

    template_rendered.connect(record, app)
    yield records
    template_rendered.disconnect(record, app)


@pytest.fixture
def flashed(app):  # type: ignore[no-untyped-def]
    """The (category, message) of every message flashed during the test."""
    records: list[tuple[str, str]] = []

    def record(sender, message, category, **extra):  # type: ignore[no-untyped-def]
        records.append((category, str(message)))

    message_flashed.connect(record, app)
    yield records
    message_flashed.disconnect(record, app)
