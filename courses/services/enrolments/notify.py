"""What an enrolment change leaves behind for the learner and for the record: an in-app
notice (``enrolment_<kind>``) and the outbox event (``enrolment.notify``) for its
e-mail, and for every change a trainer or admin makes, an audit entry
(``enrolment.<action>``). All are written in the transaction of the change, so they
exist exactly when the change commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from courses.db import db, utcnow
from courses.models import Course, Enrolment, Notice, OutboxEvent, User
from courses.services import audit

if TYPE_CHECKING:
    from courses.services.enrolments.seats import NewEnrolment

NOTIFY_TOPIC = "enrolment.notify"


#: The notice each staff action sends the learner (``enrolment_<kind>``).
_NOTICE_OF_ACTION = {
    "add": "added",
    "remove": "removed",
    "approve": "approved",
    "reject": "rejected",
    "promote": "promoted",
}


def staff_action(
    actor: User,
    action: str,
    enrolment: Enrolment | NewEnrolment,
    course: Course,
    now: datetime | None,
    notice: dict[str, object],
    **audit_data: object,
) -> None:
    """What every change by a trainer or admin leaves behind: an audit entry
    (``enrolment.<action>``) and the learner's notice with its outbox event."""
    audit.record(
        actor,
        f"enrolment.{action}",
        "enrolment",
        enrolment.id,
        course_id=course.id,
        user_id=enrolment.user_id,
        **audit_data,
    )
    notify_learner(enrolment, _NOTICE_OF_ACTION[action], course, now=now, **notice)


def notify_learner(
    enrolment: Enrolment | NewEnrolment,
    kind: str,
    course: Course,
    *,
    now: datetime | None = None,
    **data: object,
) -> None:
    """An in-app notice for the learner and the outbox event that will e-mail it."""
    payload = {"course_id": course.id, "course_title": course.title, **data}
    db.session.add(
        Notice(
            user_id=enrolment.user_id,
            kind=f"enrolment_{kind}",
            data=payload,
            created_at=now or utcnow(),
        )
    )
    db.session.add(
        OutboxEvent(
            topic=NOTIFY_TOPIC,
            payload={"enrolment_id": enrolment.id, "kind": kind},
            dedup_key=f"enrolment.{kind}:{enrolment.id}",
        )
    )
