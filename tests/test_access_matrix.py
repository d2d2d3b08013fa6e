"""Who may call what: every route and method of the URL map, called by every kind of user.

``EXPECTED`` is written out by hand, one line per (rule, method): a route added without
a line here fails ``test_the_table_covers_every_route``, and a declaration that differs
from its line (a route quietly opened to more people) fails
``test_each_route_declares_what_the_table_says``. Each (rule, method) is then called by
an anonymous visitor, a learner enrolled in the course, another trainer, the course's
trainer and an admin, with an empty and a malformed body for writes:

* refused callers get exactly 401 (API) or the login page (pages), 403 for the wrong
  role or someone else's course, whatever the body holds, and nothing changes;
* allowed callers get past the door (neither 401 nor 403) and never a 500;
* an unknown id of a managed object is 404 even with a malformed body.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from academy.access import FRAMEWORK_ENDPOINTS, declared
from courses.db import db
from courses.models import (
    AttendanceImport,
    Certificate,
    CertificateKind,
    Course,
    Enrolment,
    ExternalHoursRecord,
    OutboxEvent,
    OutboxStatus,
    User,
)
from courses.services import calendar, materials
from courses.services import tokens as api_tokens
from courses.services.attendance import checkin
from courses.services.certificates.serials import next_serial
from courses.storage import get_storage
from tests.factories import (
    DEFAULT_PASSWORD,
    bearer,
    make_admin,
    make_course,
    make_enrolment,
    make_organisation,
    make_programme,
    make_session,
    make_trainer,
    make_user,
)
from tests.test_materials import pdf_bytes

# public: anyone · user: logged in · staff: trainers and admins · admin: admins only ·
# staff:<object>: the trainers who manage that object (its course's trainers) and admins.
EXPECTED: dict[tuple[str, str], str] = {
    ("/", "GET"): "public",
    ("/admin/certificates", "GET"): "admin",
    ("/admin/certificates/<serial>", "GET"): "admin",
    ("/admin/certificates/<serial>/reissue", "POST"): "admin",
    ("/admin/certificates/<serial>/revoke", "POST"): "admin",
    ("/admin/certificates/settings", "GET"): "admin",
    ("/admin/certificates/settings", "POST"): "admin",
    ("/admin/organisations", "GET"): "admin",
    ("/admin/organisations", "POST"): "admin",
    ("/admin/organisations/<int:organisation_id>", "GET"): "admin",
    ("/admin/organisations/<int:organisation_id>", "POST"): "admin",
    ("/admin/outbox", "GET"): "admin",
    ("/admin/outbox/<int:event_id>/retry", "POST"): "admin",
    ("/admin/requirements", "GET"): "admin",
    ("/admin/requirements", "POST"): "admin",
    ("/admin/users", "GET"): "admin",
    ("/admin/users/<int:user_id>", "GET"): "admin",
    ("/admin/users/<int:user_id>", "POST"): "admin",
    ("/admin/users/<int:user_id>/active", "POST"): "admin",
    ("/admin/users/<int:user_id>/external-hours", "POST"): "admin",
    ("/admin/users/<int:user_id>/external-hours/delete", "POST"): "admin",
    ("/admin/users/new", "GET"): "admin",
    ("/admin/users/new", "POST"): "admin",
    ("/api/v1/attendance-reports/<int:import_id>", "GET"): "staff:import",
    ("/api/v1/attendance-reports/<int:import_id>/apply", "POST"): "staff:import",
    ("/api/v1/certificates/<serial>", "GET"): "public",
    ("/api/v1/certificates/<serial>/pdf", "GET"): "user",
    ("/api/v1/certificates/<serial>/reissue", "POST"): "admin",
    ("/api/v1/certificates/<serial>/revoke", "POST"): "admin",
    ("/api/v1/checkin", "POST"): "user",
    ("/api/v1/courses", "GET"): "public",
    ("/api/v1/courses", "POST"): "staff",
    ("/api/v1/courses/<int:course_id>", "GET"): "public",
    ("/api/v1/courses/<int:course_id>", "PATCH"): "staff:course",
    ("/api/v1/courses/<int:course_id>/clone", "POST"): "staff:course",
    ("/api/v1/courses/<int:course_id>/certificates", "GET"): "staff:course",
    ("/api/v1/courses/<int:course_id>/enrolments", "GET"): "staff:course",
    ("/api/v1/courses/<int:course_id>/enrolments", "POST"): "user",
    ("/api/v1/courses/<int:course_id>/feedback", "GET"): "staff:course",
    ("/api/v1/courses/<int:course_id>/feedback", "POST"): "user",
    ("/api/v1/courses/<int:course_id>/materials", "GET"): "public",
    ("/api/v1/courses/<int:course_id>/materials", "POST"): "staff:course",
    ("/api/v1/courses/<int:course_id>/sessions", "POST"): "staff:course",
    ("/api/v1/enrolments/<int:enrolment_id>", "DELETE"): "user",
    ("/api/v1/enrolments/<int:enrolment_id>/approve", "POST"): "staff:enrolment",
    ("/api/v1/enrolments/<int:enrolment_id>/promote", "POST"): "staff:enrolment",
    ("/api/v1/enrolments/<int:enrolment_id>/reject", "POST"): "staff:enrolment",
    ("/api/v1/external-hours/<int:record_id>", "DELETE"): "admin",
    ("/api/v1/feedback/trainers", "GET"): "staff",
    ("/api/v1/materials/<int:material_id>", "DELETE"): "staff:material",
    ("/api/v1/materials/<int:material_id>", "GET"): "user",
    ("/api/v1/me", "GET"): "user",
    ("/api/v1/me/certificates", "GET"): "user",
    ("/api/v1/me/enrolments", "GET"): "user",
    ("/api/v1/me/hours", "GET"): "user",
    ("/api/v1/me/transcripts", "POST"): "user",
    ("/api/v1/organisations", "GET"): "public",
    ("/api/v1/organisations", "POST"): "admin",
    ("/api/v1/programmes", "GET"): "public",
    ("/api/v1/programmes", "POST"): "staff",
    ("/api/v1/programmes/<int:programme_id>", "PATCH"): "staff:programme",
    ("/api/v1/programmes/<int:programme_id>/clone", "POST"): "staff:programme",
    ("/api/v1/qualification-requirements", "GET"): "user",
    ("/api/v1/qualification-requirements/<level>", "PUT"): "admin",
    ("/api/v1/sessions/<int:session_id>", "DELETE"): "staff:session",
    ("/api/v1/sessions/<int:session_id>", "PATCH"): "staff:session",
    ("/api/v1/sessions/<int:session_id>/attendance", "GET"): "staff:session",
    ("/api/v1/sessions/<int:session_id>/attendance", "POST"): "staff:session",
    ("/api/v1/sessions/<int:session_id>/attendance-reports", "POST"): "staff:session",
    ("/api/v1/sessions/<int:session_id>/attendance/<int:user_id>", "DELETE"): "staff:session",
    ("/api/v1/sessions/<int:session_id>/checkin-token", "GET"): "staff:session",
    ("/api/v1/sessions/<int:session_id>/checkin-window", "DELETE"): "staff:session",
    ("/api/v1/sessions/<int:session_id>/checkin-window", "POST"): "staff:session",
    ("/api/v1/sessions/<int:session_id>/heartbeat", "POST"): "user",
    ("/api/v1/sessions/<int:session_id>/join", "POST"): "user",
    ("/api/v1/sessions/<int:session_id>/video-progress", "POST"): "user",
    ("/api/v1/stats", "GET"): "staff",
    ("/api/v1/tokens", "POST"): "public",
    ("/api/v1/tokens/current", "DELETE"): "user",
    ("/api/v1/users", "GET"): "admin",
    ("/api/v1/users", "POST"): "admin",
    ("/api/v1/users/<int:user_id>/external-hours", "GET"): "admin",
    ("/api/v1/users/<int:user_id>/external-hours", "POST"): "admin",
    ("/calendar/course/<int:course_id>.ics", "GET"): "public",
    ("/calendar/token", "POST"): "user",
    ("/calendar/token/revoke", "POST"): "user",
    ("/calendar/u/<token>.ics", "GET"): "public",
    ("/certificates/<serial>.pdf", "GET"): "user",
    ("/checkin", "GET"): "user",
    ("/checkin/<int:session_id>", "GET"): "public",
    ("/checkin/<int:session_id>", "POST"): "public",
    ("/courses", "GET"): "public",
    ("/courses/<int:course_id>", "GET"): "public",
    ("/courses/<int:course_id>/certificates.pdf", "GET"): "staff:course",
    ("/courses/<int:course_id>/enrol", "POST"): "user",
    ("/courses/<int:course_id>/feedback", "GET"): "user",
    ("/courses/<int:course_id>/feedback", "POST"): "user",
    ("/courses/<int:course_id>/materials", "GET"): "public",
    ("/courses/<int:course_id>/materials", "POST"): "staff:course",
    ("/enrolments/<int:enrolment_id>/cancel", "POST"): "user",
    ("/healthz", "GET"): "public",
    ("/login", "GET"): "public",
    ("/login", "POST"): "public",
    ("/logout", "POST"): "user",
    ("/manage/", "GET"): "staff",
    ("/manage/courses/<int:course_id>", "GET"): "staff:course",
    ("/manage/courses/<int:course_id>", "POST"): "staff:course",
    ("/manage/courses/<int:course_id>/clone", "POST"): "staff:course",
    ("/manage/courses/<int:course_id>/enrolments", "GET"): "staff:course",
    ("/manage/courses/<int:course_id>/enrolments", "POST"): "staff:course",
    ("/manage/courses/<int:course_id>/enrolments.<any(xlsx, csv):kind>", "GET"): "staff:course",
    ("/manage/courses/<int:course_id>/feedback", "GET"): "staff:course",
    ("/manage/courses/<int:course_id>/sessions", "GET"): "staff:course",
    ("/manage/courses/<int:course_id>/sessions", "POST"): "staff:course",
    ("/manage/courses/<int:course_id>/status", "POST"): "staff:course",
    ("/manage/courses/new", "GET"): "staff",
    ("/manage/courses/new", "POST"): "staff",
    ("/manage/choices/<any(trainers, courses, programmes):kind>", "GET"): "staff",
    ("/manage/enrolments/<int:enrolment_id>/<action>", "POST"): "staff:enrolment",
    ("/manage/feedback", "GET"): "staff",
    ("/manage/programmes", "GET"): "staff",
    ("/manage/programmes", "POST"): "staff",
    ("/manage/programmes/<int:programme_id>", "GET"): "staff:programme",
    ("/manage/programmes/<int:programme_id>", "POST"): "staff:programme",
    ("/manage/programmes/<int:programme_id>/clone", "POST"): "staff:programme",
    ("/manage/programmes/<int:programme_id>/status", "POST"): "staff:programme",
    ("/manage/reports/<int:import_id>", "GET"): "staff:import",
    ("/manage/reports/<int:import_id>/apply", "POST"): "staff:import",
    ("/manage/sessions/<int:session_id>", "GET"): "staff:session",
    ("/manage/sessions/<int:session_id>", "POST"): "staff:session",
    ("/manage/sessions/<int:session_id>/attendance", "GET"): "staff:session",
    ("/manage/sessions/<int:session_id>/attendance", "POST"): "staff:session",
    ("/manage/sessions/<int:session_id>/attendance/<int:user_id>/unmark", "POST"): "staff:session",
    ("/manage/sessions/<int:session_id>/checkin", "GET"): "staff:session",
    ("/manage/sessions/<int:session_id>/checkin/close", "POST"): "staff:session",
    ("/manage/sessions/<int:session_id>/checkin/open", "POST"): "staff:session",
    ("/manage/sessions/<int:session_id>/checkin/token.json", "GET"): "staff:session",
    ("/manage/sessions/<int:session_id>/delete", "POST"): "staff:session",
    ("/manage/sessions/<int:session_id>/reports", "GET"): "staff:session",
    ("/manage/sessions/<int:session_id>/reports", "POST"): "staff:session",
    ("/materials/<int:material_id>", "GET"): "user",
    ("/materials/<int:material_id>/delete", "POST"): "staff:material",
    ("/me/courses", "GET"): "user",
    ("/me/certificates", "GET"): "user",
    ("/me/certificates/transcript", "POST"): "user",
    ("/me/hours", "GET"): "user",
    ("/me/notices/read", "POST"): "user",
    ("/profile", "GET"): "user",
    ("/profile", "POST"): "user",
    ("/profile/password", "GET"): "user",
    ("/profile/password", "POST"): "user",
    ("/programmes", "GET"): "public",
    ("/programmes/<int:programme_id>", "GET"): "public",
    ("/register", "GET"): "public",
    ("/register", "POST"): "public",
    ("/sessions/<int:session_id>", "GET"): "user",
    ("/sessions/<int:session_id>/heartbeat", "POST"): "user",
    ("/sessions/<int:session_id>/join", "POST"): "user",
    ("/sessions/<int:session_id>/video-progress", "POST"): "user",
    ("/verify", "GET"): "public",
    ("/verify/<serial>", "GET"): "public",
}

#: Past the door, the service still refuses these callers, by a rule of the domain.
SERVICE_REFUSES = {
    # Only the course's learners give feedback; its trainers read it on their own page.
    ("/courses/<int:course_id>/feedback", "GET"): {"other_trainer", "trainer", "admin"},
    ("/courses/<int:course_id>/feedback", "POST"): {"other_trainer", "trainer", "admin"},
    # Materials are for the course's learners, its trainers and admins.
    ("/materials/<int:material_id>", "GET"): {"other_trainer"},
    ("/api/v1/materials/<int:material_id>", "GET"): {"other_trainer"},
    # A certificate's PDF is for its holder, its course's trainers and admins.
    ("/certificates/<serial>.pdf", "GET"): {"other_trainer"},
    ("/api/v1/certificates/<serial>/pdf", "GET"): {"other_trainer"},
}
#: The check-in page opened from the QR code by a visitor who is not logged in remembers
#: the scan and sends them to log in, then back.
LOGS_IN_FIRST = {("/checkin/<int:session_id>", "GET"), ("/checkin/<int:session_id>", "POST")}

ACTORS = ("anonymous", "learner", "other_trainer", "trainer", "admin")
STAFF = ("other_trainer", "trainer", "admin")
ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
UNKNOWN_ID = 987_654
#: Values of the arguments that are not ids of the world's rows.
WORDS = {"level": "social_worker", "action": "approve", "kind": "csv"}
#: Where a word differs between routes: the courses picker of the course form.
ROUTE_WORDS = {"/manage/choices/<any(trainers, courses, programmes):kind>": {"kind": "courses"}}


def url_map_pairs(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in FRAMEWORK_ENDPOINTS
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def may_call(expected: str, actor: str) -> bool:
    audience = expected.partition(":")[0]
    if audience == "public":
        return True
    if actor == "anonymous":
        return False
    if audience == "user":
        return True
    if audience == "admin":
        return actor == "admin"
    if ":" in expected:  # an object the actor must manage
        return actor in ("trainer", "admin")
    return actor in STAFF


def test_the_table_covers_every_route(app):
    routes = url_map_pairs(app)
    assert sorted(routes - set(EXPECTED)) == [], "routes missing from EXPECTED"
    assert sorted(set(EXPECTED) - routes) == [], "EXPECTED lists routes that do not exist"


def test_each_route_declares_what_the_table_says(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in FRAMEWORK_ENDPOINTS:
            continue
        access = declared(app.view_functions[rule.endpoint])
        assert access is not None, rule.rule
        stated = access.audience.value + (f":{access.owns}" if access.owns else "")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert stated == EXPECTED[(rule.rule, method)], (rule.rule, method)


# --- the world every call runs in -----------------------------------------------------------


@dataclass
class World:
    users: dict[str, User]
    ids: dict[str, int | str]
    tokens: dict[str, list[str]]  # one per call, made before anything is counted


def build_world(rule: str, actors: tuple[str, ...], per_actor: int = 1) -> World:
    """The rows every URL names, and ``per_actor`` API tokens for ``actors`` when ``rule``
    is the API's (made beforehand, so that counting rows sees only what the calls did)."""
    organisation = make_organisation()
    trainer, other_trainer, admin = make_trainer(), make_trainer(), make_admin()
    learner = make_user(organisation=organisation)
    course = make_course(trainers=[trainer])
    started = datetime.now(UTC) - timedelta(days=1)
    session = make_session(course, starts_at=started)
    enrolment = make_enrolment(course, learner)
    programme = make_programme(created_by_id=trainer.id)
    material = materials.upload(trainer, course, io.BytesIO(pdf_bytes()), "讲义.pdf")
    report = AttendanceImport(
        session_id=session.id,
        uploaded_by_id=trainer.id,
        filename="参会明细.csv",
        digest="0" * 64,
        layout="generic",
        rows=[],
    )
    record = ExternalHoursRecord(
        user_id=learner.id, title="外部培训", hours=2, earned_on=date(2026, 5, 1)
    )
    db.session.add_all([report, record])
    now = datetime.now(UTC)
    checkin.open_checkin(trainer, session, now - timedelta(minutes=5), now + timedelta(hours=1))
    calendar.issue_calendar_token(learner)
    certificate = _drawn_certificate(enrolment)
    dead = OutboxEvent(topic="notification.email", payload={}, status=OutboxStatus.DEAD)
    db.session.add(dead)
    db.session.commit()
    users = {
        "learner": learner,
        "other_trainer": other_trainer,
        "trainer": trainer,
        "admin": admin,
    }
    ids = {
        "course_id": course.id,
        "session_id": session.id,
        "enrolment_id": enrolment.id,
        "programme_id": programme.id,
        "material_id": material.id,
        "import_id": report.id,
        "record_id": record.id,
        "organisation_id": organisation.id,
        "user_id": learner.id,
        "calendar_token": learner.calendar_token,
        "serial": certificate.serial,
        "event_id": dead.id,
    }
    tokens: dict[str, list[str]] = {}
    if rule.startswith("/api/"):
        for actor in set(actors) - {"anonymous"}:
            tokens[actor] = [api_tokens.issue(users[actor])[0] for _ in range(per_actor)]
        db.session.commit()
    return World(users, ids, tokens)


