"""iCalendar feeds: a public one per course, a private one per learner, and its token.

Every feed is parsed back with the ``icalendar`` package, as a calendar app would, and
its raw bytes are checked against RFC 5545's line rules.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import session
from flask_wtf.csrf import generate_csrf
from icalendar import Calendar

from courses.db import db
from courses.models import AuditLogEntry, EnrolmentStatus, PublicationStatus, SessionMode, User
from courses.services import calendar
from tests.conftest import make_app
from tests.factories import (
    DEFAULT_PASSWORD,
    make_course,
    make_enrolment,
    make_session,
    make_trainer,
    make_user,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: 23:30 in Shanghai is 15:30 UTC the same day: the classic off-by-a-day trap.
LATE_EVENING = datetime(2030, 5, 6, 15, 30, tzinfo=UTC)


def parse(body: bytes) -> Calendar:
    return Calendar.from_ical(body)


def events(body: bytes) -> list:
    return parse(body).walk("VEVENT")


def unescape_text(value: str) -> str:
    """RFC 5545 TEXT unescaping (section 3.3.11), as calendar apps apply it."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value)


def course_feed_url(course) -> str:  # type: ignore[no-untyped-def]
    return f"/calendar/course/{course.id}.ics"


def learner_feed_url(token: str) -> str:
    return f"/calendar/u/{token}.ics"


