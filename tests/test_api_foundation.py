"""The JSON API's foundation: tokens, the current user, users, organisations, the
error shape and the OpenAPI document (SPEC §5)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa
from openapi_spec_validator import validate

from courses.db import db, utcnow
from courses.models import ApiToken, AuditLogEntry, Organisation, Role, User
from courses.services import accounts, organisations
from tests.factories import (
    DEFAULT_PASSWORD,
    bearer,
    make_admin,
    make_organisation,
    make_token,
    make_trainer,
    make_user,
)

TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK"}


def assert_error(response, status: int, code: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    """The response is ``{"error": {"code", "message", ...}}`` with ``status``."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert set(error) <= {"code", "message", "fields"}
    if code is not None:
        assert error["code"] == code
    return error


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


@pytest.fixture
def admin_token(app_ctx) -> str:
    return make_token(make_admin(name="管理员", email="admin@example.org"))


@pytest.fixture
def learner_token(app_ctx) -> str:
    return make_token(make_user(name="学员", email="learner@example.org"))


# --- tokens -------------------------------------------------------------------------------------


@pytest.mark.parametrize("login", ["wang@example.org", "WANG@example.org", "+86 138 0013 8000"])
def test_a_token_is_issued_for_email_or_phone_and_password(app_ctx, client, login):
    organisation = make_organisation("桂城社工服务中心")
    user = make_user(
        "王小明",
        email="wang@example.org",
        phone="13800138000",
        roles=["learner", "trainer"],
        organisation=organisation,
    )

    response = client.post("/api/v1/tokens", json={"login": login, "password": DEFAULT_PASSWORD})

    assert response.status_code == 201
    body = response.get_json()
    assert body["token"].startswith("acd_")
    assert body["user"]["id"] == user.id
    assert body["user"]["roles"] == ["learner", "trainer"]
    assert body["user"]["organisation"] == {"id": organisation.id, "name": "桂城社工服务中心"}
    assert "password" not in body["user"] and "password_hash" not in body["user"]
    assert body["expires_at"].endswith("+00:00")
    me = client.get("/api/v1/me", headers=bearer(body["token"]))
    assert me.status_code == 200
    assert me.get_json()["id"] == user.id


def test_only_the_digest_of_a_token_is_stored(app_ctx, client):
    make_user(email="wang@example.org")
    secret = client.post(
        "/api/v1/tokens", json={"login": "wang@example.org", "password": DEFAULT_PASSWORD}
    ).get_json()["token"]

    row = db.session.execute(sa.select(ApiToken.__table__)).one()
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert all(secret not in str(value) for value in row)


def test_a_wrong_password_gets_401_invalid_credentials(app_ctx, client):
    make_user(email="wang@example.org")
    response = client.post(
        "/api/v1/tokens", json={"login": "wang@example.org", "password": "wrong-password"}
    )
    assert_error(response, 401, "invalid_credentials")
    assert count(ApiToken) == 0


def test_an_unknown_user_gets_the_same_401(app_ctx, client):
    response = client.post(
        "/api/v1/tokens", json={"login": "nobody@example.org", "password": DEFAULT_PASSWORD}
    )
    assert_error(response, 401, "invalid_credentials")


def test_a_deactivated_user_gets_no_token(app_ctx, client):
    user = make_user(email="wang@example.org")
    user.is_active = False
    db.session.commit()
    response = client.post(
        "/api/v1/tokens", json={"login": "wang@example.org", "password": DEFAULT_PASSWORD}
    )
    assert_error(response, 403, "account_disabled")
    assert count(ApiToken) == 0


@pytest.mark.parametrize(
    ("body", "missing"),
    [({}, {"login", "password"}), ({"login": "wang@example.org"}, {"password"})],
)
def test_missing_fields_get_422_naming_them(client, body, missing):
    error = assert_error(client.post("/api/v1/tokens", json=body), 422, "validation_error")
    assert set(error["fields"]) == missing


