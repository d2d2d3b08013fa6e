"""Database plumbing shared by every model: the declarative base, the naming
convention for constraints, and column types that behave the same on SQLite
and PostgreSQL."""

from __future__ import annotations

import enum
import functools
import select
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
#: The largest value of the integer columns (ids, capacities; PostgreSQL's ``integer``):
#: a larger number given as input is refused, never sent to the database.
MAX_INTEGER = 2**31 - 1


def database_id(value: Any) -> int | None:
    """``value`` as a row id, or None when it cannot be one (not a whole number, or
    outside 1..MAX_INTEGER): look-ups then simply find nothing."""
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if 0 < number <= MAX_INTEGER else None


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored as naive UTC and always returned time-zone aware.

    SQLite has no time-zone type, so storing naive UTC everywhere keeps both
    backends comparable; naive values handed in are refused rather than guessed.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware datetime (UTC)")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def enum_column(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """A portable enum: a VARCHAR with a named CHECK constraint storing the values."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


#: Indexes that only migrations create, on PostgreSQL functions the models cannot
#: describe; schema comparisons leave them out.
MIGRATION_ONLY_INDEXES = frozenset({"ix_courses_title_grams", "ix_courses_summary_grams"})


def include_in_comparison(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's ``include_object`` hook: skip the migration-only indexes."""
    return not (type_ == "index" and name in MIGRATION_ONLY_INDEXES)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow
    )


db = SQLAlchemy(model_class=Base)

#: Whether transactions begun now will write (SQLite only; see ``configure_sqlite``).
_sqlite_write_intent: ContextVar[bool] = ContextVar("sqlite_write_intent", default=False)


def set_write_intent(value: bool) -> None:
    """Declare that the transactions begun from now on in this context will write.

    On SQLite they then start with ``BEGIN IMMEDIATE``, taking the write lock first
    (waiting for it up to the busy timeout). A transaction that starts as a reader and
    writes later cannot wait: if another writer committed in between, SQLite refuses
    the upgrade at once ("database is locked"). The web layer declares the intent for
    every request that may change data (POST, PUT, PATCH, DELETE). PostgreSQL ignores it.
    """
    _sqlite_write_intent.set(value)


S = TypeVar("S")


def dialect_statement(build: Callable[[Callable[..., Any]], S]) -> Callable[[], S]:
    """A statement that needs ``INSERT … ON CONFLICT`` (PostgreSQL's and SQLite's own
    ``insert``), built once per dialect::

        @dialect_statement
        def _store(insert):
            return insert(Heartbeat.__table__).on_conflict_do_nothing()

        db.session.execute(_store(), rows)
    """

    @functools.cache
    def built(dialect: str) -> S:
        return build(postgresql.insert if dialect == "postgresql" else sqlite.insert)

    def statement() -> S:
        return built(db.session.get_bind().dialect.name)

    return statement


@contextmanager
def write_intent() -> Iterator[None]:
    """``set_write_intent(True)`` for the duration of a block (CLI commands, tasks)."""
    token = _sqlite_write_intent.set(True)
    try:
        yield
    finally:
        _sqlite_write_intent.reset(token)


def configure_sqlite(engine: sa.Engine) -> None:
    """Make SQLite behave like a server database for our purposes.

    Foreign keys on, WAL so readers never block the writer, a busy timeout so a
    writer waits for the lock, and transactions begun explicitly by SQLAlchemy
    (the pysqlite driver's own implicit BEGIN is switched off) so that savepoints
    and write locks behave as documented. Transactions that declared a write intent
    (``set_write_intent``) begin IMMEDIATE: writers queue for the lock in turn, which
    serialises concurrent enrolments the way a row lock does on PostgreSQL.
    """

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _sqlite_write_intent.get() else "BEGIN")


#: A pooled connection idle longer than this (seconds) gets a round trip before use.
PING_AFTER_IDLE_SECONDS = 10.0


def check_connections_on_checkout(engine: sa.Engine) -> None:
    """Hand out only live connections from the pool, without a round trip per request.

    SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` on every checkout: a full round
    trip to the server in front of every request's first statement. This check costs
    a round trip only when one can tell something. A connection the server closed (a
    restart, ``idle_session_timeout``, ``pg_terminate_backend``) has its socket
    readable: the server's last message and the end of the stream wait there, while a
    healthy idle connection has nothing to read. So a connection that is readable, or
    closed, or has been idle longer than ``PING_AFTER_IDLE_SECONDS`` (a peer gone
    silently, with no end of stream, shows only so) is pinged; a failed ping makes the
    pool throw it away and connect again, and the request never sees the dead one.
    """

    @sa.event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None:
            return  # connected just now
        if not (
            dbapi_connection.closed
            or time.monotonic() - idle_since > PING_AFTER_IDLE_SECONDS
            or _readable(dbapi_connection, engine.dialect.loaded_dbapi.Error)
        ):
            return
        try:
            alive = not dbapi_connection.closed and engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise sa.exc.DisconnectionError(str(error)) from error
        if not alive:
            raise sa.exc.DisconnectionError("the connection was closed")


def _readable(dbapi_connection: Any, driver_error: type[Exception]) -> bool:
    try:
        poller = select.poll()  # not select(): it fails on descriptors past 1023
        poller.register(dbapi_connection.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError, driver_error):
        return True  # no usable socket: let the ping decide
