"""Admin pages: users (list, search, create, roles, activation) and organisations."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from courses.db import db
from courses.models import AuditLogEntry, Organisation, Role, User
from tests.factories import (
    DEFAULT_PASSWORD,
    bearer,
    make_admin,
    make_organisation,
    make_token,
    make_trainer,
    make_user,
)


@pytest.fixture
def admin(app_ctx) -> User:
    return make_admin(name="管理员", email="admin@example.org")


@pytest.fixture
def admin_client(admin, login_as):  # type: ignore[no-untyped-def]
    return login_as(admin)


TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK"}


def context_of(rendered: list[tuple[str, dict]], template: str) -> dict:
    contexts = [context for name, context in rendered if name == template]
    assert contexts, f"{template} was not rendered"
    return contexts[-1]


def listed(rendered: list[tuple[str, dict]]) -> list[str]:
    """Names of the users on the last user list page rendered."""
    return [user.name for user in context_of(rendered, "admin/users.html")["page"].items]


def audit(action: str) -> list[AuditLogEntry]:
    return list(
        db.session.scalars(
            sa.select(AuditLogEntry)
            .where(AuditLogEntry.action == action)
            .order_by(AuditLogEntry.id)
        )
    )


def fresh(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def is_logged_in(client) -> bool:  # type: ignore[no-untyped-def]
    return client.get("/login").status_code == 302


# --- who may enter -----------------------------------------------------------------------------


def admin_urls() -> list[tuple[str, str]]:
    return [
        ("GET", "/admin/users"),
        ("GET", "/admin/users/new"),
        ("POST", "/admin/users/new"),
        ("GET", "/admin/users/{user_id}"),
        ("POST", "/admin/users/{user_id}"),
        ("POST", "/admin/users/{user_id}/active"),
        ("POST", "/admin/users/{user_id}/external-hours"),
        ("POST", "/admin/users/{user_id}/external-hours/delete"),
        ("GET", "/admin/requirements"),
        ("POST", "/admin/requirements"),
        ("GET", "/admin/organisations"),
        ("POST", "/admin/organisations"),
        ("GET", "/admin/organisations/{organisation_id}"),
        ("POST", "/admin/organisations/{organisation_id}"),
        ("GET", "/admin/certificates"),
        ("GET", "/admin/certificates/settings"),
        ("POST", "/admin/certificates/settings"),
        ("GET", "/admin/certificates/{serial}"),
        ("POST", "/admin/certificates/{serial}/revoke"),
        ("POST", "/admin/certificates/{serial}/reissue"),
        ("GET", "/admin/outbox"),
        ("POST", "/admin/outbox/{event_id}/retry"),
    ]


def test_every_admin_url_is_registered_here(app):
    registered = {
        (method, rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}"))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/admin")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert registered == set(admin_urls())


@pytest.mark.parametrize("role", ["learner", "trainer", "anonymous"])
def test_only_admins_reach_any_admin_url(app, app_ctx, role):
    victim = make_user(name="学员甲")
    organisation = make_organisation("原机构")
    client = app.test_client()
    if role != "anonymous":
        user = make_user(roles=[role])
        client.post("/login", data={"login": user.email, "password": DEFAULT_PASSWORD})

    for method, template in admin_urls():
        url = template.format(
            user_id=victim.id,
            organisation_id=organisation.id,
            serial="GC-2025-000001-R",
            event_id=1,
        )
        data = {
            "name": "改名",
            "kind": "other",
            "roles-roles": ["admin"],
            "roles": ["admin"],
            "active": "0",
            "phone": "13700000000",
            "password": "s3cret-pass",
        }
        response = client.open(url, method=method, data=data if method == "POST" else None)
        if role == "anonymous":
            assert response.status_code == 302, (method, url)
            assert response.headers["Location"].startswith("/login?next="), (method, url)
        else:
            assert response.status_code == 403, (method, url)

    victim = fresh(victim)
    assert victim.roles == {Role.LEARNER}
    assert victim.is_active
    assert db.session.scalar(sa.select(Organisation.name)) == "原机构"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == (
        1 if role == "anonymous" else 2
    )


# --- listing and searching users ------------------------------------------------------------------


def test_admins_list_and_search_users(admin, admin_client, rendered):
    guicheng = make_organisation("桂城社工服务中心")
    make_user("王小明", email="xiaoming@example.org", phone="13800138000", organisation=guicheng)
    make_user("李华", email="lihua@example.org", phone="13912345678")
    make_user(name="陈老师", roles=["trainer"], email="chen@example.org", phone="13700000001")

    def search(**params: object) -> list[str]:
        response = admin_client.get("/admin/users", query_string=params)
        assert response.status_code == 200
        return listed(rendered)

    assert search() == ["管理员", "王小明", "李华", "陈老师"]
    assert search(q="小明") == ["王小明"]
    assert search(q="1391234") == ["李华"]
    assert search(q="LIHUA@") == ["李华"]
    assert search(role="trainer") == ["陈老师"]
    assert search(role="admin") == ["管理员"]
    assert search(organisation_id=guicheng.id) == ["王小明"]
    assert search(q="小明", role="trainer") == []
    assert context_of(rendered, "admin/users.html")["page"].total == 0


def test_an_unknown_role_filter_is_explained_not_an_error(admin_client, rendered, flashed):
    response = admin_client.get("/admin/users?role=wizard")
    assert response.status_code == 200
    assert listed(rendered) == ["管理员"]
    assert [category for category, _message in flashed] == ["error"]


def test_the_user_list_needs_the_same_number_of_queries_for_many_users(admin_client, count_queries):
    organisation = make_organisation()

    def queries_for_list() -> int:
        with count_queries() as statements:
            assert admin_client.get("/admin/users").status_code == 200
        return len([s for s in statements if s.strip().upper() not in TRANSACTION_CONTROL])

    make_user(organisation=organisation, roles=["learner", "trainer"])
    few = queries_for_list()
    for _ in range(20):
        make_user(organisation=organisation, roles=["learner", "trainer"])
    assert queries_for_list() == few


# --- creating users -------------------------------------------------------------------------------


def test_admins_create_users_with_roles(admin, admin_client):
    organisation = make_organisation()
    response = admin_client.post(
        "/admin/users/new",
        data={
            "name": "陈老师",
            "phone": "+86 137 0000 0001",
            "email": "chen@example.org",
            "organisation": str(organisation.id),
            "qualification_level": "senior_social_worker",
            "roles": ["trainer", "admin"],
            "password": "s3cret-pass",
        },
    )

    user = db.session.scalar(sa.select(User).where(User.email == "chen@example.org"))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/users/{user.id}"
    assert user.roles == {Role.TRAINER, Role.ADMIN}
    assert (user.phone, user.organisation_id) == ("13700000001", organisation.id)
    assert user.password_hash.startswith("$argon2")
    (entry,) = [e for e in audit("user.create") if e.object_id == user.id]
    assert entry.actor_id == admin.id
    assert admin_client.get(response.headers["Location"]).status_code == 200


def test_the_new_user_form_offers_a_learner_by_default(admin_client, rendered):
    assert admin_client.get("/admin/users/new").status_code == 200
    assert context_of(rendered, "admin/user_new.html")["form"].roles.data == ["learner"]


@pytest.mark.parametrize(
    ("posted", "field"),
    [
        ({"email": "taken@example.org"}, "email"),
        ({"phone": "13700000009"}, "phone"),
        ({"phone": "12345"}, "phone"),
        ({"roles": []}, "roles"),
        ({"roles": ["wizard"]}, "roles"),
        ({"password": "short"}, "password"),
        ({"name": ""}, "name"),
    ],
)
def test_a_refused_new_user_saves_nothing(admin_client, rendered, posted, field):
    make_user(email="taken@example.org", phone="13700000009")
    before = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    data = {
        "name": "陈老师",
        "email": "chen@example.org",
        "phone": "",
        "organisation": "0",
        "qualification_level": "none",
        "roles": ["trainer"],
        "password": "s3cret-pass",
    }
    data.update(posted)

    response = admin_client.post("/admin/users/new", data=data)

    assert response.status_code == 200
    assert field in context_of(rendered, "admin/user_new.html")["form"].errors
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == before


# --- roles ----------------------------------------------------------------------------------------


def test_admins_change_roles_and_the_change_is_audited(admin, admin_client):
    user = make_user()
    response = admin_client.post(f"/admin/users/{user.id}", data={"roles-roles": ["trainer"]})

    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/users/{user.id}"
    assert fresh(user).roles == {Role.TRAINER}
    (entry,) = audit("user.set_roles")
    assert (entry.actor_id, entry.object_id) == (admin.id, user.id)
    assert entry.data == {"before": ["learner"], "after": ["trainer"]}


def test_the_user_page_shows_the_current_roles(admin_client, rendered):
    user = make_user(roles=["trainer", "learner"])
    assert admin_client.get(f"/admin/users/{user.id}").status_code == 200
    form = context_of(rendered, "admin/user_detail.html")["roles_form"]
    assert form.roles.data == ["learner", "trainer"]


def test_a_user_cannot_be_left_without_roles(admin_client, rendered):
    user = make_user()
    response = admin_client.post(f"/admin/users/{user.id}", data={})
    assert response.status_code == 200
    assert "roles" in context_of(rendered, "admin/user_detail.html")["roles_form"].errors
    assert fresh(user).roles == {Role.LEARNER}
    assert audit("user.set_roles") == []


def test_an_admin_cannot_remove_their_own_admin_role(admin, admin_client, rendered):
    response = admin_client.post(f"/admin/users/{admin.id}", data={"roles-roles": ["learner"]})
    assert response.status_code == 200
    assert "roles" in context_of(rendered, "admin/user_detail.html")["roles_form"].errors
    assert fresh(admin).roles == {Role.ADMIN}
    assert admin_client.get("/admin/users").status_code == 200


def test_a_new_admin_can_use_the_admin_pages_at_once(app, admin_client):
    user = make_user(email="promoted@example.org")
    promoted = app.test_client()
    promoted.post("/login", data={"login": "promoted@example.org", "password": DEFAULT_PASSWORD})
    assert promoted.get("/admin/users").status_code == 403

    admin_client.post(f"/admin/users/{user.id}", data={"roles-roles": ["learner", "admin"]})

    assert promoted.get("/admin/users").status_code == 200


def test_unknown_users_and_organisations_are_404(admin_client):
    assert admin_client.get("/admin/users/999999").status_code == 404
    assert admin_client.get("/admin/organisations/999999").status_code == 404


# --- activation -----------------------------------------------------------------------------------


def test_deactivating_a_user_ends_their_session_and_tokens_and_is_audited(app, admin, admin_client):
    user = make_user(email="wang@example.org")
    secret = make_token(user)
    their_client = app.test_client()
    their_client.post("/login", data={"login": "wang@example.org", "password": DEFAULT_PASSWORD})
    assert is_logged_in(their_client)

    response = admin_client.post(f"/admin/users/{user.id}/active", data={"active": "0"})

    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/users/{user.id}"
    assert not fresh(user).is_active
    assert not is_logged_in(their_client)
    assert their_client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    relogin = their_client.post(
        "/login", data={"login": "wang@example.org", "password": DEFAULT_PASSWORD}
    )
    assert relogin.status_code == 200
    assert [(e.actor_id, e.object_id) for e in audit("user.deactivate")] == [(admin.id, user.id)]

    admin_client.post(f"/admin/users/{user.id}/active", data={"active": "1"})

    assert fresh(user).is_active
    assert [e.object_id for e in audit("user.activate")] == [user.id]
    again = their_client.post(
        "/login", data={"login": "wang@example.org", "password": DEFAULT_PASSWORD}
    )
    assert again.status_code == 302


def test_an_admin_cannot_deactivate_themselves(admin, admin_client, flashed):
    response = admin_client.post(f"/admin/users/{admin.id}/active", data={"active": "0"})
    assert response.status_code == 302
    assert fresh(admin).is_active
    assert [category for category, _message in flashed] == ["error"]
    assert is_logged_in(admin_client)


def test_activation_is_post_only(admin_client):
    user = make_user()
    assert admin_client.get(f"/admin/users/{user.id}/active").status_code == 405
    assert fresh(user).is_active


# --- organisations --------------------------------------------------------------------------------


def test_admins_create_organisations(admin, admin_client, rendered):
    response = admin_client.post(
        "/admin/organisations",
        data={
            "name": "桂城街道社工站",
            "kind": "community",
            "contact_name": "陈主任",
            "contact_phone": "0757-8888 0000",
        },
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/organisations"
    organisation = db.session.scalar(sa.select(Organisation))
    assert (organisation.name, organisation.kind, organisation.contact_name) == (
        "桂城街道社工站",
        "community",
        "陈主任",
    )
    assert [(e.actor_id, e.object_id) for e in audit("organisation.create")] == [
        (admin.id, organisation.id)
    ]
    admin_client.get("/admin/organisations")
    page = context_of(rendered, "admin/organisations.html")["page"]
    assert [o.name for o in page.items] == ["桂城街道社工站"]


def test_the_organisation_list_shows_inactive_ones_too_and_searches(admin_client, rendered):
    make_organisation("桂城社工服务中心")
    make_organisation("桂城旧机构", is_active=False)
    make_organisation("南海社工协会")
    admin_client.get("/admin/organisations", query_string={"q": "桂城"})
    page = context_of(rendered, "admin/organisations.html")["page"]
    assert sorted(o.name for o in page.items) == sorted(["桂城社工服务中心", "桂城旧机构"])


def test_admins_edit_and_deactivate_an_organisation(admin, admin_client, rendered):
    organisation = make_organisation("桂城社工服务中心")
    assert admin_client.get(f"/admin/organisations/{organisation.id}").status_code == 200
    assert context_of(rendered, "admin/organisation_edit.html")["form"].name.data == (
        "桂城社工服务中心"
    )

    response = admin_client.post(
        f"/admin/organisations/{organisation.id}",
        data={"name": "桂城社工服务总站", "kind": "other", "contact_name": "", "contact_phone": ""},
    )

    assert response.status_code == 302
    db.session.expire_all()
    organisation = db.session.get(Organisation, organisation.id)
    assert (organisation.name, organisation.kind, organisation.is_active) == (
        "桂城社工服务总站",
        "other",
        False,  # an unticked "active" box deactivates it
    )
    assert [e.object_id for e in audit("organisation.update")] == [organisation.id]


def test_a_duplicate_organisation_name_is_refused(admin_client, rendered):
    first = make_organisation("桂城社工服务中心")
    second = make_organisation("南海社工协会")

    created = admin_client.post(
        "/admin/organisations", data={"name": "桂城社工服务中心", "kind": "organisation"}
    )
    assert created.status_code == 200
    assert "name" in context_of(rendered, "admin/organisations.html")["form"].errors

    renamed = admin_client.post(
        f"/admin/organisations/{second.id}",
        data={"name": first.name, "kind": "organisation", "is_active": "y"},
    )
    assert renamed.status_code == 200
    assert "name" in context_of(rendered, "admin/organisation_edit.html")["form"].errors

    names = sorted(db.session.scalars(sa.select(Organisation.name)))
    assert names == sorted(["桂城社工服务中心", "南海社工协会"])
    assert audit("organisation.create") == audit("organisation.update") == []


def test_an_organisation_needs_a_name(admin_client, rendered):
    response = admin_client.post("/admin/organisations", data={"name": "", "kind": "other"})
    assert response.status_code == 200
    assert "name" in context_of(rendered, "admin/organisations.html")["form"].errors
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 0


def test_trainers_are_not_admins(app_ctx, login_as):
    client = login_as(make_trainer())
    assert client.get("/admin/users").status_code == 403