def assert_rfc5545_lines(body: bytes) -> None:
    """CRLF line ends, at most 75 octets a line, and no UTF-8 character cut in two."""
    assert body.endswith(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    for line in body.split(b"\r\n")[:-1]:
        assert len(line) <= 75, line
        line.decode("utf-8")  # a character split across a fold would not decode


# --- the course feed ----------------------------------------------------------------


def test_a_course_feed_is_a_calendar_of_its_sessions(app_ctx):
    course = make_course("社区心理健康服务", sessions=3)
    cal = parse(calendar.course_feed(course))

    assert str(cal["version"]) == "2.0"
    assert str(cal["calscale"]) == "GREGORIAN"
    assert str(cal["method"]) == "PUBLISH"
    assert str(cal["prodid"]) == calendar.PRODID
    assert str(cal["x-wr-calname"]) == "社区心理健康服务"
    assert str(cal["x-wr-timezone"]) == "Asia/Shanghai"
    found = cal.walk("VEVENT")
    assert len(found) == 3
    assert [e.decoded("dtstart") for e in found] == [s.starts_at for s in course.sessions]
    assert {str(e["summary"]) for e in found} == {"社区心理健康服务"}
    for event, meeting in zip(found, course.sessions, strict=True):
        assert str(event["uid"]) == f"session-{meeting.id}@academy"
        assert event.decoded("dtend") == meeting.ends_at
        assert "dtstamp" in event
        assert event.decoded("last-modified") == meeting.updated_at.replace(microsecond=0)
        assert int(event["sequence"]) > 0


def test_times_are_shanghai_wall_clock_with_a_matching_time_zone(app_ctx):
    course = make_course()
    make_session(course, starts_at=LATE_EVENING)
    body = calendar.course_feed(course)

    assert b"DTSTART;TZID=Asia/Shanghai:20300506T233000\r\n" in body
    assert b"DTEND;TZID=Asia/Shanghai:20300507T013000\r\n" in body
    (zone,) = parse(body).walk("VTIMEZONE")
    assert str(zone["tzid"]) == "Asia/Shanghai"
    (standard,) = zone.walk("STANDARD")
    assert standard.decoded("tzoffsetto") == timedelta(hours=8)
    assert standard.decoded("tzoffsetfrom") == timedelta(hours=8)
    assert zone.walk("DAYLIGHT") == []

    (event,) = parse(body).walk("VEVENT")
    start = event.decoded("dtstart")
    assert start.astimezone(SHANGHAI).replace(tzinfo=None) == datetime(2030, 5, 6, 23, 30)
    assert start.utcoffset() == timedelta(hours=8)
    assert start.astimezone(UTC) == LATE_EVENING


def test_an_offline_session_has_its_venue_room_and_address_as_location(app_ctx):
    course = make_course()
    make_session(
        course,
        title="第一讲",
        venue="桂城街道社会工作服务中心",
        room="三楼 301 室",
        address="南海区桂城街道南五路 8 号",
    )
    (event,) = events(calendar.course_feed(course))
    assert str(event["summary"]) == f"{course.title} · 第一讲"
    location = str(event["location"])
    for part in ("桂城街道社会工作服务中心", "三楼 301 室", "南海区桂城街道南五路 8 号"):
        assert part in location
    assert "url" not in event


def test_an_online_session_carries_its_meeting_link_and_number_in_the_learners_feed(app_ctx):
    course = make_course()
    make_session(
        course,
        mode=SessionMode.ONLINE,
        venue=None,
        meeting_url="https://meeting.example.org/j/123456789?pwd=a,b;c",
        meeting_number="123 456 789",
    )
    learner = make_user()
    make_enrolment(course, learner)
    (event,) = events(calendar.learner_feed(learner))
    assert str(event["url"]) == "https://meeting.example.org/j/123456789?pwd=a,b;c"
    assert "123 456 789" in str(event["location"])
    description = str(event["description"])
    assert "https://meeting.example.org/j/123456789?pwd=a,b;c" in description
    assert "123 456 789" in description


def test_the_public_course_feed_does_not_give_away_the_meeting(app_ctx):
    course = make_course()
    make_session(
        course,
        mode=SessionMode.ONLINE,
        venue=None,
        meeting_url="https://meeting.example.org/j/123456789",
        meeting_number="123 456 789",
    )
    body = calendar.course_feed(course)
    (event,) = events(body)
    assert "url" not in event
    assert b"123456789" not in body and b"123 456 789" not in body
    assert "线上" in str(event["location"]) or "Online" in str(event["location"])


def test_a_hybrid_session_has_both_the_venue_and_the_meeting(app_ctx):
    course = make_course()
    make_session(
        course,
        mode=SessionMode.HYBRID,
        venue="桂城街道党群服务中心",
        meeting_url="https://meeting.example.org/j/42",
        meeting_number="42",
    )
    learner = make_user()
    make_enrolment(course, learner)
    (event,) = events(calendar.learner_feed(learner))
    assert "桂城街道党群服务中心" in str(event["location"])
    assert "42" in str(event["location"])
    assert str(event["url"]) == "https://meeting.example.org/j/42"


def test_a_recorded_session_links_to_its_video(app_ctx):
    course = make_course()
    make_session(
        course, mode=SessionMode.RECORDED, venue=None, video_url="https://video.example.org/v/7"
    )
    (event,) = events(calendar.course_feed(course))
    assert str(event["url"]) == "https://video.example.org/v/7"
    assert "https://video.example.org/v/7" in str(event["description"])


def test_the_description_gives_the_class_hours(app_ctx):
    course = make_course()
    make_session(course, class_hours=2.5)
    (event,) = events(calendar.course_feed(course))
    assert "2.5" in str(event["description"])


def test_commas_semicolons_and_newlines_are_escaped_and_round_trip(app_ctx):
    title = "社工实务, 伦理; 督导\n第二期"
    course = make_course(title, summary="第一行\n第二行; 第三, 第四\\结束")
    make_session(course, room="A,1;B")
    body = calendar.course_feed(course)

    assert "SUMMARY:社工实务\\, 伦理\\; 督导\\n第二期".encode() in body
    (event,) = events(body)
    assert str(event["summary"]) == title
    assert "A,1;B" in str(event["location"])
    assert "第一行\n第二行; 第三, 第四\\结束" in str(event["description"])
    # The parser keeps X- properties as written; calendar apps read them as TEXT.
    assert "X-WR-CALNAME:社工实务\\, 伦理\\; 督导\\n第二期".encode() in body
    assert unescape_text(str(parse(body)["x-wr-calname"])) == title


def test_long_chinese_lines_are_folded_at_75_octets_without_splitting_characters(app_ctx):
    title = "城乡融合发展背景下的社区社会组织培育与社会工作专业人才队伍建设专题研修班"
    course = make_course(title[:120], summary="关爱桂城社工学院，" * 40)
    make_session(
        course,
        title="社区治理创新实践与案例分析（上午场）",
        address="佛山市南海区桂城街道" * 10,
        mode=SessionMode.HYBRID,
        meeting_url="https://meeting.example.org/j/" + "9" * 120,
        meeting_number="987 654 321",
    )
    learner = make_user()
    make_enrolment(course, learner)
    body = calendar.learner_feed(learner)
    assert_rfc5545_lines(body)
    assert b"\r\n " in body  # something was long enough to fold
    (event,) = events(body)
    assert str(event["summary"]).startswith(title)
    assert str(event["location"]).count("佛山市南海区桂城街道") == 10
    assert str(event["url"]).endswith("9" * 120)


def test_a_course_without_sessions_still_gives_a_valid_calendar(app_ctx):
    course = make_course()
    body = calendar.course_feed(course)
    assert_rfc5545_lines(body)
    assert events(body) == []


# --- the course feed over HTTP -------------------------------------------------------


def test_the_course_feed_is_public_and_served_as_a_calendar(app_ctx, client):
    course = make_course("Ethics 社会工作伦理", sessions=2)
    response = client.get(course_feed_url(course))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        f"inline; filename=\"Ethics.ics\"; filename*=UTF-8''{quote('Ethics 社会工作伦理.ics')}"
    )
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    assert "Set-Cookie" not in response.headers
    assert_rfc5545_lines(response.data)
    assert len(events(response.data)) == 2