def _drawn_certificate(enrolment: Enrolment) -> Certificate:
    """A valid course certificate of the enrolment whose PDF is stored."""
    serial = next_serial(2026)
    certificate = Certificate(
        serial=str(serial),
        sequence=serial.sequence,
        kind=CertificateKind.COURSE,
        user_id=enrolment.user_id,
        enrolment_id=enrolment.id,
        course_id=enrolment.course_id,
        holder_name="周小健",
        title="社区营造实务",
        class_hours=4,
        facts={"title": "结业证书", "course_title": "社区营造实务", "class_hours": "4"},
        pdf_key=f"certificates/{serial}.pdf",
    )
    get_storage().save(io.BytesIO(pdf_bytes()), certificate.pdf_key)
    db.session.add(certificate)
    db.session.flush()
    return certificate


def url_for_rule(rule: str, ids: dict[str, int | str]) -> str:
    words = dict(WORDS, token=ids.get("calendar_token", "unknown"), **ROUTE_WORDS.get(rule, {}))

    def value(match: re.Match[str]) -> str:
        name = match.group(2)
        return str(ids[name]) if name in ids else words[name]

    return ARGUMENT.sub(value, rule)


def call(
    app: Flask, world: World, actor: str, method: str, url: str, body: str
) -> tuple[FlaskClient, object]:
    client = app.test_client()
    headers: dict[str, str] = {}
    is_api = url.startswith("/api/")
    if actor != "anonymous":
        if is_api:  # a call may revoke the token it came with: each uses its own
            mine = world.tokens[actor]
            headers = bearer(mine.pop() if len(mine) > 1 else mine[0])
        else:
            user = world.users[actor]
            logged_in = client.post(
                "/login", data={"login": user.email, "password": DEFAULT_PASSWORD}
            )
            assert logged_in.status_code == 302
    kwargs: dict[str, object] = {"headers": headers}
    if method != "GET":
        if is_api:
            kwargs["data"] = "{}" if body == "empty" else '{"name": [1, {"x": '
            kwargs["content_type"] = "application/json"
        else:
            kwargs["data"] = {} if body == "empty" else "%zz=&=%%&capacity=\x00abc"
            if body != "empty":
                kwargs["content_type"] = "application/x-www-form-urlencoded"
    response = client.open(url, method=method, **kwargs)
    response.close()  # a file download holds its file open until closed
    return client, response


