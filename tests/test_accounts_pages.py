"""The account pages: register, log in and out, profile and password, sessions and cookies."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.models import Organisation, Role, User
from courses.services import accounts
from tests.factories import DEFAULT_PASSWORD, bearer, make_organisation, make_token, make_user

NEW_PASSWORD = "brand-new-pass-7"


def form_errors(rendered: list[tuple[str, dict]], template: str) -> dict:
    """The field errors of the form on the last rendering of ``template``."""
    forms = [context["form"] for name, context in rendered if name == template]
    assert forms, f"{template} was not rendered"
    return forms[-1].errors


def is_logged_in(client) -> bool:  # type: ignore[no-untyped-def]
    """The login page sends a logged-in visitor on; an anonymous one sees the form."""
    status = client.get("/login").status_code
    assert status in (200, 302)
    return status == 302


def user_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0


def registration(**overrides: str) -> dict[str, str]:
    data = {
        "name": "王小明",
        "phone": "+86 138 0013 8000",
        "email": "",
        "organisation": "0",
        "qualification_level": "none",
        "password": "s3cret-pass",
        "confirm": "s3cret-pass",
    }
    data.update(overrides)
    return data


def log_in(client, login: str, password: str = DEFAULT_PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"login": login, "password": password, **extra})


# --- registration -------------------------------------------------------------------------


def test_the_registration_page_is_open_to_visitors(client):
    assert client.get("/register").status_code == 200


def test_registering_creates_a_learner_who_then_logs_in(app_ctx, client):
    organisation = make_organisation("桂城社工服务中心")
    response = client.post(
        "/register",
        data=registration(
            email="Wang@Example.org",
            organisation=str(organisation.id),
            qualification_level="assistant_social_worker",
        ),
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    user = db.session.scalar(sa.select(User))
    assert user.name == "王小明"
    assert user.phone == "13800138000"
    assert user.email == "wang@example.org"
    assert user.organisation_id == organisation.id
    assert user.qualification_level == "assistant_social_worker"
    assert user.roles == {Role.LEARNER}
    # The same answer as for a phone already registered: log in (the phone is filled in).
    page = client.get("/login").get_data(as_text=True)
    assert "您的账号已经建好" in page and 'value="+86 138 0013 8000"' in page
    assert log_in(client, "13800138000", "s3cret-pass").status_code == 302
    assert is_logged_in(client)


def test_roles_posted_to_the_registration_form_are_ignored(app_ctx, client):
    response = client.post(
        "/register", data={**registration(), "roles": ["admin", "trainer"], "role": "admin"}
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(User)).roles == {Role.LEARNER}


def test_the_password_is_stored_as_an_argon2_hash_only(app_ctx, client):
    client.post("/register", data=registration(email="wang@example.org"))
    row = db.session.execute(sa.select(User.__table__)).one()
    assert row.password_hash.startswith("$argon2")
    assert all("s3cret-pass" not in str(value) for value in row)


@pytest.mark.parametrize(
    ("existing", "posted"),
    [
        ({"phone": "13800138000", "email": "li@example.org"}, {"phone": "138-0013-8000"}),
        (
            {"phone": "13900000001", "email": "wang@example.org"},
            {"phone": "", "email": "WANG@example.org"},
        ),
    ],
)
def test_registering_a_phone_or_email_already_in_use_creates_nothing(
    app_ctx, client, existing, posted
):
    make_user(**existing)
    response = client.post("/register", data=registration(**posted))

    assert response.status_code == 302  # the answer a new learner gets
    assert response.headers["Location"] == "/login"
    assert user_count() == 1
    assert not is_logged_in(client)


def test_a_registration_racing_another_with_the_same_phone_is_answered_alike(
    app_ctx, client, flashed, monkeypatch
):
    make_user(phone="13800138000", email="li@example.org")
    monkeypatch.setattr(accounts.registration, "tell_owners", lambda *args, **kwargs: False)
    response = client.post("/register", data=registration())
    assert response.status_code == 302
    assert [category for category, _message in flashed] == ["info"]
    assert user_count() == 1
    assert not is_logged_in(client)


@pytest.mark.parametrize(
    ("posted", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"phone": "", "email": "not-an-email"}, "email"),
        ({"password": "short", "confirm": "short"}, "password"),
        ({"confirm": "something-else"}, "confirm"),
        ({"name": ""}, "name"),
        ({"phone": "", "email": ""}, "phone"),
        ({"qualification_level": "guru"}, "qualification_level"),
        ({"organisation": "999999"}, "organisation"),
    ],
)
def test_invalid_registrations_save_nothing_and_point_at_the_field(
    app_ctx, client, rendered, posted, field
):
    response = client.post("/register", data=registration(**posted))

    assert response.status_code == 200
    assert user_count() == 0
    assert field in form_errors(rendered, "accounts/register.html")
    assert not is_logged_in(client)


def test_a_logged_in_user_is_sent_home_from_the_registration_page(app_ctx, login_as):
    client = login_as(make_user())
    response = client.get("/register")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# --- logging in ------------------------------------------------------------------------------


@pytest.mark.parametrize("login", ["wang@example.org", "WANG@Example.org", "+86 138 0013 8000"])
def test_users_log_in_with_email_or_phone(app_ctx, client, login):
    make_user(email="wang@example.org", phone="13800138000")
    response = log_in(client, login)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert is_logged_in(client)


def test_a_wrong_password_keeps_the_visitor_on_the_login_page(app_ctx, client, rendered):
    make_user(email="wang@example.org")
    response = log_in(client, "wang@example.org", "wrong-password")

    assert response.status_code == 200
    assert "password" in form_errors(rendered, "accounts/login.html")
    assert not is_logged_in(client)


def test_an_unknown_login_is_refused_like_a_wrong_password(app_ctx, client, rendered):
    response = log_in(client, "nobody@example.org")
    assert response.status_code == 200
    assert "password" in form_errors(rendered, "accounts/login.html")
    assert not is_logged_in(client)


def test_a_deactivated_account_cannot_log_in(app_ctx, client, flashed):
    user = make_user(email="wang@example.org")
    user.is_active = False
    db.session.commit()

    response = log_in(client, "wang@example.org")

    assert response.status_code == 200
    assert [category for category, _message in flashed] == ["error"]
    assert not is_logged_in(client)


def test_an_empty_login_form_is_refused(app_ctx, client, rendered):
    response = client.post("/login", data={})
    assert response.status_code == 200
    assert set(form_errors(rendered, "accounts/login.html")) == {"login", "password"}


def test_after_login_the_user_goes_to_the_page_they_asked_for(app_ctx, client):
    make_user(email="wang@example.org")
    asked = client.get("/profile")
    assert asked.status_code == 302
    assert asked.headers["Location"].startswith("/login?next=")

    response = client.post(
        asked.headers["Location"], data={"login": "wang@example.org", "password": DEFAULT_PASSWORD}
    )
    assert response.headers["Location"] == "/profile"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "//evil.example",
        "//evil.example/profile",
        "http:/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/\t/evil.example",
    ],
)
def test_next_never_leads_to_another_site(app_ctx, client, target):
    make_user(email="wang@example.org")
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"login": "wang@example.org", "password": DEFAULT_PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    # A logged-in visitor sent to the login page is not bounced off-site either.
    again = client.get("/login", query_string={"next": target})
    assert again.headers["Location"] == "/"


def test_a_backslash_in_next_cannot_make_a_protocol_relative_address(app_ctx, client):
    make_user(email="wang@example.org")
    response = client.post(
        "/login",
        query_string={"next": "/\\evil.example"},
        data={"login": "wang@example.org", "password": DEFAULT_PASSWORD},
    )
    location = response.headers["Location"]
    assert location.startswith("/")
    assert not location.startswith(("//", "/\\"))


def test_the_session_is_rotated_on_login(app_ctx, client):
    make_user(email="wang@example.org")
    with client.session_transaction() as session:
        session["planted"] = "before login"
        session["locale"] = "en"
    cookie_before = client.get_cookie("session").value

    log_in(client, "wang@example.org")

    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["locale"] == "en"  # the chosen language survives
        assert session["_user_id"]
    assert client.get_cookie("session").value != cookie_before


def test_the_session_cookie_carries_the_session_nonce_not_the_user_id(app_ctx, client):
    user = make_user(email="wang@example.org")
    log_in(client, "wang@example.org")
    with client.session_transaction() as session:
        assert session["_user_id"] == user.session_nonce
        assert session["_user_id"] != str(user.id)


# --- logging out -------------------------------------------------------------------------------


def test_logout_only_answers_post(app_ctx, login_as):
    client = login_as(make_user())
    assert client.get("/logout").status_code == 405
    assert is_logged_in(client)


def test_logout_clears_the_session(app_ctx, login_as):
    client = login_as(make_user())
    with client.session_transaction() as session:
        session["planted"] = "while logged in"

    response = client.post("/logout")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    with client.session_transaction() as session:
        assert "planted" not in session
        assert "_user_id" not in session
    assert not is_logged_in(client)


def test_logging_out_anonymously_leads_to_the_login_page(client):
    response = client.post("/logout")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --- remember me -------------------------------------------------------------------------------


def remember_cookie(client) -> str | None:  # type: ignore[no-untyped-def]
    cookie = client.get_cookie("remember_token")
    return cookie.value if cookie else None


def test_remember_me_sets_a_cookie_that_logs_in_a_later_visit(app, app_ctx, client):
    make_user(email="wang@example.org")
    response = log_in(client, "wang@example.org", remember="y")
    set_cookies = response.headers.getlist("Set-Cookie")
    (remember_header,) = [h for h in set_cookies if h.startswith("remember_token=")]
    assert "HttpOnly" in remember_header
    assert "SameSite=Lax" in remember_header

    later = app.test_client()
    later.set_cookie("remember_token", remember_cookie(client))
    assert is_logged_in(later)


def test_without_remember_me_no_remember_cookie_is_set(app_ctx, client):
    make_user(email="wang@example.org")
    log_in(client, "wang@example.org")
    assert remember_cookie(client) is None


# --- profile --------------------------------------------------------------------------------------


def test_the_profile_page_needs_a_login(client):
    response = client.get("/profile")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_users_edit_their_own_profile(app_ctx, login_as):
    organisation = make_organisation()
    user = make_user(email="wang@example.org", phone="13800138000")
    client = login_as(user)
    assert client.get("/profile").status_code == 200

    response = client.post(
        "/profile",
        data={
            "name": "王大明",
            "phone": "139 0000 0001",
            "email": "wang@example.org",
            "organisation": str(organisation.id),
            "qualification_level": "social_worker",
        },
    )

    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert (user.name, user.phone, user.organisation_id) == (
        "王大明",
        "13900000001",
        organisation.id,
    )
    assert user.qualification_level == "social_worker"


def test_a_profile_cannot_take_someone_elses_email(app_ctx, login_as, rendered):
    make_user(email="taken@example.org")
    user = make_user(email="wang@example.org")
    client = login_as(user)

    response = client.post(
        "/profile",
        data={"name": "王小明", "email": "taken@example.org", "qualification_level": "none"},
    )

    assert response.status_code == 200
    assert "email" in form_errors(rendered, "accounts/profile.html")
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "wang@example.org"


# --- changing the password ------------------------------------------------------------------------


def change_password(client, current: str = DEFAULT_PASSWORD, new: str = NEW_PASSWORD, **extra):  # type: ignore[no-untyped-def]
    data = {"current_password": current, "new_password": new, "confirm": new, **extra}
    return client.post("/profile/password", data=data)


def test_the_password_page_needs_a_login(app_ctx, client, login_as):
    assert client.get("/profile/password").headers["Location"].startswith("/login")
    assert login_as(make_user()).get("/profile/password").status_code == 200


@pytest.mark.parametrize(
    ("current", "new", "extra", "field"),
    [
        ("wrong-password", NEW_PASSWORD, {}, "current_password"),
        (DEFAULT_PASSWORD, "short", {}, "new_password"),
        (DEFAULT_PASSWORD, NEW_PASSWORD, {"confirm": "something-else"}, "confirm"),
    ],
)
def test_a_refused_password_change_changes_nothing(
    app_ctx, login_as, rendered, current, new, extra, field
):
    user = make_user()
    old_hash, old_nonce = user.password_hash, user.session_nonce
    client = login_as(user)

    response = change_password(client, current, new, **extra)

    assert response.status_code == 200
    assert field in form_errors(rendered, "accounts/change_password.html")
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert (stored.password_hash, stored.session_nonce) == (old_hash, old_nonce)
    assert is_logged_in(client)


def test_changing_the_password_logs_out_every_other_session(app, app_ctx, client):
    user = make_user(email="wang@example.org")
    other_device = app.test_client()
    log_in(other_device, "wang@example.org", remember="y")
    remembered = remember_cookie(other_device)
    assert is_logged_in(other_device)
    log_in(client, "wang@example.org")

    response = change_password(client)

    assert response.status_code == 302
    assert response.headers["Location"] == "/profile"
    assert is_logged_in(client), "the session that changed the password stays in"
    assert not is_logged_in(other_device)
    # The remember-me cookie from before the change no longer logs anybody in.
    returning = app.test_client()
    returning.set_cookie("remember_token", remembered)
    assert not is_logged_in(returning)
    # Only the new password works from now on.
    fresh = app.test_client()
    assert log_in(fresh, "wang@example.org").status_code == 200
    assert log_in(fresh, "wang@example.org", NEW_PASSWORD).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash.startswith("$argon2")


def test_api_tokens_are_revoked_by_a_password_change(app_ctx, client):
    user = make_user(email="wang@example.org")
    secret = make_token(user)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    log_in(client, "wang@example.org")
    change_password(client)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_a_deactivated_users_session_stops_working(app_ctx, login_as):
    user = make_user()
    client = login_as(user)
    user.is_active = False
    db.session.commit()
    assert not is_logged_in(client)
    assert client.get("/profile").status_code == 302


def test_organisations_offered_on_registration_are_the_active_ones(app_ctx, client, rendered):
    active = make_organisation("桂城社工服务中心")
    make_organisation("已停用机构", is_active=False)
    client.get("/register")
    form = [context["form"] for name, context in rendered if name == "accounts/register.html"][-1]
    offered = {value for value, _label in form.organisation.choices}
    assert offered == {0, active.id}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 2