def test_wrongly_typed_fields_get_422(client):
    error = assert_error(
        client.post("/api/v1/tokens", json={"login": 13800138000, "password": ["x"]}), 422
    )
    assert set(error["fields"]) == {"login", "password"}


def test_a_body_that_is_not_an_object_gets_422(client):
    assert_error(client.post("/api/v1/tokens", json=["wang@example.org"]), 422)


def test_garbage_json_gets_400(client):
    response = client.post(
        "/api/v1/tokens", data='{"login": "wang@', content_type="application/json"
    )
    assert_error(response, 400, "bad_request")


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("login=wang%40example.org&password=x", "application/x-www-form-urlencoded"),
        ('{"login": "wang@example.org", "password": "x"}', "text/plain"),
        (b"\xff\xfe\x00", "application/octet-stream"),
    ],
)
def test_a_body_that_is_not_json_gets_a_4xx(client, data, content_type):
    response = client.post("/api/v1/tokens", data=data, content_type=content_type)
    error = assert_error(response, response.status_code)
    assert 400 <= response.status_code < 500
    assert error["code"] in {"validation_error", "bad_request", "unsupported_media_type"}


# --- the current user -----------------------------------------------------------------------------


def test_me_needs_a_token(client):
    assert_error(client.get("/api/v1/me"), 401, "unauthorized")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer acd_not-a-real-token",
        "Bearer not-even-our-prefix",
        "Basic d2FuZzpwYXNzd29yZA==",
        "acd_missing-scheme",
        "Bearer acd_" + "x" * 500,
    ],
)
def test_a_malformed_or_unknown_token_gets_401(app_ctx, client, header):
    make_token(make_user())
    assert_error(client.get("/api/v1/me", headers={"Authorization": header}), 401)


def test_me_returns_the_user_with_roles(app_ctx, client):
    user = make_user("王小明", email="wang@example.org", phone="13800138000", roles=["trainer"])
    body = client.get("/api/v1/me", headers=bearer(make_token(user))).get_json()
    assert body["id"] == user.id
    assert body["name"] == "王小明"
    assert (body["email"], body["phone"]) == ("wang@example.org", "13800138000")
    assert body["roles"] == ["trainer"]
    assert body["is_active"] is True
    assert body["qualification_level"] == "none"
    assert body["created_at"].endswith("+00:00")


def test_the_bearer_scheme_is_case_insensitive(app_ctx, client):
    secret = make_token(make_user())
    response = client.get("/api/v1/me", headers={"Authorization": f"bearer {secret}"})
    assert response.status_code == 200


def test_an_expired_token_gets_401(app_ctx, client):
    user = make_user()
    secret = make_token(user)
    token = db.session.scalar(sa.select(ApiToken))
    token.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert_error(client.get("/api/v1/me", headers=bearer(secret)), 401)


def test_a_token_of_a_deactivated_user_gets_401(app_ctx, client):
    user = make_user()
    secret = make_token(user)
    user.is_active = False
    db.session.commit()
    assert_error(client.get("/api/v1/me", headers=bearer(secret)), 401)


def test_using_a_token_is_remembered(app_ctx, client):
    secret = make_token(make_user())
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(sa.select(ApiToken.last_used_at)) is not None


def test_a_writing_request_records_the_token_s_use_with_its_own_changes(app_ctx, client):
    trainer = make_user(roles=("trainer",))
    secret = make_token(trainer)
    course = {"title": "社区走访实务", "topic": "社区治理", "level": "beginner", "mode": "offline"}
    assert client.post("/api/v1/courses", json=course, headers=bearer(secret)).status_code == 201
    db.session.expire_all()
    used = db.session.scalars(
        sa.select(ApiToken.last_used_at).where(ApiToken.user_id == trainer.id)
    ).one()
    assert used is not None