def row_counts() -> tuple[int, ...]:
    """The number of rows of every table, in one statement."""
    counts = [
        sa.select(sa.func.count()).select_from(table).scalar_subquery()
        for table in db.metadata.sorted_tables
    ]
    return tuple(db.session.execute(sa.select(*counts)).one())


def assert_refused(actor: str, url: str, response) -> None:  # type: ignore[no-untyped-def]
    where = (actor, response.request.method, url, response.status_code)
    if actor == "anonymous":
        if url.startswith("/api/"):
            assert response.status_code == 401, where
            assert response.get_json()["error"]["code"] == "unauthorized", where
        else:
            assert response.status_code == 302, where
            assert response.headers["Location"].startswith("/login?next="), where
    else:
        assert response.status_code == 403, where


def assert_allowed(actor: str, url: str, response) -> None:  # type: ignore[no-untyped-def]
    where = (actor, response.request.method, url, response.status_code)
    assert response.status_code < 500, where
    assert response.status_code not in (401, 403), where
    assert not response.headers.get("Location", "").startswith("/login?next="), where


def bodies(method: str) -> tuple[str, ...]:
    return ("none",) if method == "GET" else ("malformed", "empty")


CASES = sorted(EXPECTED)


def check_allowed(rule: str, method: str, actor: str, body: str, response) -> None:  # type: ignore[no-untyped-def]
    url = response.request.path
    where = (actor, method, url, body, response.status_code)
    if body == "malformed" and response.status_code == 400:
        # Past the door, a body that is not text is refused before any rule runs.
        assert response.get_json() is None or "error" in response.get_json(), where
    elif actor in SERVICE_REFUSES.get((rule, method), ()):
        assert response.status_code == 403, where
    elif actor == "anonymous" and (rule, method) in LOGS_IN_FIRST:
        assert_refused(actor, url, response)
    else:
        assert_allowed(actor, url, response)
        if method == "GET":  # every row the URL names exists: the page is there
            assert response.status_code in (200, 302), where


