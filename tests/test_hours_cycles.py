"""The registration cycle (courses.services.hours.cycles): the cycle that contains
today, and cycles aligned to the year the account was made."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from courses.db import db
from courses.services import hours
from courses.services.hours import current_cycle
from tests.hours_steps import (  # _keep_default_requirements: autouse
    TODAY,
    _keep_default_requirements,  # noqa: F401
    _social_worker,
)


@pytest.mark.parametrize(
    ("anchor", "years", "today", "expected"),
    [
        (date(2024, 1, 1), 3, date(2025, 6, 1), (date(2024, 1, 1), date(2027, 1, 1))),
        (date(2024, 1, 1), 3, date(2027, 1, 1), (date(2027, 1, 1), date(2030, 1, 1))),
        (date(2024, 1, 1), 3, date(2026, 12, 31), (date(2024, 1, 1), date(2027, 1, 1))),
        (date(2024, 7, 1), 3, date(2024, 6, 30), (date(2021, 7, 1), date(2024, 7, 1))),
        (date(2020, 2, 29), 3, date(2023, 3, 1), (date(2023, 2, 28), date(2026, 2, 28))),
        (date(2019, 9, 1), 2, date(2025, 8, 31), (date(2023, 9, 1), date(2025, 9, 1))),
    ],
)
def test_the_current_cycle_contains_today(anchor, years, today, expected):
    assert current_cycle(anchor, years, today) == expected


def test_without_a_cycle_start_cycles_align_to_the_year_the_account_was_made(app_ctx):
    user = _social_worker()
    user.created_at = datetime(2022, 5, 20, 3, 0, tzinfo=UTC)
    db.session.commit()
    ledger = hours.ledger(user, today=TODAY)
    assert (ledger.cycle.starts_on, ledger.cycle.ends_on) == (date(2025, 1, 1), date(2027, 12, 31))
    # An account made at 23:30 on 31 December 2021 in Shanghai (15:30 UTC) counts as 2021.
    user.created_at = datetime(2021, 12, 31, 15, 30, tzinfo=UTC)
    db.session.commit()
    assert hours.ledger(user, today=TODAY).cycle.starts_on == date(2024, 1, 1)