def test_deleting_the_current_token_revokes_it_and_only_it(app_ctx, client):
    user = make_user()
    first, second = make_token(user), make_token(user)

    response = client.delete("/api/v1/tokens/current", headers=bearer(first))

    assert response.status_code == 204
    assert response.get_data() == b""
    assert_error(client.get("/api/v1/me", headers=bearer(first)), 401)
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200
    assert_error(client.delete("/api/v1/tokens/current", headers=bearer(first)), 401)
    assert_error(client.delete("/api/v1/tokens/current"), 401)


def test_a_session_cookie_does_not_authenticate_the_api(app_ctx, login_as):
    client = login_as(make_user())
    assert_error(client.get("/api/v1/me"), 401)


def test_api_requests_neither_read_nor_write_the_cookie_session(app_ctx, login_as):
    user = make_user()
    client = login_as(user)
    cookie = client.get_cookie("session")
    assert cookie is not None
    # ?lang= on a page is kept in the session; on the API it lasts for that request only.
    refused = client.get("/api/v1/me?lang=en")
    assert_error(refused, 401)
    assert refused.json["error"]["message"].startswith("A valid bearer token")
    assert "Set-Cookie" not in refused.headers
    response = client.get("/api/v1/courses", headers=bearer(make_token(user)))
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert client.get_cookie("session").value == cookie.value
    # The pages still use the session: the user is still logged in, and English chosen
    # on a page is kept there; the API does not read it, so its messages stay in the
    # academy's default language.
    assert client.get("/me/courses?lang=en").status_code == 200
    refused = client.get("/api/v1/me")
    assert_error(refused, 401)
    assert refused.json["error"]["message"].startswith("需要")


# --- users (admin) --------------------------------------------------------------------------------


def test_listing_users_needs_an_admin_token(app_ctx, client, learner_token):
    trainer_token = make_token(make_trainer())
    assert_error(client.get("/api/v1/users"), 401, "unauthorized")
    assert_error(client.get("/api/v1/users", headers=bearer(learner_token)), 403, "forbidden")
    assert_error(client.get("/api/v1/users", headers=bearer(trainer_token)), 403, "forbidden")


def test_creating_users_needs_an_admin_token(app_ctx, client, learner_token):
    data = {"name": "陈老师", "email": "chen@example.org", "password": "s3cret-pass"}
    assert_error(client.post("/api/v1/users", json=data), 401)
    assert_error(client.post("/api/v1/users", json=data, headers=bearer(learner_token)), 403)
    assert count(User) == 1


def test_admins_list_users_in_the_list_format(app_ctx, client, admin_token):
    for n in range(4):
        make_user(f"学员{n}")

    body = client.get("/api/v1/users", headers=bearer(admin_token)).get_json()

    assert set(body) == {"items", "total", "page", "per_page"}
    assert (body["total"], body["page"], body["per_page"]) == (5, 1, 20)
    assert [u["name"] for u in body["items"]] == ["管理员", "学员0", "学员1", "学员2", "学员3"]
    assert body["items"][0]["roles"] == ["admin"]


def test_admins_search_and_page_through_users(app_ctx, client, admin_token):
    organisation = make_organisation()
    make_user(
        "王小明", email="xiaoming@example.org", phone="13800138000", organisation=organisation
    )
    make_user("李华", email="lihua@example.org", phone="13912345678")
    make_user("陈老师", roles=["trainer", "learner"], email="chen@example.org", phone="13700000001")

    def names(**params: object) -> list[str]:
        response = client.get("/api/v1/users", query_string=params, headers=bearer(admin_token))
        assert response.status_code == 200, response.get_json()
        return [u["name"] for u in response.get_json()["items"]]

    assert names(q="小明") == ["王小明"]
    assert names(q="13912") == ["李华"]
    assert names(q="CHEN@") == ["陈老师"]
    assert names(role="trainer") == ["陈老师"]
    assert names(role="learner") == ["王小明", "李华", "陈老师"]
    assert names(organisation_id=organisation.id) == ["王小明"]
    assert names(per_page=2, page=2) == ["李华", "陈老师"]
    page = client.get("/api/v1/users?per_page=2&page=2", headers=bearer(admin_token)).get_json()
    assert (page["total"], page["page"], page["per_page"]) == (4, 2, 2)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("per_page=101", "per_page"),
        ("per_page=0", "per_page"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("role=wizard", "role"),
        ("organisation_id=abc", "organisation_id"),
    ],
)
def test_bad_list_parameters_get_422(app_ctx, client, admin_token, query, field):
    error = assert_error(
        client.get(f"/api/v1/users?{query}", headers=bearer(admin_token)), 422, "validation_error"
    )
    assert field in error["fields"]