def test_uids_are_stable_from_one_fetch_to_the_next(app_ctx, client):
    course = make_course(sessions=3)
    first = [str(e["uid"]) for e in events(client.get(course_feed_url(course)).data)]
    second = [str(e["uid"]) for e in events(client.get(course_feed_url(course)).data)]
    assert first == second
    assert len(set(first)) == 3


@pytest.mark.parametrize("status", [PublicationStatus.DRAFT, PublicationStatus.ARCHIVED])
def test_only_published_courses_have_a_public_feed(app_ctx, client, status):
    course = make_course(status=status, sessions=1)
    assert client.get(course_feed_url(course)).status_code == 404


def test_an_unknown_course_has_no_feed(app_ctx, client):
    assert client.get("/calendar/course/999999.ics").status_code == 404


# --- the learner feed ----------------------------------------------------------------


def test_the_learner_feed_holds_only_enrolled_and_completed_courses(app_ctx):
    learner = make_user("李小红")
    other = make_user()
    enrolled = make_course("已报名课程", sessions=2)
    completed = make_course("已结业课程", sessions=1, first_session_at=LATE_EVENING)
    archived = make_course("已归档课程", sessions=1, status=PublicationStatus.ARCHIVED)
    make_enrolment(enrolled, learner)
    make_enrolment(completed, learner, EnrolmentStatus.COMPLETED)
    make_enrolment(archived, learner, EnrolmentStatus.COMPLETED)
    for status in (
        EnrolmentStatus.CANCELLED,
        EnrolmentStatus.PENDING,
        EnrolmentStatus.REJECTED,
        EnrolmentStatus.INCOMPLETE,
    ):
        make_enrolment(make_course(f"{status}课程", sessions=1), learner, status)
    make_enrolment(
        make_course("候补课程", sessions=1),
        learner,
        EnrolmentStatus.WAITLISTED,
        waitlist_position=1,
    )
    make_enrolment(make_course("草稿课程", sessions=1, status=PublicationStatus.DRAFT), learner)
    make_enrolment(make_course("别人的课程", sessions=1), other)

    cal = parse(calendar.learner_feed(learner))
    found = cal.walk("VEVENT")
    assert sorted(str(e["summary"]) for e in found) == sorted(
        ["已报名课程", "已报名课程", "已结业课程", "已归档课程"]
    )
    starts = [e.decoded("dtstart") for e in found]
    assert starts == sorted(starts)
    assert "李小红" in str(cal["x-wr-calname"])


def test_the_learner_feed_is_reached_by_its_token_without_logging_in(app_ctx, client):
    learner = make_user()
    course = make_course(sessions=1, first_session_at=LATE_EVENING)
    make_enrolment(course, learner)
    token = calendar.issue_calendar_token(learner)
    db.session.commit()

    response = client.get(learner_feed_url(token))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Set-Cookie" not in response.headers
    assert_rfc5545_lines(response.data)
    (event,) = events(response.data)
    assert event.decoded("dtstart").astimezone(UTC) == LATE_EVENING
    assert str(event["uid"]) == f"session-{course.sessions[0].id}@academy"


# --- the token -----------------------------------------------------------------------


def test_a_token_is_long_random_and_url_safe(app_ctx):
    learner = make_user()
    token = calendar.issue_calendar_token(learner)
    db.session.commit()
    assert len(token) == 43
    assert calendar.user_by_calendar_token(token) == learner
    assert token != calendar.issue_calendar_token(make_user())


def test_rotating_the_token_retires_the_old_url(app_ctx, client):
    learner = make_user()
    old = calendar.issue_calendar_token(learner)
    db.session.commit()
    new = calendar.issue_calendar_token(learner)
    db.session.commit()

    assert new != old
    assert client.get(learner_feed_url(old)).status_code == 404
    assert client.get(learner_feed_url(new)).status_code == 200


def test_a_revoked_token_opens_nothing(app_ctx, client):
    learner = make_user()
    token = calendar.issue_calendar_token(learner)
    db.session.commit()
    calendar.revoke_calendar_token(learner)
    db.session.commit()

    assert learner.calendar_token is None
    assert client.get(learner_feed_url(token)).status_code == 404


@pytest.mark.parametrize(
    "token", ["", "short", "x" * 43 + "y", "bad token with spaces and more than 43 chars!!"]
)
def test_malformed_tokens_are_refused_without_a_lookup(app_ctx, token):
    assert calendar.user_by_calendar_token(token) is None


def test_unknown_tokens_give_404(app_ctx, client):
    make_user()
    assert client.get(learner_feed_url("A" * 43)).status_code == 404
    assert client.get(learner_feed_url("nope")).status_code == 404


