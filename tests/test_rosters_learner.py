"""A learner's own enrolments (courses.services.rosters.learner): "My courses" with
waitlist places, next sessions and what can still be cancelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from courses.models import EnrolmentStatus
from courses.services import rosters
from tests.enrolment_steps import NOW, _course, _enrol
from tests.factories import make_user


def test_my_enrolments_show_place_next_session_and_cancellability(app_ctx, count_queries):
    learner = make_user()
    full = _course(capacity=1, title="满员课程")
    _enrol(make_user(), full)
    open_course = _course(title="开放课程", cancel_deadline=NOW - timedelta(days=1))
    _enrol(learner, full)
    _enrol(learner, open_course, now=NOW - timedelta(days=2))
    _ = learner.id  # loaded before counting
    with count_queries() as statements:
        page = rosters.my_enrolments(learner, now=NOW)
    assert len(statements) == 2
    by_title = {item.course.title: item for item in page.items}
    assert by_title["满员课程"].status == EnrolmentStatus.WAITLISTED
    assert by_title["满员课程"].waitlist_rank == 1
    assert by_title["满员课程"].can_cancel  # leaving the waitlist is always possible
    assert by_title["开放课程"].status == EnrolmentStatus.ENROLLED
    assert not by_title["开放课程"].can_cancel  # the deadline has passed
    assert by_title["开放课程"].next_session_at == datetime(2030, 3, 4, 1, 30, tzinfo=UTC)