def test_the_user_list_needs_the_same_number_of_queries_for_many_users(
    app_ctx, client, admin_token, count_queries
):
    organisation = make_organisation()

    def queries() -> int:
        with count_queries() as statements:
            assert client.get("/api/v1/users", headers=bearer(admin_token)).status_code == 200
        return len([s for s in statements if s.strip().upper() not in TRANSACTION_CONTROL])

    make_user(organisation=organisation)
    queries()  # the first use of a token also records when it was used
    few = queries()
    for _ in range(15):
        make_user(organisation=organisation, roles=["learner", "trainer"])
    assert queries() == few


def test_admins_create_users(app_ctx, client, admin_token):
    organisation = make_organisation()
    response = client.post(
        "/api/v1/users",
        json={
            "name": "陈老师",
            "email": "Chen@Example.org",
            "phone": "+86 137 0000 0001",
            "password": "s3cret-pass",
            "roles": ["trainer", "learner"],
            "organisation_id": organisation.id,
        },
        headers=bearer(admin_token),
    )

    assert response.status_code == 201
    body = response.get_json()
    assert (body["email"], body["phone"]) == ("chen@example.org", "13700000001")
    assert body["roles"] == ["learner", "trainer"]
    assert body["organisation_id"] == organisation.id
    assert "password" not in body
    user = db.session.get(User, body["id"])
    assert user.roles == {Role.TRAINER, Role.LEARNER}
    admin_id = db.session.scalar(sa.select(User.id).where(User.email == "admin@example.org"))
    entry = db.session.scalar(
        sa.select(AuditLogEntry).where(
            AuditLogEntry.action == "user.create", AuditLogEntry.object_id == user.id
        )
    )
    assert entry.actor_id == admin_id


def test_a_created_user_is_a_learner_unless_roles_are_given(app_ctx, client, admin_token):
    response = client.post(
        "/api/v1/users",
        json={"name": "王小明", "phone": "13800138000", "password": "s3cret-pass"},
        headers=bearer(admin_token),
    )
    assert response.get_json()["roles"] == ["learner"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "chen@example.org", "password": "s3cret-pass"}, "name"),
        ({"name": "陈", "email": "chen@example.org"}, "password"),
        ({"name": "陈", "email": "not-an-email", "password": "s3cret-pass"}, "email"),
        ({"name": "陈", "phone": "12345", "password": "s3cret-pass"}, "phone"),
        ({"name": "陈", "email": "chen@example.org", "password": "short"}, "password"),
        ({"name": "陈", "password": "s3cret-pass"}, "phone"),
        (
            {"name": "陈", "email": "c@example.org", "password": "s3cret-pass", "roles": ["boss"]},
            "roles",
        ),
        ({"name": "陈", "email": "c@example.org", "password": "s3cret-pass", "roles": []}, "roles"),
        (
            {"name": "陈", "email": "c@example.org", "password": "s3cret-pass", "roles": "admin"},
            "roles",
        ),
        (
            {
                "name": "陈",
                "email": "c@example.org",
                "password": "s3cret-pass",
                "organisation_id": 999999,
            },
            "organisation_id",
        ),
        (
            {
                "name": "陈",
                "email": "c@example.org",
                "password": "s3cret-pass",
                "qualification_level": "guru",
            },
            "qualification_level",
        ),
        ({"name": ["陈"], "email": "c@example.org", "password": "s3cret-pass"}, "name"),
    ],
)
def test_invalid_new_users_get_422_naming_the_field(app_ctx, client, admin_token, body, field):
    response = client.post("/api/v1/users", json=body, headers=bearer(admin_token))
    error = assert_error(response, 422, "validation_error")
    assert field in error["fields"]
    assert count(User) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "TAKEN@example.org"}, "email"),
        ({"phone": "137-0000-0009"}, "phone"),
    ],
)
def test_a_duplicate_email_or_phone_gets_409(app_ctx, client, admin_token, body, field):
    make_user(email="taken@example.org", phone="13700000009")
    response = client.post(
        "/api/v1/users",
        json={"name": "陈老师", "password": "s3cret-pass", **body},
        headers=bearer(admin_token),
    )
    error = assert_error(response, 409, "conflict")
    assert set(error["fields"]) == {field}
    assert count(User) == 2


