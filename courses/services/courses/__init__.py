"""Course management: courses, their sessions, publication and cloning for a new run.

Every function checks who is acting, validates the whole change before touching any
row (so a refused change leaves nothing behind), records an audit entry, flushes and
never commits. Each refused rule raises ``ValidationFailed`` with its own ``code``:

===========================  ====================================================
``required``                 a title or topic is missing
``invalid_choice``           unknown level, mode or status
``invalid_capacity``         capacity zero or negative (course and session)
``capacity_below_enrolled``  capacity lowered below the seats already taken
``enrol_window_order``       the enrolment window closes before (or when) it opens
``invalid_threshold``        completion threshold outside (0, 1]
``invalid_trainer``          unknown user id, or a user without the trainer role
``invalid_programme``        unknown programme id, one the actor does not manage, or archived
``invalid_course_count``     leaving a programme that requires more courses than remain
``invalid_prerequisite``     unknown prerequisite course id
``prerequisite_cycle``       the course would (indirectly) be its own prerequisite
``no_sessions``              publishing (or keeping published) a course without sessions
``ends_before_start``        a session ending before or when it starts
``sessions_overlap``         two sessions of one course overlapping in time
``invalid_hours``            class hours zero, negative or too large
``missing_location``         the venue / link / video a session's mode needs is missing
``invalid_url``              a meeting or video link that is not http(s)
``date_out_of_range``        a date outside the years FIRST_YEAR..LAST_YEAR
``number_too_large``         a capacity beyond what the database column holds
``too_long``                 a text longer than its column (``rules.MAX_LENGTHS``)
===========================  ====================================================

A trainer who sends ``trainer_ids`` naming anyone but the course's own trainers gets
``PermissionDenied`` with code ``trainer_choice_not_allowed``: only admins choose them.

Times given without a zone are wall-clock times in the academy's zone
(``courses.settings.from_local``); they are stored in UTC.

A change of capacity locks the course row first (as every enrolment change does), so
the seats it checks are current; a raised or lifted capacity fills the new seats from
the head of the waitlist in the same transaction (``courses.services.enrolments``).

Where each rule lives:

=============  ===========================================================================
``rules``      text, length, choice, number, id-list and date cleaning (shared with
               programmes), and ``TITLE_LENGTH``
``editing``    creating and changing a course, publication (``create_course``,
               ``update_course``, ``set_status``)
``relations``  the course's trainers, prerequisites and programme
``sessions``   adding, changing and deleting sessions (``add_session``,
               ``update_session``, ``delete_session``, ``default_class_hours``)
``cloning``    a draft copy for a new run (``clone_course``, ``clone_shift``)
``queries``    class hours and the management list (``course_class_hours``,
               ``managed_course_page``, ``managed_status_counts``)
=============  ===========================================================================
"""

from courses.services.courses.cloning import clone_course, clone_shift
from courses.services.courses.editing import (
    COURSE_FIELDS,
    create_course,
    set_status,
    update_course,
)
from courses.services.courses.queries import (
    ManagedCourse,
    course_class_hours,
    managed_course_page,
    managed_status_counts,
)
from courses.services.courses.relations import require_trainer_choice
from courses.services.courses.rules import (
    TITLE_LENGTH,
    RuleErrors,
    clean_text,
    parse_enum,
)
from courses.services.courses.sessions import (
    CREDIT_FIELDS,
    MAX_CLASS_HOURS,
    SESSION_FIELDS,
    add_session,
    default_class_hours,
    delete_session,
    update_session,
)

__all__ = [
    "COURSE_FIELDS",
    "CREDIT_FIELDS",
    "MAX_CLASS_HOURS",
    "SESSION_FIELDS",
    "TITLE_LENGTH",
    "ManagedCourse",
    "RuleErrors",
    "add_session",
    "clean_text",
    "clone_course",
    "clone_shift",
    "course_class_hours",
    "create_course",
    "default_class_hours",
    "delete_session",
    "managed_course_page",
    "managed_status_counts",
    "parse_enum",
    "require_trainer_choice",
    "set_status",
    "update_course",
    "update_session",
]