def owned_object_key(expected: str) -> str | None:
    owns = expected.partition(":")[2]
    return f"{owns}_id" if owns else None


def test_refused_callers_get_401_403_or_404_whatever_the_body_and_nothing_changes(app, app_ctx):
    """One world for every route: a refused call changes nothing, so none disturbs the next;
    every problem is collected and reported together."""
    world = build_world("/api/", ACTORS)
    problems: list[str] = []
    for rule, method in CASES:
        expected = EXPECTED[(rule, method)]
        url = url_for_rule(rule, world.ids)
        key = owned_object_key(expected)
        before = row_counts()
        calls = [
            (actor, url, body)
            for actor in ACTORS
            if not may_call(expected, actor)
            for body in bodies(method)
        ]
        if key:  # an unknown id of what the route manages, with a malformed body
            unknown = url_for_rule(rule, dict(world.ids, **{key: UNKNOWN_ID}))
            calls += [(actor, unknown, bodies(method)[0]) for actor in ("trainer", "admin")]
        for actor, target, body in calls:
            _client, response = call(app, world, actor, method, target, body)
            try:
                if target == url:
                    assert_refused(actor, target, response)
                else:
                    assert response.status_code == 404, (
                        actor,
                        method,
                        target,
                        response.status_code,
                    )
            except AssertionError as error:
                problems.append(str(error))
        db.session.expire_all()
        if row_counts() != before:
            problems.append(f"{method} {url}: a refused call changed the database")
    assert problems == []


