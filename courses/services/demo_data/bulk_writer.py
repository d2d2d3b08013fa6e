"""Rows written with Core ``INSERT`` statements in batches, ids chosen here, parents first."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from courses.db import db
from courses.models import (
    AttendanceRecord,
    Course,
    CourseSession,
    Enrolment,
    FeedbackResponse,
    Organisation,
    Programme,
    User,
    UserRole,
    course_prerequisites,
    course_trainers,
)

BATCH_SIZE = 5000

_INSERT_ORDER = [
    Organisation.__table__,
    User.__table__,
    UserRole.__table__,
    Programme.__table__,
    Course.__table__,
    course_trainers,
    course_prerequisites,
    CourseSession.__table__,
    Enrolment.__table__,
    AttendanceRecord.__table__,
    FeedbackResponse.__table__,
]
_TABLES_WITH_IDS = [
    t for t in _INSERT_ORDER if "id" in t.c and t.c.id.primary_key and t.c.id.autoincrement
]


class BulkWriter:
    """Buffers rows per table; flushes every table in foreign-key order in batches."""

    def __init__(self, batch_size: int = BATCH_SIZE) -> None:
        self.batch_size = batch_size
        self.buffers: dict[sa.Table, list[dict[str, Any]]] = {t: [] for t in _INSERT_ORDER}
        self.buffered = 0
        self.next_ids: dict[sa.Table, int] = {}
        for table in _TABLES_WITH_IDS:
            highest = db.session.scalar(sa.select(sa.func.max(table.c.id)))
            self.next_ids[table] = (highest or 0) + 1

    def new_id(self, table: sa.Table) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def add(self, table: sa.Table, row: dict[str, Any]) -> None:
        self.buffers[table].append(row)
        self.buffered += 1
        if self.buffered >= self.batch_size:
            self.flush()

    def extend(self, rows: CourseRows) -> None:
        """Add a course's rows, parents before children, so any flush keeps the keys valid."""
        for table in _INSERT_ORDER:
            for row in rows.by_table.get(table, ()):
                self.add(table, row)

    def flush(self) -> None:
        for table in _INSERT_ORDER:
            rows = self.buffers[table]
            if rows:
                db.session.execute(sa.insert(table), rows)
                rows.clear()
        self.buffered = 0

    def reset_sequences(self) -> None:
        """After explicit ids, move PostgreSQL's sequences past them."""
        if db.session.get_bind().dialect.name != "postgresql":
            return
        for table in _TABLES_WITH_IDS:
            db.session.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"(SELECT max(id) FROM {table.name}))"
                )
            )


class CourseRows:
    """The rows of one course, gathered before any of them is written."""

    def __init__(self) -> None:
        self.by_table: dict[sa.Table, list[dict[str, Any]]] = {}

    def add(self, table: sa.Table, row: dict[str, Any]) -> None:
        self.by_table.setdefault(table, []).append(row)
