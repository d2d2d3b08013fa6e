"""courses.services.search: what a search box's words match. Wildcards typed by the user
are taken literally, case is ignored, and people are found by name, phone or e-mail."""

from __future__ import annotations

import sqlalchemy as sa

from courses.db import db
from courses.models import User
from courses.services.search import contains_any, like_pattern, person_matches
from tests.factories import make_user


def test_wildcards_typed_in_a_search_are_taken_literally():
    assert like_pattern("社工") == "%社工%"
    assert like_pattern("100%") == "%100\\%%"
    assert like_pattern("a_b") == "%a\\_b%"
    assert like_pattern("c:\\d") == "%c:\\\\d%"


def _found(condition) -> set[str]:  # type: ignore[no-untyped-def]
    return set(db.session.scalars(sa.select(User.name).where(condition)))


def test_people_are_found_by_name_phone_or_email_ignoring_case(app_ctx):  # type: ignore[no-untyped-def]
    make_user("王小明", email="Wang.XM@Example.org", phone="13800138000")
    make_user("李雷", email="lilei@example.org", phone="13900139000")
    make_user("50%_折扣", email="odd@example.org", phone="13700137000")
    assert _found(person_matches("小明")) == {"王小明"}
    assert _found(person_matches("wang.xm")) == {"王小明"}
    assert _found(person_matches("139001")) == {"李雷"}
    assert _found(person_matches("example.org")) == {"王小明", "李雷", "50%_折扣"}
    # "%" and "_" match only themselves, not any text
    assert _found(person_matches("%_")) == {"50%_折扣"}
    assert _found(person_matches("0_")) == set()


def test_contains_any_searches_the_given_columns_only(app_ctx):  # type: ignore[no-untyped-def]
    make_user("张三", email="zhang@example.org", phone="13600136000")
    assert _found(contains_any("zhang", User.name)) == set()
    assert _found(contains_any("zhang", User.name, User.email)) == {"张三"}
