"""Security across the site: headers, cookies, CSRF, and a database that cannot be
reached (SPEC §4 Access, §6 rules 7 and 9). Who may call what: test_access_matrix.py."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import session
from flask_wtf.csrf import generate_csrf

from academy.access import PUBLIC, allow
from academy.security import CONTENT_SECURITY_POLICY
from courses.db import db
from courses.models import User
from tests.conftest import make_app
from tests.factories import (
    DEFAULT_PASSWORD,
    bearer,
    make_admin,
    make_user,
)


def log_in(client, user: User):  # type: ignore[no-untyped-def]
    response = client.post("/login", data={"login": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    return client


def is_logged_in(client) -> bool:  # type: ignore[no-untyped-def]
    return client.get("/login").status_code == 302


# --- security headers and cookies -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/"),
        ("GET", "/login"),
        ("GET", "/no-such-page"),
        ("GET", "/api/v1/organisations"),
        ("GET", "/api/v1/me"),
        ("POST", "/api/v1/tokens"),
    ],
)
def test_security_headers_are_on_pages_and_api_answers(client, method, url):
    response = client.open(url, method=method, json={} if method == "POST" else None)
    headers = response.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"


def test_the_openapi_document_is_served_without_a_page_policy_but_with_nosniff(client):
    response = client.get("/api/v1/openapi.json")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_header_a_view_sets_itself_is_kept(app):
    own = make_app()

    @own.get("/own-headers")
    @allow(PUBLIC)
    def own_headers():  # type: ignore[no-untyped-def]
        return "x", 200, {"Cache-Control": "private, max-age=60", "x-frame-options": "SAMEORIGIN"}

    try:
        headers = own.test_client().get("/own-headers").headers
        assert headers.getlist("Cache-Control") == ["private, max-age=60"]
        assert headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    finally:
        with own.app_context():
            db.engine.dispose()


def test_strict_transport_security_comes_with_secure_cookies(app):
    secure = make_app(SESSION_COOKIE_SECURE=True)
    try:
        assert "max-age=" in secure.test_client().get("/login").headers["Strict-Transport-Security"]
        assert "Strict-Transport-Security" not in app.test_client().get("/login").headers
    finally:
        with secure.app_context():
            db.engine.dispose()


def test_session_and_remember_cookies_are_httponly_and_samesite_lax(app_ctx, client):
    user = make_user()
    response = client.post(
        "/login", data={"login": user.email, "password": DEFAULT_PASSWORD, "remember": "y"}
    )
    cookies = {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}
    for name in ("session", "remember_token"):
        assert "HttpOnly" in cookies[name], name
        assert "SameSite=Lax" in cookies[name], name


def test_production_cookies_are_secure(app):
    secure = make_app(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    try:
        with secure.app_context():
            login = make_user().email
        response = secure.test_client().post(
            "/login", data={"login": login, "password": DEFAULT_PASSWORD, "remember": "y"}
        )
        assert response.status_code == 302
        for header in response.headers.getlist("Set-Cookie"):
            assert "Secure" in header, header
    finally:
        with secure.app_context():
            db.engine.dispose()


# --- CSRF -----------------------------------------------------------------------------------------


@pytest.fixture
def csrf_app(app):
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


def test_login_without_a_csrf_token_is_refused(app_ctx, csrf_app):
    user = make_user()
    client = csrf_app.test_client()
    response = client.post("/login", data={"login": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert not is_logged_in(client)

    token = csrf_token(csrf_app, client)
    response = client.post(
        "/login", data={"login": user.email, "password": DEFAULT_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert is_logged_in(client)


def test_registration_without_a_csrf_token_creates_nothing(app_ctx, csrf_app):
    client = csrf_app.test_client()
    response = client.post(
        "/register",
        data={
            "name": "王小明",
            "phone": "13800138000",
            "qualification_level": "none",
            "organisation": "0",
            "password": "s3cret-pass",
            "confirm": "s3cret-pass",
            "csrf_token": "forged",
        },
    )
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_logout_and_admin_actions_without_a_csrf_token_are_refused(app_ctx, csrf_app):
    admin = make_admin()
    learner = make_user()
    client = csrf_app.test_client()
    token = csrf_token(csrf_app, client)
    client.post(
        "/login", data={"login": admin.email, "password": DEFAULT_PASSWORD, "csrf_token": token}
    )

    assert client.post("/logout").status_code == 400
    assert client.post(f"/admin/users/{learner.id}/active", data={"active": "0"}).status_code == 400
    assert (
        client.post(f"/admin/users/{learner.id}", data={"roles-roles": ["admin"]}).status_code
        == 400
    )
    assert is_logged_in(client)
    db.session.expire_all()
    assert db.session.get(User, learner.id).is_active
    assert not db.session.get(User, learner.id).is_admin


def test_the_api_needs_no_csrf_token(app_ctx, csrf_app):
    user = make_user()
    client = csrf_app.test_client()
    response = client.post(
        "/api/v1/tokens", json={"login": user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 201
    me = client.get("/api/v1/me", headers=bearer(response.get_json()["token"]))
    assert me.status_code == 200


# --- a database that cannot be reached ------------------------------------------------------------


@pytest.fixture(scope="module")
def unreachable():
    """An app whose PostgreSQL server does not answer (nothing listens on port 1)."""
    application = make_app(
        ACADEMY_DATABASE_URL="postgresql://postgres@127.0.0.1:1/nope",
        ACADEMY_DB_CONNECT_TIMEOUT="2",
    )
    return application.test_client()


@pytest.mark.parametrize(
    ("method", "url", "headers", "body"),
    [
        ("GET", "/api/v1/organisations", {}, None),
        ("GET", "/api/v1/me", bearer("acd_" + "x" * 43), None),
        ("GET", "/api/v1/users", bearer("acd_" + "x" * 43), None),
        ("POST", "/api/v1/tokens", {}, {"login": "wang@example.org", "password": "x"}),
    ],
)
def test_the_api_answers_503_with_retry_after_when_the_database_is_down(
    unreachable, method, url, headers, body
):
    response = unreachable.open(url, method=method, headers=headers, json=body)
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert response.get_json()["error"]["code"] == "unavailable"
    assert response.get_json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("GET", "/healthz", None),
        ("GET", "/", None),
        ("POST", "/login", {"login": "wang@example.org", "password": "whatever"}),
        ("GET", "/register", None),
    ],
)
def test_pages_answer_a_chinese_503_with_retry_after_when_the_database_is_down(
    unreachable, method, url, data
):
    response = unreachable.open(url, method=method, data=data)
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert 'lang="zh-CN"' in page
    assert re.search(r"[\u4e00-\u9fff]", page)
    assert "Traceback" not in page and "OperationalError" not in page


@pytest.mark.parametrize("url", ["/", "/me/courses", "/courses", "/profile"])
def test_a_logged_in_visitor_gets_the_same_503_when_the_database_is_down(
    client, app_ctx, unreachable, url
):
    """The error page must not load the current user from the database it cannot reach."""
    user = make_user()
    assert (
        client.post("/login", data={"login": user.email, "password": DEFAULT_PASSWORD}).status_code
        == 302
    )
    for name in ("session", "remember_token"):
        cookie = client.get_cookie(name)
        if cookie is not None:
            unreachable.set_cookie(name, cookie.value)
    assert unreachable.get_cookie("session") is not None
    response = unreachable.get(url)
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert int(response.headers["Retry-After"]) > 0
    page = response.get_data(as_text=True)
    assert re.search(r"[\u4e00-\u9fff]", page)
    assert "Traceback" not in page and "OperationalError" not in page


def test_logins_refused_for_an_unreachable_database_do_not_count_as_failures():
    """Five failures a minute are allowed; ten 503s later a login must still be tried."""
    limited = make_app(
        ACADEMY_DATABASE_URL="postgresql://postgres@127.0.0.1:1/nope",
        ACADEMY_DB_CONNECT_TIMEOUT="1",
        RATELIMIT_ENABLED=True,
        ACADEMY_LOGIN_RATE_LIMIT="5 per minute",
    ).test_client()
    for _attempt in range(7):
        page = limited.post("/login", data={"login": "wang@example.org", "password": "x"})
        assert page.status_code == 503
        api = limited.post("/api/v1/tokens", json={"login": "wang@example.org", "password": "x"})
        assert api.status_code == 503
