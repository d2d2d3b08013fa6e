"""Enrolment (报名): self-enrolment, the FIFO waitlist, approval, prerequisites,
cancellation, and what trainers and admins do on a roster.

============  ==========================================================================
eligibility   who may enrol: the window, the course's state, prerequisites, the one
              active enrolment, the accounts staff name (``enrolment_refusal``)
seats         seats and the waitlist: the atomic seat update, the course lock, the
              insert, positions, promotion (how capacity holds under any concurrency)
notify        the learner's notices, the outbox events and the audit entries
actions       enrol, cancel (or remove), approve, reject, promote
============  ==========================================================================

The read side (a learner's courses, a course's roster, the enrol box) is
``courses.services.rosters``.

Rules and their codes (``ValidationFailed`` 422 unless stated)
--------------------------------------------------------------

========================  ===========================================================
``course_not_open``       the course is a draft or archived
``enrolment_not_open``    the enrolment window has not opened yet (self-enrolment)
``enrolment_closed``      the window has closed or the course is over (self-enrolment)
``prerequisite_unmet``    a required course is not completed; the message names them
``already_enrolled``      409: an active enrolment exists (enrolled, waiting, pending…)
``invalid_user``          enrolling on behalf of an unknown or deactivated account
``cancel_deadline``       an enrolled learner cancelling after the course's deadline
``not_cancellable``       cancelling a completed, cancelled or rejected enrolment
``not_pending``           approving or rejecting what is not awaiting approval
``not_waitlisted``        moving someone off the waitlist who is not on it
========================  ===========================================================

Learners enrol themselves inside the window; trainers of the course and admins may
enrol anyone on their behalf at any time (the window and approval do not apply to
them, prerequisites and capacity do). The cancellation deadline binds a learner who
holds a seat; leaving the waitlist or withdrawing a request is always possible, and
trainers and admins may remove anyone who has not finished the course.

Every change a trainer or admin makes is written to the audit log; the learner gets
an in-app notice and an outbox event (``enrolment.notify``) for the e-mail.
"""

from courses.services.enrolments.actions import (
    Placed,
    approve,
    cancel,
    enrol,
    enrol_in_course,
    promote,
    reject,
)
from courses.services.enrolments.eligibility import (
    CANCELLABLE_STATUSES,
    active_enrolment,
    enrolment_refusal,
    learner_by_id,
    learner_by_login,
    unmet_prerequisites,
)
from courses.services.enrolments.notify import NOTIFY_TOPIC
from courses.services.enrolments.seats import SEAT_STATUSES, fill_free_seats, lock_course

__all__ = [
    "CANCELLABLE_STATUSES",
    "NOTIFY_TOPIC",
    "SEAT_STATUSES",
    "Placed",
    "active_enrolment",
    "approve",
    "cancel",
    "enrol",
    "enrol_in_course",
    "enrolment_refusal",
    "fill_free_seats",
    "learner_by_id",
    "learner_by_login",
    "lock_course",
    "promote",
    "reject",
    "unmet_prerequisites",
]
