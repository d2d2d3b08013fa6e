"""Accounts that resist guessing and probing: weak passwords refused everywhere a password
is set, registration that reveals no one's account and is rate-limited, and a user search
whose ``%`` and ``_`` are taken literally."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.errors import ValidationFailed
from courses.models import Notice, OutboxEvent, User
from courses.services import accounts, passwords, registration
from tests.conftest import make_app
from tests.factories import DEFAULT_PASSWORD, bearer, make_admin, make_token, make_user

WEAK = [
    "12345678",
    "password",
    "aaaaaaaa",
    "11111111",
    "abcdefgh",
    "qwertyui",
    "PASSWORD",
    "87654321",
    "abababab",
    "12341234",
    "1qaz2wsx",
    "woaini1314",
    "password2025",
    "qwerty123!",
    "ｐａｓｓｗｏｒｄ",
]
STRONG = ["s3cret-pass", "correct-horse-9", "guicheng-2025-sg", "平东社区-2026"]


def users() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0


def registration_form(**overrides: str) -> dict[str, str]:
    data = {
        "name": "王小明",
        "phone": "13800138000",
        "email": "",
        "organisation": "0",
        "qualification_level": "none",
        "password": "s3cret-pass",
        "confirm": "s3cret-pass",
    }
    data.update(overrides)
    return data


# --- weak passwords -----------------------------------------------------------------------


@pytest.mark.parametrize("password", WEAK)
def test_common_and_trivial_passwords_are_weak(password):
    assert passwords.weakness(password) == "common"


@pytest.mark.parametrize("password", STRONG)
def test_ordinary_good_passwords_pass(password):
    assert passwords.weakness(password, email="wang.lei@example.org", phone="13800138000") is None


@pytest.mark.parametrize(
    "password", ["13800138000", "+8613800138000", "x13800138000", "wang.lei", "Wang.Lei2025"]
)
def test_ones_own_phone_or_email_name_is_weak(password):
    assert passwords.weakness(password, email="wang.lei@example.org", phone="138 0013 8000") == (
        "personal"
    )


@pytest.mark.parametrize("password", ["12345678", "aaaaaaaa", "qwertyui"])
def test_registration_refuses_a_weak_password_with_a_clear_message(app_ctx, client, password):
    response = client.post("/register", data=registration_form(password=password, confirm=password))
    assert response.status_code == 200
    assert "该密码太容易被猜到" in response.get_data(as_text=True)
    assert users() == 0


def test_registration_refuses_ones_own_phone_as_the_password(app_ctx, client):
    response = client.post(
        "/register", data=registration_form(password="13800138000", confirm="13800138000")
    )
    assert response.status_code == 200
    assert "密码不能是您的手机号或邮箱用户名" in response.get_data(as_text=True)
    assert users() == 0


def test_a_password_change_refuses_a_weak_password(app_ctx, login_as):
    user = make_user(email="zhou.min@example.org")
    old_hash = user.password_hash
    client = login_as(user)
    for weak in ("password", "zhou.min"):
        response = client.post(
            "/profile/password",
            data={"current_password": DEFAULT_PASSWORD, "new_password": weak, "confirm": weak},
        )
        assert response.status_code == 200
        assert "密码" in response.get_data(as_text=True)
        db.session.expire_all()
        assert db.session.get(User, user.id).password_hash == old_hash
    with pytest.raises(ValidationFailed) as caught:
        accounts.change_password(user, DEFAULT_PASSWORD, "11111111")
    assert set(caught.value.fields) == {"password"}


def test_admins_cannot_give_a_weak_password(app_ctx, login_as):
    client = login_as(make_admin(email="admin@example.org"))
    response = client.post(
        "/admin/users/new",
        data={
            "name": "陈老师",
            "phone": "13700000001",
            "email": "",
            "organisation": "0",
            "qualification_level": "none",
            "roles": ["trainer"],
            "password": "abcdefgh",
        },
    )
    assert response.status_code == 200
    assert "该密码太容易被猜到" in response.get_data(as_text=True)
    assert users() == 1


def test_the_api_refuses_a_weak_password(app_ctx, client):
    token = make_token(make_admin(email="admin@example.org"))
    response = client.post(
        "/api/v1/users",
        json={"name": "陈", "phone": "13700000001", "password": "password", "roles": ["learner"]},
        headers=bearer(token),
    )
    assert response.status_code == 422
    assert "password" in response.get_json()["error"]["fields"]
    assert users() == 1


# --- registration reveals no account ----------------------------------------------------------


def _register(client, flashed, **overrides: str):  # type: ignore[no-untyped-def]
    flashed.clear()
    response = client.post("/register", data=registration_form(**overrides))
    messages = list(flashed)
    login_page = client.get("/login").get_data(as_text=True)
    return response, messages, login_page


@pytest.mark.parametrize(
    ("existing", "posted", "fresh_posted"),
    [
        (
            {"phone": "13800138000", "email": None},
            {"phone": "+86 138-0013-8000"},
            {"phone": "+86 138-0013-8999"},
        ),
        (
            {"phone": None, "email": "wang@example.org"},
            {"phone": "", "email": "WANG@example.org"},
            {"phone": "", "email": "WONG@example.org"},
        ),
    ],
)
def test_registering_answers_alike_whether_the_address_had_an_account(
    app, app_ctx, flashed, existing, posted, fresh_posted
):
    owner = make_user("王大明", **existing)
    old_hash = owner.password_hash
    taken, taken_messages, taken_page = _register(app.test_client(), flashed, **posted)
    fresh, fresh_messages, fresh_page = _register(app.test_client(), flashed, **fresh_posted)

    assert (taken.status_code, taken.headers["Location"]) == (302, "/login")
    assert (fresh.status_code, fresh.headers["Location"]) == (302, "/login")
    assert taken.get_data() == fresh.get_data()
    assert taken_messages == fresh_messages
    for key in posted:  # the only difference: the address typed, filled in to log in
        taken_page = taken_page.replace(posted[key], "…") if posted[key] else taken_page
        fresh_page = fresh_page.replace(fresh_posted[key], "…") if posted[key] else fresh_page
    assert taken_page == fresh_page
    assert users() == 2  # the owner and the fresh learner; nothing for the taken address
    db.session.expire_all()
    assert db.session.get(User, owner.id).password_hash == old_hash


def test_the_owner_is_told_once_while_the_notice_is_unread(app, app_ctx, login_as, flashed):
    owner = make_user(phone="13800138000", email="li@example.org")
    for _attempt in range(3):
        _register(app.test_client(), flashed, phone="138 0013 8000")
    (notice,) = db.session.scalars(sa.select(Notice).where(Notice.user_id == owner.id)).all()
    assert notice.kind == registration.NOTICE_KIND
    assert notice.data == {"by": "phone", "attempts": 3}
    (event,) = db.session.scalars(sa.select(OutboxEvent)).all()
    assert event.topic == registration.NOTIFY_TOPIC
    assert event.payload == {"user_id": owner.id, "kind": "registration_attempt", "by": "phone"}
    page = login_as(owner).get("/me/courses").get_data(as_text=True)
    assert "有人尝试用您的手机号注册新账号" in page


def test_a_new_learner_logs_in_with_the_phone_filled_in(app_ctx, client, flashed):
    _response, messages, login_page = _register(client, flashed, phone="139 0000 0001")
    assert [category for category, _message in messages] == ["info"]
    assert 'value="139 0000 0001"' in login_page
    logged_in = client.post("/login", data={"login": "139 0000 0001", "password": "s3cret-pass"})
    assert logged_in.status_code == 302
    assert client.get("/login").status_code == 302


def test_registrations_are_limited_per_address(app_ctx):
    client = make_app(RATELIMIT_ENABLED=True, REGISTER_RATE_LIMIT="2 per hour").test_client()
    for _ in range(3):  # forms with mistakes do not count
        assert client.post("/register", data=registration_form(name="")).status_code == 200
    for phone in ("13900000001", "13900000002"):
        assert client.post("/register", data=registration_form(phone=phone)).status_code == 302
    blocked = client.post("/register", data=registration_form(phone="13900000003"))
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert users() == 2


# --- user search ------------------------------------------------------------------------------


@pytest.fixture
def people(app_ctx):  # type: ignore[no-untyped-def]
    return {
        "percent": make_user("百分%之百", email="bai@example.org", phone="13900000011"),
        "underscore": make_user("李娜", email="li_na@example.org", phone="13900000012"),
        "plain": make_user("林娜", email="linna@example.org", phone="13900000013"),
        "backslash": make_user("反斜\\杠", email="fan@example.org", phone="13900000014"),
    }


@pytest.mark.parametrize(
    ("q", "found"),
    [("%", {"percent"}), ("_", {"underscore"}), ("li_n", {"underscore"}), ("\\", {"backslash"})],
)
def test_wildcards_in_the_user_search_are_taken_literally(app_ctx, people, login_as, q, found):
    expected = {people[key].id for key in found}
    assert {u.id for u in accounts.search_users(q=q).items} == expected
    admin = make_admin(email="admin@example.org")
    response = (
        make_app()
        .test_client()
        .get("/api/v1/users", query_string={"q": q}, headers=bearer(make_token(admin)))
    )
    assert {item["id"] for item in response.get_json()["items"]} == expected
    page = login_as(admin).get("/admin/users", query_string={"q": q}).get_data(as_text=True)
    assert {key for key, user in people.items() if user.email in page} == found
