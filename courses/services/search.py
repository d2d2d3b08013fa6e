"""Searching text columns: the one way a search box's words become a SQL condition.

``contains_any(term, *columns)`` is what every list with a search box uses (catalogue,
management lists, pickers, rosters, roll-call): case-insensitive ``LIKE '%term%'`` with
the wildcard characters of ``term`` taken literally. ``person_matches`` is the search
by name, phone or e-mail that every list of people offers.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from courses.models import User

LIKE_ESCAPE = "\\"


def like_pattern(term: str) -> str:
    """``%term%`` with the wildcard characters of ``term`` escaped (taken literally)."""
    escaped = (
        term.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"


def contains_any(term: str, *columns: Any) -> sa.ColumnElement[bool]:
    """Any of ``columns`` contains ``term``, ignoring case."""
    pattern = like_pattern(term)
    return sa.or_(*(column.ilike(pattern, escape=LIKE_ESCAPE) for column in columns))


def person_matches(term: str) -> sa.ColumnElement[bool]:
    """The user's name, phone or e-mail contains ``term``."""
    return contains_any(term, User.name, User.phone, User.email)
