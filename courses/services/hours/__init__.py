"""The hours ledger (课时台账): a learner's credited class hours by year and by
registration cycle, against the continuing-education requirement of their
qualification level, with hours earned outside the academy that admins add.

=======  ================================================================================
cycles   the registration cycle (its anchor, the current one) and a level's requirement
ledger   the ledger: the year's and the cycle's hours, by course and session, in SQL
admin    what admins keep: outside hours (院外课时) and the requirement of each level
=======  ================================================================================

What counts, and when, is in ``ledger``; how cycles are laid out, in ``cycles``.
"""

from courses.services.hours.admin import (
    MAX_CYCLE_YEARS,
    MAX_EXTERNAL_HOURS,
    MAX_NOTE_LENGTH,
    MAX_REQUIRED_HOURS,
    MAX_TITLE_LENGTH,
    REQUIREMENT_LEVELS,
    add_external_hours,
    delete_external_hours,
    external_records,
    get_external_record,
    parse_level,
    requirements,
    set_requirement,
)
from courses.services.hours.cycles import (
    Requirement,
    current_cycle,
    cycle_anchor,
    local_today,
    requirement_for,
)
from courses.services.hours.ledger import (
    CourseHours,
    Cycle,
    ExternalHours,
    Ledger,
    SessionHours,
    hours_between,
    ledger,
    ledger_for,
    ledger_years,
)

__all__ = [
    "MAX_CYCLE_YEARS",
    "MAX_EXTERNAL_HOURS",
    "MAX_NOTE_LENGTH",
    "MAX_REQUIRED_HOURS",
    "MAX_TITLE_LENGTH",
    "REQUIREMENT_LEVELS",
    "CourseHours",
    "Cycle",
    "ExternalHours",
    "Ledger",
    "Requirement",
    "SessionHours",
    "add_external_hours",
    "current_cycle",
    "cycle_anchor",
    "delete_external_hours",
    "external_records",
    "get_external_record",
    "hours_between",
    "ledger",
    "ledger_for",
    "ledger_years",
    "local_today",
    "parse_level",
    "requirement_for",
    "requirements",
    "set_requirement",
]
