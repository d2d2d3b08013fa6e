"""courses.services.class_hours: the one rule for 课时 — minutes per class hour from the
settings, rounded half up (四舍五入) to two decimals in Decimal, never binary float."""

from __future__ import annotations

from decimal import Decimal

import pytest

from courses.services.class_hours import hours_for_minutes, round_hours, share_of_hours
from tests.conftest import make_app


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        (0.125, 0.13),  # half up, where Python's round() gives 0.12
        (2.675, 2.68),  # a float whose binary value is just below 2.675
        (Decimal("1.005"), 1.01),
        ("3.3349", 3.33),
        (None, 0.0),
        (0, 0.0),
        (12, 12.0),
    ],
)
def test_hours_are_rounded_half_up_to_two_decimals(value, rounded):  # type: ignore[no-untyped-def]
    assert round_hours(value) == rounded


def test_minutes_become_class_hours_of_45_minutes_by_default(app_ctx):  # type: ignore[no-untyped-def]
    assert hours_for_minutes(90) == 2.0
    assert hours_for_minutes(100) == 2.22
    assert hours_for_minutes(60) == 1.33
    assert hours_for_minutes(1) == 0.02


def test_credit_is_capped_at_the_sessions_hours(app_ctx):  # type: ignore[no-untyped-def]
    assert hours_for_minutes(500, cap=3) == 3.0
    assert hours_for_minutes(500, cap=2.5) == 2.5
    assert hours_for_minutes(45, cap=3) == 1.0


def test_the_length_of_a_class_hour_is_a_setting():
    app = make_app(MINUTES_PER_CLASS_HOUR=40)
    with app.app_context():
        assert hours_for_minutes(100) == 2.5


def test_a_share_of_hours_is_rounded_the_same_way():
    assert share_of_hours(0.8, 12) == 9.6
    assert share_of_hours(Decimal("0.75"), 1.5) == 1.13  # 1.125 half up
    assert share_of_hours(1, 0) == 0.0