def test_a_duplicate_that_slips_past_the_check_still_gets_409(
    app_ctx, client, admin_token, monkeypatch
):
    """Two requests with the same e-mail at the same moment: the database decides."""
    make_user(email="taken@example.org")
    monkeypatch.setattr(accounts, "_ensure_unique", lambda *args, **kwargs: None)
    response = client.post(
        "/api/v1/users",
        json={"name": "陈老师", "email": "taken@example.org", "password": "s3cret-pass"},
        headers=bearer(admin_token),
    )
    assert_error(response, 409, "conflict")
    assert count(User) == 2
    assert client.get("/api/v1/me", headers=bearer(admin_token)).status_code == 200


# --- organisations --------------------------------------------------------------------------------


def test_anyone_lists_the_active_organisations(app_ctx, client):
    make_organisation("桂城社工服务中心", kind="community")
    make_organisation("南海社工协会")
    make_organisation("已停用机构", is_active=False)

    body = client.get("/api/v1/organisations").get_json()

    assert set(body) == {"items", "total", "page", "per_page"}
    assert body["total"] == 2
    assert {o["name"] for o in body["items"]} == {"桂城社工服务中心", "南海社工协会"}
    (guicheng,) = [o for o in body["items"] if o["name"] == "桂城社工服务中心"]
    assert guicheng["kind"] == "community"
    assert guicheng["is_active"] is True
    searched = client.get("/api/v1/organisations", query_string={"q": "桂城"}).get_json()
    assert [o["name"] for o in searched["items"]] == ["桂城社工服务中心"]
    paged = client.get("/api/v1/organisations?per_page=1&page=2").get_json()
    assert (len(paged["items"]), paged["total"], paged["page"]) == (1, 2, 2)
    assert_error(client.get("/api/v1/organisations?per_page=500"), 422)


def test_only_admins_create_organisations(app_ctx, client, learner_token):
    data = {"name": "桂城社工服务中心"}
    assert_error(client.post("/api/v1/organisations", json=data), 401)
    assert_error(
        client.post("/api/v1/organisations", json=data, headers=bearer(learner_token)), 403
    )
    assert count(Organisation) == 0


def test_admins_create_organisations(app_ctx, client, admin_token):
    response = client.post(
        "/api/v1/organisations",
        json={"name": "桂城社工服务中心", "kind": "community", "contact_name": "陈主任"},
        headers=bearer(admin_token),
    )
    assert response.status_code == 201
    body = response.get_json()
    assert (body["name"], body["kind"], body["contact_name"]) == (
        "桂城社工服务中心",
        "community",
        "陈主任",
    )
    assert db.session.get(Organisation, body["id"]).name == "桂城社工服务中心"


def test_a_duplicate_organisation_name_gets_409(app_ctx, client, admin_token):
    make_organisation("桂城社工服务中心")
    response = client.post(
        "/api/v1/organisations", json={"name": "桂城社工服务中心"}, headers=bearer(admin_token)
    )
    error = assert_error(response, 409, "conflict")
    assert set(error["fields"]) == {"name"}
    assert count(Organisation) == 1


