"""The application as served in production, plus baseline routes for the benchmarks.

Each baseline answers with the same rows as the route it is compared with, fetched by
one hand-written SQL statement and rendered by the same template (or the same JSON
shape), so the ratio ours / baseline measures what the ORM, the services and the
schemas cost on top of the unavoidable work. Only the benchmarks import this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, jsonify, render_template, request

from academy import create_app
from academy.access import PUBLIC, allow
from academy.catalogue.views import catalogue_filters
from courses.db import db
from courses.models import CourseLevel, CourseMode
from courses.services.catalogue import like_pattern
from courses.services.pagination import Page

PAGE_SIZE = 12
API_PAGE_SIZE = 20

# One statement: the page of cards (hours, next session, trainers), the total and the
# topics for the filter, for the same filters and order as the catalogue.
CARDS_SQL = """
WITH next_session AS (
    SELECT course_id, min(starts_at) AS next_at
    FROM course_sessions WHERE starts_at >= :now GROUP BY course_id
), matching AS (
    SELECT c.id, c.title, c.summary, c.topic, c.level, c.mode, c.capacity, c.seats_taken,
           c.enrol_opens_at, c.enrol_closes_at, c.status, ns.next_at,
           count(*) OVER () AS total
    FROM courses c LEFT JOIN next_session ns ON ns.course_id = c.id
    WHERE c.status = 'published'
      AND (CAST(:pattern AS TEXT) IS NULL
           OR c.title ILIKE :pattern ESCAPE '\\' OR c.summary ILIKE :pattern ESCAPE '\\')
      AND (CAST(:short AS TEXT) IS NULL
           OR academy_search_grams(c.title) @> ARRAY[CAST(:short AS TEXT)]
           OR academy_search_grams(c.summary) @> ARRAY[CAST(:short AS TEXT)])
      AND (CAST(:level AS TEXT) IS NULL OR c.level = :level)
      AND (CAST(:mode AS TEXT) IS NULL OR c.mode = :mode)
      AND (CAST(:topic AS TEXT) IS NULL OR c.topic = :topic)
    ORDER BY ns.next_at ASC NULLS LAST, c.id
    LIMIT :limit OFFSET :offset
)
SELECT m.*,
       (SELECT coalesce(sum(s.class_hours), 0) FROM course_sessions s
         WHERE s.course_id = m.id) AS class_hours,
       (SELECT string_agg(u.id || ':' || u.name, '|' ORDER BY u.id)
          FROM course_trainers ct JOIN users u ON u.id = ct.user_id
         WHERE ct.course_id = m.id) AS trainers,
       (SELECT string_agg(DISTINCT topic, '|') FROM courses
         WHERE status = 'published') AS topics
FROM matching m
ORDER BY m.next_at ASC NULLS LAST, m.id
"""


@dataclass
class Trainer:
    id: int
    name: str


@dataclass
class Row:
    """Quacks like both a catalogue card and its course for the shared template."""

    id: int
    title: str
    summary: str
    topic: str
    level: CourseLevel
    mode: CourseMode
    capacity: int | None
    seats_taken: int
    next_session_at: datetime | None
    class_hours: float
    trainers: list[Trainer] = field(default_factory=list)

    @property
    def course(self) -> Row:
        return self

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.seats_taken, 0)


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _fetch(filters: dict[str, Any], limit: int, offset: int) -> tuple[list[Row], int, list[str]]:
    result = db.session.execute(
        sa.text(CARDS_SQL),
        {
            "now": datetime.now(UTC).replace(tzinfo=None),
            "pattern": like_pattern(filters["q"]) if filters.get("q") else None,
            # One or two characters: the gram indexes, as the catalogue uses them.
            "short": filters["q"].lower() if filters.get("q") and len(filters["q"]) <= 2 else None,
            "level": filters.get("level"),
            "mode": filters.get("mode"),
            "topic": filters.get("topic"),
            "limit": limit,
            "offset": offset,
        },
    ).mappings()
    rows, total, topics = [], 0, []
    for record in result:
        total = record["total"]
        topics = sorted((record["topics"] or "").split("|"))
        trainers = [
            Trainer(int(part.split(":", 1)[0]), part.split(":", 1)[1])
            for part in (record["trainers"] or "").split("|")
            if part
        ]
        rows.append(
            Row(
                id=record["id"],
                title=record["title"],
                summary=record["summary"],
                topic=record["topic"],
                level=CourseLevel(record["level"]),
                mode=CourseMode(record["mode"]),
                capacity=record["capacity"],
                seats_taken=record["seats_taken"],
                next_session_at=_aware(record["next_at"]),
                class_hours=float(record["class_hours"]),
                trainers=trainers,
            )
        )
    return rows, int(total), topics


baseline = Blueprint("baseline", __name__, url_prefix="/bench/baseline")


@baseline.get("/courses")
@allow(PUBLIC)
def baseline_courses() -> str:
    filters = catalogue_filters()
    page_number = request.args.get("page", 1, type=int) or 1
    rows, total, topics = _fetch(filters, PAGE_SIZE, (page_number - 1) * PAGE_SIZE)
    return render_template(
        "catalogue/list.html",
        page=Page(items=rows, total=total, page=page_number, per_page=PAGE_SIZE),
        filters=filters,
        topics=topics,
        levels=[level.value for level in CourseLevel],
        modes=[mode.value for mode in CourseMode],
    )


@baseline.get("/api/courses")
@allow(PUBLIC)
def baseline_api_courses() -> Any:
    rows, total, _topics = _fetch({}, API_PAGE_SIZE, 0)
    items = [
        {
            "id": row.id,
            "title": row.title,
            "summary": row.summary,
            "topic": row.topic,
            "level": row.level.value,
            "mode": row.mode.value,
            "capacity": row.capacity,
            "class_hours": row.class_hours,
            "seats_left": row.seats_left,
            "next_session_at": row.next_session_at.isoformat() if row.next_session_at else None,
            "trainers": [{"id": t.id, "name": t.name} for t in row.trainers],
            "trainer_ids": [t.id for t in row.trainers],
        }
        for row in rows
    ]
    return jsonify(items=items, total=total, page=1, per_page=API_PAGE_SIZE)


app = create_app()
app.register_blueprint(baseline)
