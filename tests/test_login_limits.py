"""Login limits count the account, however it is written, and are shared by every process.

The Redis tests use ``ACADEMY_TEST_REDIS_URL`` (default db 13)."""

from __future__ import annotations

import logging
import os
import uuid

import pytest
from limits.storage import MemoryStorage, RedisStorage

from academy.config import load_settings
from tests.conftest import make_app
from tests.factories import DEFAULT_PASSWORD, make_user

REDIS_URL = os.environ.get("ACADEMY_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
SECRET = "test-secret-key-not-for-production"


@pytest.fixture
def limited_client(app):  # type: ignore[no-untyped-def]
    limited = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    return limited.test_client()


@pytest.fixture
def no_limiter_environment(monkeypatch):  # type: ignore[no-untyped-def]
    for name in ("ACADEMY_RATELIMIT_STORAGE_URL", "ACADEMY_BROKER_URL"):
        monkeypatch.delenv(name, raising=False)


# --- one account, one counter ------------------------------------------------------------


@pytest.mark.parametrize(
    "spellings",
    [
        ["138-0013-8005", "+8613800138005", "１３８００１３８００５"],
        ["0086 138 0013 8005", "(138)0013-8005", "8613800138005"],
    ],
)
def test_a_phone_written_differently_is_the_same_account_to_the_limit(
    app_ctx, limited_client, spellings
):
    make_user(phone="13800138005", email=None)
    for login in spellings:
        response = limited_client.post("/login", data={"login": login, "password": "wrong-pass-1"})
        assert response.status_code == 200
    blocked = limited_client.post(
        "/login", data={"login": "13800138005", "password": DEFAULT_PASSWORD}
    )
    assert blocked.status_code == 429


def test_an_email_in_other_case_or_with_spaces_is_the_same_account_to_the_limit(
    app_ctx, limited_client
):
    make_user(email="li.na@example.org")
    for login in ("LI.NA@example.org", "  li.na@EXAMPLE.ORG ", "Li.Na@Example.Org"):
        response = limited_client.post(
            "/api/v1/tokens", json={"login": login, "password": "wrong-pass-1"}
        )
        assert response.status_code == 401
    blocked = limited_client.post(
        "/api/v1/tokens", json={"login": "li.na@example.org", "password": DEFAULT_PASSWORD}
    )
    assert blocked.status_code == 429


def test_full_width_digits_log_in(app_ctx, client):
    make_user(phone="13800138005", email=None)
    response = client.post(
        "/login", data={"login": "１３８－００１３－８００５", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302


# --- where the counters live -----------------------------------------------------------


def test_the_broker_redis_holds_the_counters_when_no_storage_is_given(tmp_path):
    env = {"ACADEMY_INSTANCE_PATH": str(tmp_path), "ACADEMY_SECRET_KEY": SECRET}
    assert load_settings(env)["RATELIMIT_STORAGE_URI"] == "memory://"
    redis_broker = {**env, "ACADEMY_BROKER_URL": "redis://redis:6379/0"}
    assert load_settings(redis_broker)["RATELIMIT_STORAGE_URI"] == "redis://redis:6379/0"
    tls_broker = {**env, "ACADEMY_BROKER_URL": "rediss://redis:6380/0"}
    assert load_settings(tls_broker)["RATELIMIT_STORAGE_URI"] == "rediss://redis:6380/0"
    rabbit = {**env, "ACADEMY_BROKER_URL": "amqp://guest@rabbit//"}
    assert load_settings(rabbit)["RATELIMIT_STORAGE_URI"] == "memory://"
    explicit = {**redis_broker, "ACADEMY_RATELIMIT_STORAGE_URL": "redis://limits:6379/1"}
    assert load_settings(explicit)["RATELIMIT_STORAGE_URI"] == "redis://limits:6379/1"


def test_processes_sharing_the_broker_share_the_login_limit(
    app_ctx, no_limiter_environment, caplog
):
    """Two apps stand for two processes: failures on either count against both."""
    caplog.set_level(logging.WARNING, logger="academy.ratelimit")
    apps = [
        make_app(ACADEMY_BROKER_URL=REDIS_URL, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3/minute")
        for _ in range(2)
    ]
    for each in apps:
        assert each.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
        assert isinstance(each.extensions["academy_limiter"].storage, RedisStorage)
    assert not caplog.records
    login = f"{uuid.uuid4().hex}@example.org"
    make_user(email=login)
    first, second = (each.test_client() for each in apps)
    wrong = {"login": login, "password": "wrong-pass-1"}
    assert first.post("/api/v1/tokens", json=wrong).status_code == 401
    assert second.post("/api/v1/tokens", json=wrong).status_code == 401
    assert first.post("/api/v1/tokens", json=wrong).status_code == 401
    right = {"login": login, "password": DEFAULT_PASSWORD}
    assert second.post("/api/v1/tokens", json=right).status_code == 429


def test_memory_counters_with_a_server_database_are_warned_about(
    app, no_limiter_environment, caplog, tmp_path
):
    caplog.set_level(logging.WARNING, logger="academy.ratelimit")
    server = "postgresql://academy@db.invalid:5432/academy"  # never connected to here
    quiet = make_app(ACADEMY_DATABASE_URL=server, RATELIMIT_ENABLED=False)
    assert not caplog.records
    loud = make_app(ACADEMY_DATABASE_URL=server, RATELIMIT_ENABLED=True)
    assert loud.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert isinstance(loud.extensions["academy_limiter"].storage, MemoryStorage)
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert "ACADEMY_RATELIMIT_STORAGE_URL" in record.getMessage()
    assert "several processes" in record.getMessage()
    assert quiet.config["RATELIMIT_STORAGE_URI"] == "memory://"
    # The embedded default (SQLite, one process) says nothing.
    caplog.clear()
    make_app(ACADEMY_DATABASE_URL=f"sqlite:///{tmp_path / 'one.db'}", RATELIMIT_ENABLED=True)
    assert not caplog.records


def test_logins_go_on_when_the_limit_store_is_down(app_ctx, no_limiter_environment):
    """Counting falls back to the process's memory meanwhile: limited, never a 500."""
    down = make_app(
        ACADEMY_RATELIMIT_STORAGE_URL="redis://127.0.0.1:9/0",
        RATELIMIT_ENABLED=True,
        LOGIN_RATE_LIMIT="2/minute",
    ).test_client()
    make_user(email="zhou@example.org")
    wrong = {"login": "zhou@example.org", "password": "wrong-pass-1"}
    assert down.post("/api/v1/tokens", json=wrong).status_code == 401
    assert down.post("/api/v1/tokens", json=wrong).status_code == 401
    assert down.post("/api/v1/tokens", json=wrong).status_code == 429
