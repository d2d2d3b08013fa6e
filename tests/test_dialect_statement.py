"""courses.db.dialect_statement: an ON CONFLICT insert built once per dialect, with the
dialect of the session's database (PostgreSQL's or SQLite's own insert)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from courses.db import db, dialect_statement
from courses.models import Organisation


def test_the_statement_is_built_once_for_the_sessions_dialect(app_ctx):  # type: ignore[no-untyped-def]
    built: list[Any] = []

    @dialect_statement
    def insert_unless_named(insert: Any) -> Any:
        built.append(insert)
        return insert(Organisation.__table__).on_conflict_do_nothing(index_elements=["name"])

    first = insert_unless_named()
    assert insert_unless_named() is first  # cached
    assert len(built) == 1
    assert built[0].__module__.split(".")[2] == db.session.get_bind().dialect.name

    rows = [{"name": "社工站", "kind": "community", "is_active": True}]
    db.session.execute(first, rows)
    db.session.execute(first, rows)  # the conflict is ignored, not an error
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 1