def test_a_duplicate_organisation_that_slips_past_the_check_still_gets_409(
    app_ctx, client, admin_token, monkeypatch
):
    make_organisation("桂城社工服务中心")
    monkeypatch.setattr(organisations, "_ensure_unique", lambda *args, **kwargs: None)
    response = client.post(
        "/api/v1/organisations", json={"name": "桂城社工服务中心"}, headers=bearer(admin_token)
    )
    assert_error(response, 409, "conflict")
    assert count(Organisation) == 1


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "   "}, {"name": "x" * 121}, {"name": "x", "kind": "bank"}],
)
def test_an_invalid_organisation_gets_422(app_ctx, client, admin_token, body):
    response = client.post("/api/v1/organisations", json=body, headers=bearer(admin_token))
    assert_error(response, 422, "validation_error")
    assert count(Organisation) == 0


# --- the error shape everywhere -------------------------------------------------------------------


def test_unknown_api_routes_and_methods_answer_in_the_error_shape(client):
    assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error(client.put("/api/v1/me"), 405, "method_not_allowed")
    assert_error(client.get("/api/v1/tokens"), 405, "method_not_allowed")


@pytest.mark.parametrize("who", ["anonymous", "learner", "admin"])
def test_no_api_route_answers_500_whatever_it_is_sent(app_ctx, client, who):
    headers = {} if who == "anonymous" else bearer(make_token(make_user(roles=[who])))
    paths = [
        rule.rule
        for rule in client.application.url_map.iter_rules()
        if rule.rule.startswith("/api/v1") and not rule.arguments
    ]
    assert "/api/v1/tokens" in paths
    bodies = [None, b"not json", b"[]", b"{}", b"null", b'{"login": null, "password": null}']
    for path in paths:
        for method in ("GET", "POST", "DELETE", "PUT", "PATCH"):
            for body in bodies:
                response = client.open(
                    path, method=method, data=body, content_type="application/json", headers=headers
                )
                where = (method, path, body, response.get_data(as_text=True))
                assert response.status_code < 500, where
                if response.status_code >= 400:
                    assert_error(response, response.status_code)


# --- the OpenAPI document -------------------------------------------------------------------------


def api_operations(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(path in OpenAPI spelling, method) of every /api/v1 route registered on the app."""
    operations = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.rule.endswith("openapi.json"):
            continue
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<int:{argument}>", f"{{{argument}}}")
            path = path.replace(f"<{argument}>", f"{{{argument}}}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operations.add((path, method.lower()))
    return operations


def test_the_openapi_document_is_valid_and_covers_every_api_route(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()

    validate(spec)
    assert spec["openapi"].startswith("3.")
    documented = {
        (path, method)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert documented == api_operations(app)
    assert ("/api/v1/tokens", "post") in documented


def test_the_openapi_document_declares_bearer_auth_on_protected_operations(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    bearer_only = [{"bearerAuth": []}]
    assert spec["paths"]["/api/v1/me"]["get"]["security"] == bearer_only
    assert spec["paths"]["/api/v1/users"]["get"]["security"] == bearer_only
    assert spec["paths"]["/api/v1/users"]["post"]["security"] == bearer_only
    assert spec["paths"]["/api/v1/organisations"]["post"]["security"] == bearer_only
    assert "security" not in spec["paths"]["/api/v1/organisations"]["get"]
    assert "security" not in spec["paths"]["/api/v1/tokens"]["post"]


def test_the_openapi_document_describes_the_error_and_list_shapes(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    assert set(schemas["Error"]["properties"]) == {"error"}
    listing = spec["paths"]["/api/v1/users"]["get"]["responses"]["200"]
    ref = listing["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(schemas[ref]["properties"]) == {"items", "total", "page", "per_page"}
