"""Training statistics (课时, 人次, 人数, completions, certificates, satisfaction): summary
tables kept by workers from the outbox and answered from.

========  ================================================================================
periods   months in the academy's time zone (SQL) and the periods a request names
tallies   the summary tables computed from the raw records in SQL: one course, or all
tracking  which courses a transaction changed: one ``stats.course`` outbox row each
figures   the figures of a period by dimension, from the summary tables
========  ================================================================================
"""

from typing import Any

from courses.services.stats.figures import GROUPS, Figures, Row, figures
from courses.services.stats.periods import Period, month_label, period
from courses.services.stats.tallies import recompute_all, refresh_course
from courses.services.stats.tracking import TOPIC, install, touch


def on_course_changed(payload: dict[str, Any]) -> None:
    """``stats.course``: recompute that course's rows (idempotent: the same rows come
    out however often it runs, in whatever order)."""
    refresh_course(int(payload["course_id"]))


__all__ = [
    "GROUPS",
    "TOPIC",
    "Figures",
    "Period",
    "Row",
    "figures",
    "install",
    "month_label",
    "on_course_changed",
    "period",
    "recompute_all",
    "refresh_course",
    "touch",
]
