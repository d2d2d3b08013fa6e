from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from courses.db import db

T = TypeVar("T")

MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _bounds(page: Any, per_page: Any) -> tuple[int, int]:
    return max(int(page or 1), 1), min(max(int(per_page or 20), 1), MAX_PER_PAGE)


def _total(statement: sa.Select[Any]) -> int:
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())
    )
    return int(total or 0)


def paginate(statement: sa.Select[Any], page: int = 1, per_page: int = 20) -> Page[Any]:
    """Run ``statement`` for one page; the total is counted in SQL, not in Python."""
    page, per_page = _bounds(page, per_page)
    items = db.session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=items, total=_total(statement), page=page, per_page=per_page)


def paginate_rows(
    statement: sa.Select[Any], page: int = 1, per_page: int = 20
) -> Page[sa.Row[Any]]:
    """``paginate`` for a statement of several columns: the items are whole rows."""
    page, per_page = _bounds(page, per_page)
    items = db.session.execute(statement.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=items, total=_total(statement), page=page, per_page=per_page)
