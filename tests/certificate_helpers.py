"""What the certificate tests share: a learner who completed a past course through a
real roll-call, and short reads of certificates and outbox rows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from courses.db import db
from courses.models import Certificate, Enrolment, OutboxEvent, OutboxStatus
from courses.services import attendance
from tests.attendance_helpers import OVER, PAST
from tests.factories import make_course, make_enrolment, make_trainer, make_user


def completed_course(
    learners: int = 1, title: str = "社区营造实务", names: tuple[str, ...] = (), **course: Any
):  # type: ignore[no-untyped-def]
    """A two-session past course whose learners were all marked present and settled:
    each enrolment completed, each with its ``enrolment.completed`` event pending."""
    trainer = make_trainer(name="王老师")
    made = make_course(title, trainers=[trainer], sessions=2, first_session_at=PAST, **course)
    users = [make_user(name=names[i] if i < len(names) else f"学员{i}") for i in range(learners)]
    enrolments = [make_enrolment(made, user) for user in users]
    marks = [{"user_id": user.id, "status": "present"} for user in users]
    for session in made.sessions:
        attendance.mark(trainer, session, marks, now=OVER)
    attendance.settle_finished_courses(now=OVER + timedelta(minutes=1))
    db.session.commit()
    return trainer, made, users, enrolments


def mark_absent(trainer, course, user) -> None:  # type: ignore[no-untyped-def]
    """Correct the roll-call: the learner was absent from both sessions."""
    for session in course.sessions:
        attendance.mark(trainer, session, [{"user_id": user.id, "status": "absent"}], now=OVER)
    db.session.commit()


def certificates_of(enrolment: Enrolment) -> list[Certificate]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .where(Certificate.enrolment_id == enrolment.id)
            .order_by(Certificate.id)
        )
    )


def pending_events(topic: str | None = None) -> list[OutboxEvent]:
    db.session.expire_all()
    statement = sa.select(OutboxEvent).where(OutboxEvent.status == OutboxStatus.PENDING)
    if topic:
        statement = statement.where(OutboxEvent.topic == topic)
    return list(db.session.scalars(statement.order_by(OutboxEvent.id)))


def all_certificates() -> list[Certificate]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Certificate).order_by(Certificate.id)))


def drawn_course(app, learners: int = 1, names: tuple[str, ...] = (), **course: Any):  # type: ignore[no-untyped-def]
    """``completed_course`` with its certificates issued and their PDFs drawn by the
    in-process relay (the real handlers), read back fresh."""
    from workers import relay

    trainer, made, users, enrolments = completed_course(learners, names=names, **course)
    db.session.commit()
    relay.drain(app)
    db.session.expire_all()
    return trainer, made, users, [certificates_of(e)[-1] for e in enrolments]
