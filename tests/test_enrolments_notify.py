"""What an enrolment change leaves behind (courses.services.enrolments.notify): the
audit entry of a staff action and the learners' notices."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from courses.db import db
from courses.models import AuditLogEntry, Notice
from courses.services import enrolments
from tests.enrolment_steps import NOW, _course, _enrol
from tests.factories import make_trainer, make_user


def test_a_trainer_removes_after_the_deadline_audited_and_notified(app_ctx):
    trainer = make_trainer()
    course = _course(capacity=1, cancel_deadline=NOW, trainers=[trainer])
    learner, next_in_line = make_user(), make_user()
    seat = _enrol(learner, course, now=NOW - timedelta(hours=2))
    _enrol(next_in_line, course, now=NOW - timedelta(hours=1))
    enrolments.cancel(trainer, seat, reason="重复报名", now=NOW + timedelta(days=1))
    db.session.commit()
    entry = db.session.scalar(
        sa.select(AuditLogEntry).where(AuditLogEntry.action == "enrolment.remove")
    )
    assert entry.actor_id == trainer.id
    assert entry.data["reason"] == "重复报名"
    kinds = {n.user_id: n.kind for n in db.session.scalars(sa.select(Notice))}
    assert kinds == {learner.id: "enrolment_removed", next_in_line.id: "enrolment_promoted"}
