"""Feedback (满意度评估): once per course, only for enrolled learners and only once the
last session has started; averages for trainers; feedback completes a course that
requires it; the survey and summary pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.errors import Conflict, PermissionDenied, ValidationFailed
from courses.models import (
    Enrolment,
    EnrolmentStatus,
    FeedbackResponse,
    OutboxEvent,
)
from courses.services import attendance, rosters
from courses.services import feedback as feedback_service
from courses.services.stats.tracking import TOPIC as STATS_TOPIC
from tests.factories import (
    make_admin,
    make_course,
    make_enrolment,
    make_session,
    make_trainer,
    make_user,
)

#: Outbox rows other than the figures' (which any change to a course's records writes).
NOT_STATS = OutboxEvent.topic != STATS_TOPIC

NOW = datetime(2030, 6, 1, 4, 0, tzinfo=UTC)
PAST = NOW - timedelta(days=14)


def _finished_course(**kwargs):  # type: ignore[no-untyped-def]
    """A course of two weekly sessions, the last one a week before NOW."""
    kwargs.setdefault("trainers", [make_trainer()])
    return make_course(sessions=2, first_session_at=PAST, **kwargs)


def _submit(user, course, scores=(4, 5, 3), comment="", now=NOW):  # type: ignore[no-untyped-def]
    return feedback_service.submit_feedback(user, course, *scores, comment, now=now)


def _responses(course) -> list[FeedbackResponse]:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(FeedbackResponse).where(FeedbackResponse.course_id == course.id)
        )
    )


# ---- the service ----------------------------------------------------------------------------


def test_a_learner_rates_a_course_once(app_ctx):
    course = _finished_course()
    learner = make_user()
    make_enrolment(course, learner)
    response = _submit(learner, course, (4, 5, 3), "  讲得很好，案例实用。 ")
    db.session.commit()
    assert (response.content_score, response.trainer_score, response.organisation_score) == (
        4,
        5,
        3,
    )
    assert response.comment == "讲得很好，案例实用。"  # stripped

    with pytest.raises(Conflict) as caught:
        _submit(learner, course, (1, 1, 1), "改主意了")
    assert caught.value.code == "feedback_already_given"
    assert caught.value.status == 409
    db.session.rollback()
    stored = _responses(course)
    assert len(stored) == 1
    assert (stored[0].content_score, stored[0].comment) == (4, "讲得很好，案例实用。")


def test_the_survey_opens_when_the_last_session_starts(app_ctx):
    course = make_course(sessions=1, first_session_at=PAST)
    last = make_session(course, starts_at=NOW + timedelta(days=2))
    learner = make_user()
    make_enrolment(course, learner)
    with pytest.raises(ValidationFailed) as caught:
        _submit(learner, course)
    assert caught.value.code == "feedback_not_open"
    # 2030-06-03 04:00 UTC is 12:00 in Shanghai: the message says when it opens.
    assert "2030-06-03 12:00" in str(caught.value.message)
    db.session.rollback()
    assert _responses(course) == []
    assert feedback_service.feedback_state(learner, course, NOW).state == "not_open"

    opened = _submit(learner, course, now=last.starts_at)  # from the start, not the end
    assert opened.id is not None


def test_a_course_without_sessions_is_not_open_for_feedback(app_ctx):
    course = make_course()
    learner = make_user()
    make_enrolment(course, learner)
    with pytest.raises(ValidationFailed) as caught:
        _submit(learner, course)
    assert caught.value.code == "feedback_not_open"


@pytest.mark.parametrize(
    "status", [None, EnrolmentStatus.WAITLISTED, EnrolmentStatus.PENDING, EnrolmentStatus.CANCELLED]
)
def test_only_enrolled_learners_give_feedback(app_ctx, status):
    course = _finished_course()
    learner = make_user()
    if status is not None:
        position = 1 if status == EnrolmentStatus.WAITLISTED else None
        make_enrolment(course, learner, status=status, waitlist_position=position)
    with pytest.raises(PermissionDenied) as caught:
        _submit(learner, course)
    assert caught.value.code == "not_enrolled"
    db.session.rollback()
    assert _responses(course) == []
    assert feedback_service.feedback_state(learner, course, NOW).state == "not_enrolled"


@pytest.mark.parametrize("status", [EnrolmentStatus.COMPLETED, EnrolmentStatus.INCOMPLETE])
def test_learners_who_finished_the_course_give_feedback(app_ctx, status):
    course = _finished_course()
    learner = make_user()
    make_enrolment(course, learner, status=status)
    assert feedback_service.feedback_state(learner, course, NOW).state == "open"
    _submit(learner, course)
    assert feedback_service.feedback_state(learner, course, NOW).state == "given"


@pytest.mark.parametrize(
    ("scores", "field"),
    [
        ((0, 3, 3), "content_score"),
        ((3, 6, 3), "trainer_score"),
        ((3, 3, "4"), "organisation_score"),
        ((True, 3, 3), "content_score"),
        ((3, None, 3), "trainer_score"),
    ],
)
def test_scores_are_whole_numbers_from_one_to_five(app_ctx, scores, field):
    course = _finished_course()
    learner = make_user()
    make_enrolment(course, learner)
    with pytest.raises(ValidationFailed) as caught:
        _submit(learner, course, scores)
    assert caught.value.code == "invalid_score"
    assert field in caught.value.fields
    db.session.rollback()
    assert _responses(course) == []


def test_comments_longer_than_2000_characters_are_refused(app_ctx):
    course = _finished_course()
    learner = make_user()
    make_enrolment(course, learner)
    with pytest.raises(ValidationFailed) as caught:
        _submit(learner, course, comment="好" * 2001)
    assert caught.value.code == "comment_too_long"
    db.session.rollback()
    assert _submit(learner, course, comment="好" * 2000).comment == "好" * 2000


def test_trainers_see_averages_and_the_newest_comments_first(app_ctx, count_queries):
    trainer = make_trainer()
    course = _finished_course(trainers=[trainer])
    rated = [((4, 5, 3), "第一条"), ((5, 5, 4), ""), ((5, 4, 4), "第三条")]
    for number, (scores, comment) in enumerate(rated):
        learner = make_user()
        make_enrolment(course, learner)
        _submit(learner, course, scores, comment, now=NOW + timedelta(minutes=number))
    other = _finished_course()
    someone = make_user()
    make_enrolment(other, someone)
    _submit(someone, other, (1, 1, 1), "别的课程")
    db.session.commit()
    _ = (trainer.id, course.id)

    with count_queries() as statements:
        summary = feedback_service.feedback_summary(trainer, course)
    assert len(statements) <= 3  # permission, averages, comments
    assert summary.count == 3
    assert summary.content_average == pytest.approx(4.67)  # 14 / 3, rounded in SQL
    assert summary.trainer_average == pytest.approx(4.67)
    assert summary.organisation_average == pytest.approx(3.67)
    assert [c.comment for c in summary.comments.items] == ["第三条", "第一条"]
    assert summary.comments.total == 2

    first_page = feedback_service.feedback_summary(trainer, course, per_page=1)
    assert [c.comment for c in first_page.comments.items] == ["第三条"]
    assert first_page.comments.pages == 2

    admin_view = feedback_service.feedback_summary(make_admin(), course)
    assert admin_view.count == 3
    for outsider in (make_trainer(), make_user()):
        with pytest.raises(PermissionDenied):
            feedback_service.feedback_summary(outsider, course)


def test_an_empty_summary_has_no_averages(app_ctx):
    trainer = make_trainer()
    course = _finished_course(trainers=[trainer])
    summary = feedback_service.feedback_summary(trainer, course)
    assert summary.count == 0
    assert summary.content_average is None
    assert summary.comments.items == []


def test_feedback_completes_a_course_that_requires_it(app_ctx):
    trainer = make_trainer()
    course = make_course(
        trainers=[trainer], sessions=1, first_session_at=PAST, feedback_required=True
    )
    session = course.sessions[0]
    learner = make_user()
    enrolment = make_enrolment(course, learner)
    attendance.mark(trainer, session, [{"user_id": learner.id, "status": "present"}], now=NOW)
    db.session.commit()
    db.session.refresh(enrolment)
    # The hours are met, but the survey is missing: the course is over, so incomplete.
    assert enrolment.credited_hours == pytest.approx(float(session.class_hours))
    assert enrolment.status == EnrolmentStatus.INCOMPLETE
    assert db.session.scalar(sa.select(sa.func.count(OutboxEvent.id)).where(NOT_STATS)) == 0

    _submit(learner, course)
    db.session.commit()
    db.session.refresh(enrolment)
    assert enrolment.status == EnrolmentStatus.COMPLETED
    events = list(
        db.session.scalars(sa.select(OutboxEvent).where(OutboxEvent.topic == "enrolment.completed"))
    )
    assert [e.payload["enrolment_id"] for e in events] == [enrolment.id]


def test_feedback_alone_does_not_complete_a_course_short_of_hours(app_ctx):
    course = _finished_course(feedback_required=True)
    learner = make_user()
    enrolment = make_enrolment(course, learner)
    _submit(learner, course)
    db.session.commit()
    db.session.refresh(enrolment)
    assert enrolment.status == EnrolmentStatus.INCOMPLETE
    assert db.session.scalar(sa.select(sa.func.count(OutboxEvent.id)).where(NOT_STATS)) == 0


def test_my_courses_offers_the_survey_after_the_last_session_in_two_statements(
    app_ctx, count_queries
):
    learner = make_user()
    finished = _finished_course(title="已结束课程")
    upcoming = make_course(title="未开课课程", sessions=1, first_session_at=NOW + timedelta(days=3))
    rated = _finished_course(title="已评价课程")
    for course in (finished, upcoming, rated):
        make_enrolment(course, learner)
    waiting = _finished_course(title="候补课程")
    make_enrolment(waiting, learner, status=EnrolmentStatus.WAITLISTED, waitlist_position=1)
    _submit(learner, rated)
    db.session.commit()
    _ = learner.id
    with count_queries() as statements:
        page = rosters.my_enrolments(learner, now=NOW)
    assert len(statements) == 2
    offered = {item.course.title: item.can_give_feedback for item in page.items}
    assert offered == {
        "已结束课程": True,
        "未开课课程": False,
        "已评价课程": False,
        "候补课程": False,
    }


# ---- the pages ------------------------------------------------------------------------------


def _html(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _recent_course(**kwargs):  # type: ignore[no-untyped-def]
    """A course whose last session started yesterday (the pages use the real clock)."""
    kwargs.setdefault("trainers", [make_trainer()])
    return make_course(sessions=1, first_session_at=datetime.now(UTC) - timedelta(days=1), **kwargs)


def test_a_learner_fills_in_the_survey_from_my_courses(app_ctx, login_as, flashed):
    course = _recent_course(title="社区矫正实务")
    learner = make_user()
    make_enrolment(course, learner)
    client = login_as(learner)
    my_courses = _html(client.get("/me/courses"))
    assert f'href="/courses/{course.id}/feedback"' in my_courses

    page = client.get(f"/courses/{course.id}/feedback")
    assert page.status_code == 200
    html = _html(page)
    assert "社区矫正实务" in html
    assert html.count('type="radio"') == 15  # three questions, five choices each
    assert 'name="content_score"' in html and "<textarea" in html

    response = client.post(
        f"/courses/{course.id}/feedback",
        data={
            "content_score": "5",
            "trainer_score": "4",
            "organisation_score": "3",
            "comment": "希望多些案例",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/me/courses")
    assert flashed and flashed[-1][0] == "success"
    stored = _responses(course)
    assert [(r.user_id, r.content_score, r.trainer_score, r.comment) for r in stored] == [
        (learner.id, 5, 4, "希望多些案例")
    ]
    assert f'href="/courses/{course.id}/feedback"' not in _html(client.get("/me/courses"))

    again = client.post(
        f"/courses/{course.id}/feedback",
        data={"content_score": "1", "trainer_score": "1", "organisation_score": "1"},
    )
    assert again.status_code == 302
    assert flashed[-1][0] == "info"
    assert [r.content_score for r in _responses(course)] == [5]
    given = _html(client.get(f"/courses/{course.id}/feedback"))
    assert 'id="feedback-given"' in given and 'type="radio"' not in given


def test_the_survey_page_refuses_missing_ratings_and_says_when_it_opens(app_ctx, login_as):
    course = _recent_course()
    later = make_course(sessions=1, first_session_at=datetime(2031, 1, 5, 2, 0, tzinfo=UTC))
    learner = make_user()
    make_enrolment(course, learner)
    make_enrolment(later, learner)
    client = login_as(learner)
    response = client.post(f"/courses/{course.id}/feedback", data={"content_score": "5"})
    assert response.status_code == 422
    assert 'id="trainer_score-error"' in _html(response)
    assert _responses(course) == []

    html = _html(client.get(f"/courses/{later.id}/feedback"))
    assert 'id="feedback-not-open"' in html
    assert "2031-01-05 10:00" in html  # the last session's start, in Shanghai time
    assert 'type="radio"' not in html


def test_learners_not_enrolled_get_403_on_the_survey(app_ctx, login_as):
    course = _recent_course()
    client = login_as(make_user())
    assert client.get(f"/courses/{course.id}/feedback").status_code == 403
    response = client.post(
        f"/courses/{course.id}/feedback",
        data={"content_score": "5", "trainer_score": "5", "organisation_score": "5"},
    )
    assert response.status_code == 403
    assert _responses(course) == []


def test_the_trainer_sees_averages_and_comments_from_the_roster(app_ctx, login_as):
    trainer = make_trainer()
    course = _recent_course(trainers=[trainer])
    for scores, comment in (((5, 4, 3), "很实用"), ((4, 4, 4), "")):
        learner = make_user()
        make_enrolment(course, learner)
        feedback_service.submit_feedback(learner, course, *scores, comment)
    db.session.commit()
    client = login_as(trainer)
    roster = _html(client.get(f"/manage/courses/{course.id}/enrolments"))
    assert f'href="/manage/courses/{course.id}/feedback"' in roster
    html = _html(client.get(f"/manage/courses/{course.id}/feedback"))
    assert 'id="content-average">4.50 / 5' in html
    assert 'id="trainer-average">4.00 / 5' in html
    assert 'id="organisation-average">3.50 / 5' in html
    assert "很实用" in html


def test_other_trainers_and_learners_get_403_on_the_summary(app_ctx, client, login_as):
    course = _recent_course()
    for user in (make_trainer(), make_user()):
        client.post("/logout")
        assert login_as(user).get(f"/manage/courses/{course.id}/feedback").status_code == 403
    client.post("/logout")
    login_as(make_admin())
    assert client.get(f"/manage/courses/{course.id}/feedback").status_code == 200


def test_enrolment_is_unchanged_by_a_refused_survey(app_ctx):
    course = _finished_course(feedback_required=True)
    learner = make_user()
    enrolment = make_enrolment(course, learner)
    with pytest.raises(ValidationFailed):
        _submit(learner, course, (9, 9, 9))
    db.session.rollback()
    assert db.session.get(Enrolment, enrolment.id).status == EnrolmentStatus.ENROLLED


def test_satisfaction_is_averaged_per_trainer_over_their_courses(app_ctx, client, login_as):
    wang, li = make_trainer(name="王讲师"), make_trainer(name="李讲师")
    first = _finished_course(trainers=[wang])
    shared = _finished_course(trainers=[wang, li])
    make_course(trainers=[li], sessions=1, first_session_at=PAST)  # no responses yet
    for course, scores in ((first, (5, 5, 4)), (shared, (3, 4, 2)), (shared, (4, 3, 3))):
        learner = make_user()
        make_enrolment(course, learner)
        _submit(learner, course, scores)
    db.session.commit()
    rows = {row.name: row for row in feedback_service.satisfaction_by_trainer(make_admin())}
    assert (rows["王讲师"].courses, rows["王讲师"].responses) == (2, 3)
    assert (rows["王讲师"].content_average, rows["王讲师"].trainer_average) == (4.0, 4.0)
    assert rows["王讲师"].organisation_average == 3.0
    assert (rows["李讲师"].courses, rows["李讲师"].responses) == (1, 2)
    assert rows["李讲师"].content_average == 3.5
    # A trainer sees only their own line; learners are refused.
    assert [row.name for row in feedback_service.satisfaction_by_trainer(li)] == ["李讲师"]
    with pytest.raises(PermissionDenied):
        feedback_service.satisfaction_by_trainer(make_user())
    login_as(wang)
    page = client.get("/manage/feedback")
    assert page.status_code == 200
    assert "王讲师" in page.get_data(as_text=True) and "李讲师" not in page.get_data(as_text=True)
