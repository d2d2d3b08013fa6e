"""The pool hands out live connections without a round trip per request.

A connection the server closed is found and replaced before a request uses it; one
used a moment ago goes out unchecked; one idle for long is pinged first.

These checks are PostgreSQL's (SQLite has no server to lose), so they always run
against PostgreSQL: the suite's own database when it runs there, and otherwise a
database beside the one ``ACADEMY_TEST_POSTGRES_URL`` names (``…_pool``). A
PostgreSQL that cannot be reached fails the run; it never skips these tests.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import make_url

import courses.db
from academy.config import normalise_database_url
from courses.db import check_connections_on_checkout, db
from tests.conftest import DATABASE_URL, _prepare_postgres, make_app


def _postgres_url() -> str:
    """The suite's own database on a PostgreSQL run. On a SQLite run, a database of its
    own beside ``ACADEMY_TEST_POSTGRES_URL``'s (``…_pool``): emptying it must not pull
    the schema from under a PostgreSQL run going on at the same time."""
    if DATABASE_URL.startswith("postgresql"):
        return DATABASE_URL
    given = make_url(
        normalise_database_url(
            os.environ.get("ACADEMY_TEST_POSTGRES_URL")
            or "postgresql://postgres@127.0.0.1:5432/academy_test"
        )
    )
    return given.set(database=f"{given.database}_pool").render_as_string(hide_password=False)


POSTGRES_URL = _postgres_url()


@pytest.fixture(scope="module")
def pg_app(request: pytest.FixtureRequest) -> Flask:
    """The application on PostgreSQL: the suite's own when it runs there, otherwise one
    built here on ``POSTGRES_URL`` (its database emptied and migrated first)."""
    if DATABASE_URL == POSTGRES_URL:
        return request.getfixturevalue("app")
    from flask_migrate import upgrade

    _prepare_postgres(POSTGRES_URL)
    application = make_app(ACADEMY_DATABASE_URL=POSTGRES_URL)
    with application.app_context():
        upgrade()
    return application


def _count_pings(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings: list[int] = []
    real = engine.dialect.do_ping

    def counting(dbapi_connection: Any) -> bool:
        pings.append(1)
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counting)
    return pings


@pytest.fixture
def engine() -> Iterator[sa.Engine]:
    """A one-connection pool of its own, checked as the application's is."""
    engine = sa.create_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
    check_connections_on_checkout(engine)
    yield engine
    engine.dispose()


def _backend(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()


def test_requests_in_a_row_reuse_a_connection_without_a_round_trip(pg_app, monkeypatch):
    client = pg_app.test_client()
    assert client.get("/api/v1/courses").status_code == 200  # may take one idle for long
    with pg_app.app_context():
        pings = _count_pings(db.engine, monkeypatch)
    for _ in range(3):
        assert client.get("/api/v1/courses").status_code == 200
    assert pings == []


def test_a_connection_idle_for_long_is_pinged_before_use(engine, monkeypatch):
    _backend(engine)
    pings = _count_pings(engine, monkeypatch)
    monkeypatch.setattr(courses.db, "PING_AFTER_IDLE_SECONDS", 0.0)
    time.sleep(0.01)
    _backend(engine)
    assert pings == [1]


def test_a_connection_the_server_closed_is_replaced_before_use(engine, monkeypatch):
    """A restart, an idle timeout or an administrator's kill closes the server's end: the
    next checkout notices, pings, throws the connection away and connects again, and
    the caller never sees an error."""
    first = _backend(engine)
    pings = _count_pings(engine, monkeypatch)
    url = engine.url.set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (first,)).fetchone() == (True,)
        for _ in range(100):  # until the backend has gone
            if not admin.execute(
                "SELECT 1 FROM pg_stat_activity WHERE pid = %s", (first,)
            ).fetchone():
                break
            time.sleep(0.02)
    second = _backend(engine)
    assert second != first
    assert pings == [1]
    # The new connection is trusted again on the next checkout.
    assert _backend(engine) == second
    assert pings == [1]


def test_the_application_replaces_a_connection_the_server_closed(pg_app):
    """Through the application's own pool: its connection killed, the next statement and
    the next requests work, on a new backend."""
    client = pg_app.test_client()
    with pg_app.app_context():
        db.engine.dispose()  # one connection in the pool: the one killed below
        first = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        db.session.remove()
        url = db.engine.url.set(drivername="postgresql")
        with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
            for _ in range(100):
                if not admin.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE pid = %s", (first,)
                ).fetchone():
                    break
                time.sleep(0.02)
        second = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        db.session.remove()
        assert second != first
    for _ in range(3):
        assert client.get("/api/v1/courses").status_code == 200
