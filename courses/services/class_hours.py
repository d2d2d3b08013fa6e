"""Class hours (课时): the one rule that turns minutes into hours and rounds them.

A class hour is ``MINUTES_PER_CLASS_HOUR`` minutes (default 45). Every figure of hours
the academy prints or sums (a session's default hours, a learner's credit, the hours a
course requires for completion) is rounded the way a Chinese report rounds (四舍五入):
half up, to two decimals, computed in ``Decimal`` so that 0.125 is 0.13 and never
0.12 because of binary floating point.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from courses.settings import minutes_per_class_hour

HUNDREDTH = Decimal("0.01")


def _decimal(value: Any) -> Decimal:
    # str(): a float's shortest repr, so 2.675 is 2.675 and not 2.67499999…
    return value if isinstance(value, Decimal) else Decimal(str(value))


def round_hours(value: Any) -> float:
    """``value`` (hours: int, float, Decimal or a numeric string) rounded half up to two
    decimals."""
    return float(_decimal(value or 0).quantize(HUNDREDTH, rounding=ROUND_HALF_UP))


def hours_for_minutes(minutes: float, cap: Any = None) -> float:
    """``minutes`` ÷ minutes per class hour, at most ``cap`` hours when given, rounded."""
    hours = _decimal(minutes) / Decimal(minutes_per_class_hour())
    if cap is not None:
        hours = min(hours, _decimal(cap))
    return round_hours(hours)


def share_of_hours(share: Any, hours: Any) -> float:
    """``share`` (a fraction such as 0.8) of ``hours``, rounded: the hours a course's
    completion threshold requires."""
    return round_hours(_decimal(share) * _decimal(hours))
