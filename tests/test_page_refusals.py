"""How pages show a service's refusal (academy.forms / academy.errors.show_refusal): the
whole message in the user's language, never cut into characters; information rather
than an error only where the page says so; and no "saved" left behind by a request
whose commit failed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask, get_flashed_messages
from flask_babel import lazy_gettext as _l

from academy import transactions
from academy.errors import show_refusal
from academy.forms import submit
from courses.db import db
from courses.errors import DomainError, ValidationFailed
from courses.models import Organisation
from courses.services import enrolments
from tests.factories import make_course, make_enrolment, make_session, make_trainer, make_user


def test_a_single_field_message_is_shown_whole(app):  # type: ignore[no-untyped-def]
    error = ValidationFailed(fields={"minutes": _l("Too long (%(n)d characters at most).", n=5)})
    assert error.fields == {"minutes": [error.fields["minutes"][0]]}
    with app.test_request_context("/", method="POST"):
        show_refusal(error)
        [(category, text)] = get_flashed_messages(with_categories=True)
    assert category == "error"
    assert "；" not in text and len(text) > 5


def test_without_a_form_the_refusals_own_message_is_flashed(app):  # type: ignore[no-untyped-def]
    specific = ValidationFailed("部分考勤标记无效，未记录任何考勤。", fields={"marks": ["行 3"]})
    generic = ValidationFailed(fields={"role": ["未知角色：wizard"]})
    with app.test_request_context("/", method="POST"):
        show_refusal(specific)
        show_refusal(generic)  # only the generic message: its field messages say more
        show_refusal(
            DomainError("已报名", code="already_enrolled"), news=frozenset({"already_enrolled"})
        )
        assert get_flashed_messages(with_categories=True) == [
            ("error", "部分考勤标记无效，未记录任何考勤。"),
            ("error", "未知角色：wizard"),
            ("info", "已报名"),
        ]


def test_a_roll_call_refusal_reads_as_one_sentence(client, login_as, app_ctx, flashed):  # type: ignore[no-untyped-def]
    trainer = make_trainer()
    course = make_course(trainers=[trainer])
    session = make_session(course, starts_at=datetime.now(UTC) - timedelta(hours=3))
    learner = make_user()
    make_enrolment(course, learner)
    login_as(trainer)
    refused = client.post(
        f"/manage/sessions/{session.id}/attendance",
        data={f"status-{learner.id}": "late", f"minutes-{learner.id}": "99999"},
    )
    assert refused.status_code == 302
    assert flashed[-1] == ("error", "部分考勤标记无效，未记录任何考勤。")


def test_roster_changes_are_told_in_chinese(client, login_as, app_ctx, flashed):  # type: ignore[no-untyped-def]
    trainer = make_trainer()
    course = make_course(sessions=1, approval_required=True, trainers=[trainer])
    learner = make_user(name="甲")
    request = enrolments.enrol(learner, course)
    db.session.commit()
    login_as(trainer)
    client.post(f"/manage/enrolments/{request.id}/approve")
    assert flashed[-1][0] == "success"
    assert flashed[-1][1].startswith("甲 现在的状态：")


def test_already_enrolled_is_news_to_the_learner_but_an_error_for_the_trainer(
    client, login_as, app_ctx, flashed
):  # type: ignore[no-untyped-def]
    trainer = make_trainer()
    course = make_course(sessions=1, trainers=[trainer], capacity=5)
    learner = make_user(phone="13800138000", email=None)
    make_enrolment(course, learner)
    login_as(learner)
    client.post(f"/courses/{course.id}/enrol")
    assert flashed[-1][0] == "info"
    client.post("/logout")
    login_as(trainer)
    client.post(f"/manage/courses/{course.id}/enrolments", data={"login": "13800138000"})
    assert flashed[-1][0] == "error"


def test_a_commit_that_fails_leaves_no_success_message_behind(app, monkeypatch):  # type: ignore[no-untyped-def]
    def view() -> object:
        return submit(lambda: db.session.add(Organisation(name="不会保存")), done="已保存", to="/")

    def failing_commit() -> None:
        raise sa.exc.OperationalError("COMMIT", {}, Exception("database is locked"))

    monkeypatch.setattr(transactions, "_commit", failing_commit)
    with app.test_request_context("/", method="POST"):
        with pytest.raises(sa.exc.OperationalError):
            transactions._in_one_transaction(view)()
        assert get_flashed_messages() == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 0


def test_errors_of_a_script_endpoint_are_json_whatever_it_accepts(client, login_as, app_ctx):  # type: ignore[no-untyped-def]
    course = make_course(sessions=0)
    session = make_session(course, starts_at=datetime.now(UTC) + timedelta(days=3))
    outsider = make_user()
    db.session.commit()
    login_as(outsider)
    answer = client.post(
        f"/sessions/{session.id}/heartbeat", headers={"Accept": "text/html"}, json={}
    )
    assert answer.status_code in (403, 404, 422)
    assert answer.is_json and answer.get_json()["error"]["code"]


def test_flask_keeps_the_view_name_for_access_checks(app: Flask):
    view = app.view_functions["attendance.heartbeat"]
    assert view.__name__ == "heartbeat" and view.answers_json is True
