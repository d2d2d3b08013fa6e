"""The check-in pass a QR scan leaves in the browser: one learner's, two minutes, one use.

A copy of the cookie handed to another learner must check no one in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from academy.attendance.checkin import PASS_COOKIE, _pass_serializer
from courses.db import db
from courses.models import AttendanceRecord, CheckinPass
from courses.services.attendance import checkin
from tests.factories import (
    DEFAULT_PASSWORD,
    make_course,
    make_enrolment,
    make_session,
    make_trainer,
    make_user,
)


def _now() -> datetime:
    return datetime.now(UTC)


def _checked_in() -> set[int]:
    db.session.expire_all()
    return set(
        db.session.scalars(
            sa.select(AttendanceRecord.user_id).where(AttendanceRecord.checked_in_at.is_not(None))
        )
    )


@pytest.fixture
def room(app_ctx):  # type: ignore[no-untyped-def]
    trainer = make_trainer()
    course = make_course(trainers=[trainer])
    session = make_session(course, starts_at=_now().replace(microsecond=0) + timedelta(minutes=5))
    learners = [make_user(), make_user()]
    for learner in learners:
        make_enrolment(course, learner)
    checkin.open_checkin(trainer, session)
    db.session.commit()
    return session, learners


def _log_in(client, user) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/login", data={"login": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302


def _scan(client, session):  # type: ignore[no-untyped-def]
    token = checkin.token_for(session, checkin.step_of(_now()))
    return client.get(f"/checkin/{session.id}?t={token}")


def _pass_of(client) -> str:  # type: ignore[no-untyped-def]
    cookie = client.get_cookie(PASS_COOKIE, path="/checkin/")
    assert cookie is not None
    return cookie.value


def _hand_over(value: str, client) -> None:  # type: ignore[no-untyped-def]
    client.set_cookie(PASS_COOKIE, value, path="/checkin/")


def _check_in(client, session):  # type: ignore[no-untyped-def]
    return client.post(f"/checkin/{session.id}", data={"action": "checkin"})


def test_the_pass_lasts_two_minutes(app, room):  # type: ignore[no-untyped-def]
    session, (learner, _other) = room
    client = app.test_client()
    _log_in(client, learner)
    scanned = _scan(client, session)
    assert scanned.status_code == 200
    assert "Max-Age=120" in scanned.headers["Set-Cookie"]
    assert int(checkin.PRESENCE_PASS.total_seconds()) == 120


def test_a_pass_copied_from_a_logged_in_learner_checks_no_one_else_in(app, room):  # type: ignore[no-untyped-def]
    session, (owner, friend) = room
    owner_client, friend_client = app.test_client(), app.test_client()
    _log_in(owner_client, owner)
    _log_in(friend_client, friend)
    assert _scan(owner_client, session).status_code == 200
    _hand_over(_pass_of(owner_client), friend_client)

    refused = _check_in(friend_client, session)
    assert refused.status_code == 422
    assert "扫描屏幕上的二维码" in refused.get_data(as_text=True)
    assert 'name="code"' in refused.get_data(as_text=True)  # asked for the code instead
    assert _checked_in() == set()
    assert _check_in(owner_client, session).status_code == 302
    assert _checked_in() == {owner.id}


def test_a_pass_made_before_logging_in_is_refused_to_someone_logged_in_already(app, room):  # type: ignore[no-untyped-def]
    session, (owner, friend) = room
    owner_client, friend_client = app.test_client(), app.test_client()
    _log_in(friend_client, friend)  # logged in before the scan
    assert _scan(owner_client, session).status_code == 302  # to the log-in page
    _hand_over(_pass_of(owner_client), friend_client)

    assert _check_in(friend_client, session).status_code == 422
    assert _checked_in() == set()
    # The learner who scanned logs in and comes straight back.
    _log_in(owner_client, owner)
    assert "已扫描二维码" in owner_client.get(f"/checkin/{session.id}").get_data(as_text=True)
    assert _check_in(owner_client, session).status_code == 302
    assert _checked_in() == {owner.id}


def test_a_pass_made_before_logging_in_belongs_to_its_first_user_alone(app, room):  # type: ignore[no-untyped-def]
    session, (owner, friend) = room
    owner_client, friend_client = app.test_client(), app.test_client()
    assert _scan(owner_client, session).status_code == 302
    copy = _pass_of(owner_client)
    _log_in(owner_client, owner)
    assert _check_in(owner_client, session).status_code == 302
    assert owner_client.get_cookie(PASS_COOKIE, path="/checkin/") is None  # spent

    # Logging in after the scan does not help a copy: the pass was used.
    _log_in(friend_client, friend)
    _hand_over(copy, friend_client)
    assert _check_in(friend_client, session).status_code == 422
    assert _checked_in() == {owner.id}
    assert db.session.scalars(sa.select(CheckinPass.user_id)).all() == [owner.id]


def test_a_pass_is_used_once_even_by_its_owner(app, room):  # type: ignore[no-untyped-def]
    session, (owner, _friend) = room
    client = app.test_client()
    _log_in(client, owner)
    _scan(client, session)
    kept = _pass_of(client)
    assert _check_in(client, session).status_code == 302
    _hand_over(kept, client)
    out = client.post(f"/checkin/{session.id}", data={"action": "checkout"})
    assert out.status_code == 422
    db.session.expire_all()
    assert db.session.scalar(sa.select(AttendanceRecord.checked_out_at)) is None


def test_a_refused_check_in_leaves_the_pass_unspent(app, room):  # type: ignore[no-untyped-def]
    session, _learners = room
    stranger = make_user()  # not enrolled
    client = app.test_client()
    _log_in(client, stranger)
    _scan(client, session)
    assert _check_in(client, session).status_code == 403
    assert db.session.scalars(sa.select(CheckinPass)).all() == []


def test_an_old_pass_is_refused(app, room):  # type: ignore[no-untyped-def]
    session, (owner, _friend) = room
    client = app.test_client()
    _log_in(client, owner)
    with app.test_request_context():
        old = _pass_serializer().dumps(
            {
                "session_id": session.id,
                "seen_at": (_now() - timedelta(minutes=2, seconds=5)).isoformat(),
                "id": "a" * 32,
                "user_id": owner.id,
            }
        )
    _hand_over(old, client)
    assert "已扫描二维码" not in client.get(f"/checkin/{session.id}").get_data(as_text=True)
    assert _check_in(client, session).status_code == 422
    assert _checked_in() == set()
