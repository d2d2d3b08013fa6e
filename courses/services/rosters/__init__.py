"""Read side of enrolment: a learner's courses and notices, a course's roster and its
export, the enrol box on the course page. Every function runs a fixed number of
statements whatever the number of rows.

=============  ========================================================================
places         an enrolment with its waitlist place (``EnrolmentView``, ``view``)
learner        the learner's own: the enrol box, "My courses", coming sessions, notices
course_roster  a course's roster, its counts by state and its export table
=============  ========================================================================

The place shown for a waiting learner (``waitlist_rank``, 1 = next) is the rank of
their stored position among those still waiting, computed in SQL.
"""

from courses.services.rosters.course_roster import (
    STATUS_LABELS,
    RosterRow,
    roster,
    roster_rows,
    roster_table,
    status_counts,
)
from courses.services.rosters.learner import (
    CURRENT_STATUSES,
    EnrolState,
    MyEnrolment,
    UpcomingSession,
    course_is_over,
    enrol_state,
    mark_notices_read,
    my_enrolments,
    unread_notices,
    upcoming_sessions,
)
from courses.services.rosters.places import EnrolmentView, placed_view, view

__all__ = [
    "CURRENT_STATUSES",
    "STATUS_LABELS",
    "EnrolState",
    "EnrolmentView",
    "MyEnrolment",
    "RosterRow",
    "UpcomingSession",
    "course_is_over",
    "enrol_state",
    "mark_notices_read",
    "my_enrolments",
    "placed_view",
    "roster",
    "roster_rows",
    "roster_table",
    "status_counts",
    "unread_notices",
    "upcoming_sessions",
    "view",
]
