"""Password guessing is slowed: failed logins are limited per address and login name."""

from __future__ import annotations

import pytest

from tests.conftest import make_app
from tests.factories import DEFAULT_PASSWORD, make_user


@pytest.fixture
def limited_client(app):
    limited = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    return limited.test_client()


def test_api_login_failures_are_limited_per_login(app_ctx, limited_client):
    make_user(email="li@example.org")
    for _ in range(3):
        response = limited_client.post(
            "/api/v1/tokens", json={"login": "li@example.org", "password": "wrong-password"}
        )
        assert response.status_code == 401
    blocked = limited_client.post(
        "/api/v1/tokens", json={"login": "li@example.org", "password": DEFAULT_PASSWORD}
    )
    assert blocked.status_code == 429
    assert blocked.json["error"]["code"] == "too_many_requests"
    assert int(blocked.headers["Retry-After"]) > 0
    # Another account from the same address is not locked out by these failures.
    make_user(email="zhao@example.org")
    other = limited_client.post(
        "/api/v1/tokens", json={"login": "zhao@example.org", "password": DEFAULT_PASSWORD}
    )
    assert other.status_code == 201


def test_successful_logins_do_not_count(app_ctx, limited_client):
    make_user(email="chen@example.org")
    for _ in range(6):
        response = limited_client.post(
            "/login", data={"login": "chen@example.org", "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 302
        limited_client.post("/logout")


def test_login_page_failures_are_limited(app_ctx, limited_client):
    make_user(email="huang@example.org")
    for _ in range(3):
        response = limited_client.post(
            "/login", data={"login": "huang@example.org", "password": "nope-nope"}
        )
        assert response.status_code == 200
    response = limited_client.post(
        "/login", data={"login": "huang@example.org", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 429


def test_only_the_limited_views_pay_for_the_limiter(app_ctx, monkeypatch):
    """The limiter's hooks run for the limited views alone; they still work there."""
    from flask_limiter import Limiter

    checks: list[bool] = []
    real = Limiter._check_request_limit

    def counting(self, callable_name=None, in_middleware=True):  # type: ignore[no-untyped-def]
        checks.append(in_middleware)
        return real(self, callable_name, in_middleware)

    monkeypatch.setattr(Limiter, "_check_request_limit", counting)
    client = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="1 per minute").test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/courses").status_code == 200
    assert checks == []
    login = {"login": "nobody@example.org", "password": "wrong-password"}
    assert client.post("/api/v1/tokens", json=login).status_code == 401
    assert True in checks and False in checks  # the hook before the view, and its own
    assert client.post("/api/v1/tokens", json=login).status_code == 429
