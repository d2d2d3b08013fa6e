"""Which courses a transaction changed: one ``stats.course`` row per course and
transaction however many flushes changed it, and a row rolled back with a savepoint is
written again by the next change."""

from __future__ import annotations

import sqlalchemy as sa

from courses.db import db
from courses.models import OutboxEvent
from courses.services import stats
from tests.factories import make_course, make_user


def _rows() -> list[int]:
    found = db.session.scalars(
        sa.select(OutboxEvent.payload).where(OutboxEvent.topic == stats.TOPIC)
    )
    return sorted(payload["course_id"] for payload in found)


def _clear() -> None:
    db.session.execute(sa.delete(OutboxEvent))
    db.session.commit()


def test_several_flushes_of_one_transaction_write_one_row_per_course(app_ctx) -> None:
    first, second = make_course("个案管理", sessions=2), make_course("小组工作", sessions=1)
    _clear()
    first.sessions[0].class_hours = 3
    db.session.flush()
    first.sessions[1].class_hours = 4
    db.session.flush()
    stats.touch(first.id)
    second.sessions[0].class_hours = 1
    db.session.commit()
    assert _rows() == sorted([first.id, second.id])

    first.sessions[0].class_hours = 2  # a new transaction: a new row
    db.session.commit()
    assert _rows() == sorted([first.id, first.id, second.id])


def test_a_row_rolled_back_with_its_savepoint_is_written_again(app_ctx) -> None:
    course = make_course("社区营造", sessions=1)
    _clear()
    savepoint = db.session.begin_nested()
    course.sessions[0].class_hours = 3
    db.session.flush()
    savepoint.rollback()
    assert _rows() == []
    course.sessions[0].class_hours = 5
    db.session.commit()
    assert _rows() == [course.id]


def test_a_rolled_back_transaction_writes_nothing_and_forgets_nothing(app_ctx) -> None:
    course = make_course("危机干预", sessions=1)
    make_user()
    _clear()
    course.sessions[0].class_hours = 3
    db.session.flush()
    db.session.rollback()
    assert _rows() == []
    course = db.session.get(type(course), course.id)
    course.sessions[0].class_hours = 6
    db.session.commit()
    assert _rows() == [course.id]