def test_every_page_and_api_get_opens_for_those_allowed(app, app_ctx):
    """GETs change nothing: one world for all of them."""
    world = build_world("/api/", ACTORS)
    problems: list[str] = []
    for rule, method in CASES:
        if method != "GET":
            continue
        url = url_for_rule(rule, world.ids)
        for actor in ACTORS:
            if may_call(EXPECTED[(rule, method)], actor):
                _client, response = call(app, world, actor, method, url, "none")
                try:
                    check_allowed(rule, method, actor, "none", response)
                except AssertionError as error:
                    problems.append(str(error))
    assert problems == []


WRITES = [
    (rule, method, actor)
    for rule, method in CASES
    if method != "GET"
    for actor in ACTORS
    if may_call(EXPECTED[(rule, method)], actor)
]


@pytest.mark.parametrize(
    ("rule", "method", "actor"), WRITES, ids=[f"{m} {r} {a}" for r, m, a in WRITES]
)
def test_allowed_callers_of_a_write_get_past_the_door_and_never_a_500(
    app, app_ctx, rule, method, actor
):
    """A write may change the world (delete the session, revoke the token): each caller
    gets a world of its own."""
    world = build_world(rule, (actor,), per_actor=len(bodies(method)))
    url = url_for_rule(rule, world.ids)
    for body in bodies(method):
        _client, response = call(app, world, actor, method, url, body)
        check_allowed(rule, method, actor, body, response)


def test_the_body_is_not_read_before_the_caller_is_authorised(app, app_ctx, client):
    """The three calls reported: each answered 422 (the schema's) instead of 401/403."""
    world = build_world("/api/", ("learner", "other_trainer"))
    course_id = world.ids["course_id"]
    anonymous = client.post("/api/v1/users", json={"name": 1})
    assert anonymous.status_code == 401
    learner = client.post(
        "/api/v1/courses", json={"title": "x"}, headers=bearer(world.tokens["learner"][0])
    )
    assert learner.status_code == 403
    assert learner.get_json()["error"]["code"] == "forbidden"
    other = client.patch(
        f"/api/v1/courses/{course_id}",
        json={"capacity": "abc"},
        headers=bearer(world.tokens["other_trainer"][0]),
    )
    assert other.status_code == 403
    assert db.session.get(Course, course_id).capacity == 30