def test_a_deactivated_learner_s_feed_is_gone(app_ctx, client):
    learner = make_user()
    token = calendar.issue_calendar_token(learner)
    learner.is_active = False
    db.session.commit()
    assert client.get(learner_feed_url(token)).status_code == 404


def test_issuing_and_revoking_are_audited(app_ctx):
    learner = make_user()
    calendar.issue_calendar_token(learner)
    calendar.issue_calendar_token(learner)
    calendar.revoke_calendar_token(learner)
    db.session.commit()
    entries = db.session.scalars(
        sa.select(AuditLogEntry)
        .where(AuditLogEntry.object_id == learner.id)
        .where(AuditLogEntry.action.like("%calendar_token"))
        .order_by(AuditLogEntry.id)
    ).all()
    assert [(e.action, e.data) for e in entries] == [
        ("user.issue_calendar_token", {"rotated": False}),
        ("user.issue_calendar_token", {"rotated": True}),
        ("user.revoke_calendar_token", {}),
    ]
    assert all(e.actor_id == learner.id for e in entries)


# --- the profile's calendar card -----------------------------------------------------


def test_creating_a_link_from_the_profile_shows_it_there(app_ctx, login_as):
    learner = make_user()
    client = login_as(learner)
    page = client.get("/profile").get_data(as_text=True)
    assert 'action="/calendar/token"' in page
    assert "/calendar/u/" not in page

    response = client.post("/calendar/token")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/profile")
    token = db.session.get(User, learner.id).calendar_token
    assert token

    page = client.get("/profile").get_data(as_text=True)
    assert f"http://localhost/calendar/u/{token}.ics" in page
    assert f"webcal://localhost/calendar/u/{token}.ics" in page
    assert 'action="/calendar/token/revoke"' in page
    assert client.get(learner_feed_url(token)).status_code == 200


def test_making_a_new_link_and_switching_it_off_from_the_profile(app_ctx, login_as, client):
    learner = make_user()
    login_as(learner)
    client.post("/calendar/token")
    first = db.session.scalar(sa.select(User.calendar_token).where(User.id == learner.id))
    client.post("/calendar/token")
    second = db.session.scalar(sa.select(User.calendar_token).where(User.id == learner.id))
    assert first != second
    assert client.get(learner_feed_url(first)).status_code == 404

    response = client.post("/calendar/token/revoke")
    assert response.status_code == 302
    assert db.session.scalar(sa.select(User.calendar_token).where(User.id == learner.id)) is None
    assert client.get(learner_feed_url(second)).status_code == 404
    assert "/calendar/u/" not in client.get("/profile").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/calendar/token", "/calendar/token/revoke"])
def test_managing_the_link_needs_a_login(app_ctx, client, path):
    response = client.post(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.fixture
def csrf_app(app):  # type: ignore[no-untyped-def]
    """A second app on the same database, with CSRF protection on as in production."""
    application = make_app(WTF_CSRF_ENABLED=True)
    yield application
    with application.app_context():
        db.engine.dispose()


def csrf_token(app, client) -> str:  # type: ignore[no-untyped-def]
    """A valid CSRF token for ``client``'s session, as a rendered form would carry."""
    with app.test_request_context():
        token = generate_csrf()
        raw = session["csrf_token"]
    with client.session_transaction() as client_session:
        client_session["csrf_token"] = raw
    return token


def test_feeds_need_no_csrf_token_but_the_link_forms_do(app_ctx, csrf_app):
    learner = make_user()
    course = make_course(sessions=1)
    make_enrolment(course, learner)
    client = csrf_app.test_client()
    response = client.post(
        "/login",
        data={
            "login": learner.email,
            "password": DEFAULT_PASSWORD,
            "csrf_token": csrf_token(csrf_app, client),
        },
    )
    assert response.status_code == 302

    assert client.post("/calendar/token").status_code == 400
    assert client.post("/calendar/token/revoke").status_code == 400
    assert db.session.scalar(sa.select(User.calendar_token).where(User.id == learner.id)) is None
    response = client.post("/calendar/token", data={"csrf_token": csrf_token(csrf_app, client)})
    assert response.status_code == 302
    db.session.rollback()  # the other app wrote it: read past this session's snapshot
    token = db.session.scalar(sa.select(User.calendar_token).where(User.id == learner.id))
    assert token

    anonymous = csrf_app.test_client()
    assert anonymous.get(course_feed_url(course)).status_code == 200
    assert anonymous.get(learner_feed_url(token)).status_code == 200


def test_a_trainer_without_enrolments_gets_an_empty_but_valid_feed(app_ctx, client):
    trainer = make_trainer()
    make_course(trainers=[trainer], sessions=2)
    token = calendar.issue_calendar_token(trainer)
    db.session.commit()
    response = client.get(learner_feed_url(token))
    assert response.status_code == 200
    assert events(response.data) == []
