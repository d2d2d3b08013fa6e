"""Accounts, API tokens and organisations as services: the rules that pages, the API
and the command line all share."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from courses.db import db, utcnow
from courses.errors import (
    AccountDisabled,
    Conflict,
    InvalidCredentials,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from courses.models import ApiToken, AuditLogEntry, Organisation, QualificationLevel, Role, User
from courses.services import accounts, organisations, tokens
from courses.services.pagination import MAX_PER_PAGE, paginate
from tests.factories import DEFAULT_PASSWORD, make_admin, make_organisation, make_trainer, make_user


def new_user(**overrides: object) -> accounts.NewUser:
    values: dict[str, object] = {
        "name": "王小明",
        "password": "s3cret-pass",
        "email": "wang@example.org",
        "phone": "13800138000",
    }
    values.update(overrides)
    return accounts.NewUser(**values)  # type: ignore[arg-type]


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def audit_entries(action: str) -> list[AuditLogEntry]:
    return list(
        db.session.scalars(
            sa.select(AuditLogEntry)
            .where(AuditLogEntry.action == action)
            .order_by(AuditLogEntry.id)
        )
    )


# --- phone numbers and e-mail addresses ------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "+86 138 0013 8000",
        "+8613800138000",
        "0086 138-0013-8000",
        "8613800138000",
        "138 0013 8000",
        "(138) 0013-8000",
        "（138）00138000",
        " 13800138000 ",
    ],
)
def test_mainland_mobile_numbers_are_stored_in_their_11_digit_form(raw):
    assert accounts.normalise_phone(raw) == "13800138000"


@pytest.mark.parametrize("raw", [None, "", "   ", " - "])
def test_an_empty_phone_number_means_none(raw):
    assert accounts.normalise_phone(raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        "12345",
        "1380013800",
        "138001380001",
        "12800138000",
        "23800138000",
        "phone",
        "+1 415 555 0100",
    ],
)
def test_anything_but_a_mainland_mobile_number_is_refused_on_the_phone_field(raw):
    with pytest.raises(ValidationFailed) as caught:
        accounts.normalise_phone(raw)
    assert set(caught.value.fields) == {"phone"}


def test_email_addresses_are_trimmed_and_lowercased():
    assert accounts.normalise_email("  Wang.XiaoMing@Example.ORG ") == "wang.xiaoming@example.org"
    assert accounts.normalise_email("") is None
    assert accounts.normalise_email(None) is None


@pytest.mark.parametrize("raw", ["not-an-email", "wang@", "@example.org", "wang@@example.org"])
def test_malformed_email_addresses_are_refused_on_the_email_field(raw):
    with pytest.raises(ValidationFailed) as caught:
        accounts.normalise_email(raw)
    assert set(caught.value.fields) == {"email"}


# --- creating accounts -------------------------------------------------------------------


def test_create_user_stores_normalised_contact_details_roles_and_an_argon2_hash(app_ctx):
    organisation = make_organisation("桂城社工服务中心")
    user = accounts.create_user(
        new_user(
            email=" Wang@Example.org",
            phone="+86 138 0013 8000",
            roles=["trainer", Role.LEARNER],
            organisation_id=organisation.id,
            qualification_level="social_worker",
        )
    )
    db.session.commit()

    stored = db.session.get(User, user.id)
    assert stored.email == "wang@example.org"
    assert stored.phone == "13800138000"
    assert stored.roles == {Role.TRAINER, Role.LEARNER}
    assert stored.organisation_id == organisation.id
    assert stored.qualification_level is QualificationLevel.SOCIAL_WORKER
    assert stored.is_active
    assert stored.password_hash.startswith("$argon2")
    assert "s3cret-pass" not in stored.password_hash


def test_create_user_writes_an_audit_entry_naming_the_admin(app_ctx):
    admin = make_admin()
    user = accounts.create_user(new_user(roles=["trainer"]), actor=admin)
    db.session.commit()

    (entry,) = [e for e in audit_entries("user.create") if e.object_id == user.id]
    assert entry.actor_id == admin.id
    assert entry.object_type == "user"
    assert entry.data == {"roles": ["trainer"]}


def test_every_invalid_field_is_reported_at_once_and_nothing_is_saved(app_ctx):
    before = count(User)
    with pytest.raises(ValidationFailed) as caught:
        accounts.create_user(
            new_user(
                name=" ",
                email="nope",
                phone="123",
                password="short",
                roles=["wizard"],
                qualification_level="guru",
            )
        )
    assert set(caught.value.fields) == {
        "name",
        "email",
        "phone",
        "password",
        "roles",
        "qualification_level",
    }
    db.session.rollback()
    assert count(User) == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": None, "phone": None}, "phone"),
        ({"name": "名" * 61}, "name"),
        ({"password": "x" * 7}, "password"),
        ({"password": "x" * 129}, "password"),
        ({"roles": []}, "roles"),
        ({"organisation_id": 999_999}, "organisation_id"),
    ],
)
def test_create_user_refuses_incomplete_or_out_of_range_data(app_ctx, overrides, field):
    with pytest.raises(ValidationFailed) as caught:
        accounts.create_user(new_user(**overrides))
    assert field in caught.value.fields
    db.session.rollback()
    assert count(User) == 0


def test_a_deactivated_organisation_cannot_be_chosen(app_ctx):
    organisation = make_organisation(is_active=False)
    with pytest.raises(ValidationFailed) as caught:
        accounts.create_user(new_user(organisation_id=organisation.id))
    assert "organisation_id" in caught.value.fields


def test_the_minimum_password_length_is_accepted(app_ctx):
    user = accounts.create_user(new_user(password="kx7-qm2p"[: accounts.MIN_PASSWORD_LENGTH]))
    assert user.id is not None


def test_an_email_registered_in_another_case_is_a_conflict(app_ctx):
    make_user(email="wang@example.org", phone="13900000001")
    with pytest.raises(Conflict) as caught:
        accounts.create_user(new_user(email="WANG@example.org", phone="13900000002"))
    assert set(caught.value.fields) == {"email"}
    db.session.rollback()
    assert count(User) == 1


def test_a_phone_registered_in_another_format_is_a_conflict(app_ctx):
    make_user(email="li@example.org", phone="13800138000")
    with pytest.raises(Conflict) as caught:
        accounts.create_user(new_user(email="wang@example.org", phone="+86 138-0013-8000"))
    assert set(caught.value.fields) == {"phone"}
    db.session.rollback()
    assert count(User) == 1


def test_self_registration_always_makes_a_learner(app_ctx):
    user = accounts.register(new_user(roles=["admin", "trainer"]))
    db.session.commit()
    assert db.session.get(User, user.id).roles == {Role.LEARNER}


# --- logging in ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "login", ["wang@example.org", "  WANG@Example.org ", "13800138000", "+86 138 0013 8000"]
)
def test_users_log_in_by_email_or_phone_in_any_usual_spelling(app_ctx, login):
    user = make_user(email="wang@example.org", phone="13800138000")
    assert accounts.authenticate(login, DEFAULT_PASSWORD).id == user.id


def test_logging_in_records_the_time(app_ctx):
    user = make_user()
    assert user.last_login_at is None
    accounts.authenticate(user.email, DEFAULT_PASSWORD)
    db.session.commit()
    assert db.session.get(User, user.id).last_login_at is not None


@pytest.mark.parametrize(
    ("login", "password"),
    [
        ("wang@example.org", "wrong-password"),
        ("wang@example.org", ""),
        ("nobody@example.org", DEFAULT_PASSWORD),
        ("13999999999", DEFAULT_PASSWORD),
        ("not a login", DEFAULT_PASSWORD),
        ("", DEFAULT_PASSWORD),
        (None, None),
    ],
)
def test_a_wrong_login_or_password_gives_the_same_error(app_ctx, login, password):
    make_user(email="wang@example.org")
    with pytest.raises(InvalidCredentials):
        accounts.authenticate(login, password)


def test_a_user_without_a_password_cannot_log_in(app_ctx):
    user = make_user()
    user.password_hash = None
    db.session.commit()
    with pytest.raises(InvalidCredentials):
        accounts.authenticate(user.email, DEFAULT_PASSWORD)


def test_a_deactivated_user_is_told_so_only_after_giving_the_right_password(app_ctx):
    user = make_user()
    user.is_active = False
    db.session.commit()
    with pytest.raises(InvalidCredentials):
        accounts.authenticate(user.email, "wrong-password")
    with pytest.raises(AccountDisabled):
        accounts.authenticate(user.email, DEFAULT_PASSWORD)


def test_a_hash_made_with_outdated_parameters_is_upgraded_on_login(app_ctx):
    user = make_user()
    old_hash = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(DEFAULT_PASSWORD)
    user.password_hash = old_hash
    db.session.commit()

    accounts.authenticate(user.email, DEFAULT_PASSWORD)
    db.session.commit()

    upgraded = db.session.get(User, user.id).password_hash
    assert upgraded != old_hash
    assert upgraded.startswith("$argon2")
    assert accounts.authenticate(user.email, DEFAULT_PASSWORD).id == user.id


# --- passwords and sessions -------------------------------------------------------------------


def test_changing_the_password_needs_the_current_one(app_ctx):
    user = make_user()
    old_hash, old_nonce = user.password_hash, user.session_nonce
    with pytest.raises(ValidationFailed) as caught:
        accounts.change_password(user, "wrong-password", "brand-new-pass")
    assert set(caught.value.fields) == {"current_password"}
    db.session.rollback()
    assert (user.password_hash, user.session_nonce) == (old_hash, old_nonce)


def test_a_new_password_must_be_long_enough(app_ctx):
    user = make_user()
    with pytest.raises(ValidationFailed) as caught:
        accounts.change_password(user, DEFAULT_PASSWORD, "short")
    assert set(caught.value.fields) == {"password"}


def test_changing_the_password_rotates_the_session_nonce(app_ctx):
    user = make_user()
    old_nonce = user.session_nonce
    accounts.change_password(user, DEFAULT_PASSWORD, "brand-new-pass")
    db.session.commit()

    assert user.session_nonce != old_nonce
    assert accounts.load_by_session_nonce(old_nonce) is None
    assert accounts.load_by_session_nonce(user.session_nonce).id == user.id
    with pytest.raises(InvalidCredentials):
        accounts.authenticate(user.email, DEFAULT_PASSWORD)
    assert accounts.authenticate(user.email, "brand-new-pass").id == user.id
    assert [e.object_id for e in audit_entries("user.change_password")] == [user.id]


def test_a_deactivated_user_is_not_loaded_from_a_session(app_ctx):
    user = make_user()
    user.is_active = False
    db.session.commit()
    assert accounts.load_by_session_nonce(user.session_nonce) is None


# --- profile -----------------------------------------------------------------------------------


def test_a_profile_update_normalises_and_checks_uniqueness_against_others_only(app_ctx):
    make_user(email="taken@example.org", phone="13900000009")
    user = make_user(email="wang@example.org", phone="13800138000")

    accounts.update_profile(
        user,
        name="王大明",
        email="WANG@example.org",
        phone="+86 138 0013 8000",
        organisation_id=None,
        qualification_level="assistant_social_worker",
    )
    db.session.commit()
    assert (user.name, user.email, user.phone) == ("王大明", "wang@example.org", "13800138000")
    assert user.qualification_level is QualificationLevel.ASSISTANT

    with pytest.raises(Conflict) as caught:
        accounts.update_profile(
            user,
            name="王大明",
            email="taken@example.org",
            phone="13800138000",
            organisation_id=None,
            qualification_level="none",
        )
    assert set(caught.value.fields) == {"email"}
    db.session.rollback()
    assert db.session.get(User, user.id).email == "wang@example.org"


def test_a_profile_cannot_lose_both_phone_and_email(app_ctx):
    user = make_user()
    with pytest.raises(ValidationFailed) as caught:
        accounts.update_profile(
            user, name="x", email="", phone="", organisation_id=None, qualification_level="none"
        )
    assert "phone" in caught.value.fields


# --- roles and activation ------------------------------------------------------------------------


def test_only_admins_change_roles_or_activation(app_ctx):
    trainer = make_trainer()
    learner = make_user()
    with pytest.raises(PermissionDenied):
        accounts.set_roles(trainer, learner, ["trainer"])
    with pytest.raises(PermissionDenied):
        accounts.set_active(trainer, learner, False)
    db.session.rollback()
    assert learner.roles == {Role.LEARNER}
    assert learner.is_active


def test_role_changes_are_audited_with_before_and_after(app_ctx):
    admin = make_admin()
    user = make_user()
    accounts.set_roles(admin, user, ["trainer", "learner"])
    db.session.commit()

    assert db.session.get(User, user.id).roles == {Role.TRAINER, Role.LEARNER}
    (entry,) = audit_entries("user.set_roles")
    assert (entry.actor_id, entry.object_id) == (admin.id, user.id)
    assert entry.data == {"before": ["learner"], "after": ["learner", "trainer"]}

    accounts.set_roles(admin, user, ["trainer"])
    db.session.commit()
    assert db.session.get(User, user.id).roles == {Role.TRAINER}


@pytest.mark.parametrize("roles", [[], ["wizard"]])
def test_a_user_keeps_at_least_one_known_role(app_ctx, roles):
    admin = make_admin()
    user = make_user()
    with pytest.raises(ValidationFailed) as caught:
        accounts.set_roles(admin, user, roles)
    assert set(caught.value.fields) == {"roles"}


def test_an_admin_cannot_remove_their_own_admin_role(app_ctx):
    admin = make_admin()
    with pytest.raises(ValidationFailed) as caught:
        accounts.set_roles(admin, admin, ["learner"])
    assert set(caught.value.fields) == {"roles"}
    db.session.rollback()
    assert db.session.get(User, admin.id).is_admin


def test_an_admin_cannot_deactivate_themselves(app_ctx):
    admin = make_admin()
    with pytest.raises(ValidationFailed):
        accounts.set_active(admin, admin, False)
    db.session.rollback()
    assert db.session.get(User, admin.id).is_active


def test_deactivation_ends_sessions_revokes_tokens_and_is_audited(app_ctx):
    admin = make_admin()
    user = make_user()
    secret, _token = tokens.issue(user)
    other_secret, _other = tokens.issue(admin)
    old_nonce = user.session_nonce
    db.session.commit()

    accounts.set_active(admin, user, False)
    db.session.commit()

    assert not db.session.get(User, user.id).is_active
    assert user.session_nonce != old_nonce
    assert accounts.load_by_session_nonce(user.session_nonce) is None
    assert tokens.authenticate(secret) is None
    assert tokens.authenticate(other_secret) is not None
    assert [(e.actor_id, e.object_id) for e in audit_entries("user.deactivate")] == [
        (admin.id, user.id)
    ]

    accounts.set_active(admin, user, True)
    db.session.commit()
    assert db.session.get(User, user.id).is_active
    assert [e.object_id for e in audit_entries("user.activate")] == [user.id]
    # Reactivation does not bring revoked tokens back.
    assert tokens.authenticate(secret) is None


def test_setting_the_same_activation_again_changes_and_audits_nothing(app_ctx):
    admin = make_admin()
    user = make_user()
    nonce = user.session_nonce
    accounts.set_active(admin, user, True)
    db.session.commit()
    assert user.session_nonce == nonce
    assert audit_entries("user.activate") == []


def test_get_user_raises_not_found_for_an_unknown_id(app_ctx):
    with pytest.raises(NotFound):
        accounts.get_user(999_999)


# --- searching users ------------------------------------------------------------------------------


def test_users_are_found_by_part_of_name_phone_or_email(app_ctx):
    wang = make_user("王小明", email="xiaoming@example.org", phone="13800138000")
    li = make_user("李华", email="Li.Hua@Example.org", phone="13912345678")

    def found(q: str) -> list[int]:
        return [u.id for u in accounts.search_users(q=q).items]

    assert found("小明") == [wang.id]
    assert found("0013") == [wang.id]
    assert found("li.hua") == [li.id]
    assert found("LI.HUA") == [li.id]
    assert found("example.org") == [wang.id, li.id]
    assert found("nobody") == []


def test_users_are_filtered_by_role_organisation_and_activity(app_ctx):
    organisation = make_organisation()
    learner = make_user(organisation=organisation)
    trainer = make_trainer()
    both = make_user(roles=["learner", "trainer"], organisation=organisation)
    inactive = make_user()
    inactive.is_active = False
    db.session.commit()

    def ids(**filters: object) -> set[int]:
        return {u.id for u in accounts.search_users(**filters).items}  # type: ignore[arg-type]

    assert ids(role="trainer") == {trainer.id, both.id}
    assert ids(role=Role.LEARNER) == {learner.id, both.id, inactive.id}
    assert ids(organisation_id=organisation.id) == {learner.id, both.id}
    assert ids(active=False) == {inactive.id}
    assert ids(role="trainer", organisation_id=organisation.id) == {both.id}


def test_an_unknown_role_filter_is_a_validation_error(app_ctx):
    with pytest.raises(ValidationFailed) as caught:
        accounts.search_users(role="wizard")
    assert set(caught.value.fields) == {"role"}


def test_user_search_is_paginated_with_a_total(app_ctx):
    users = [make_user() for _ in range(5)]
    page = accounts.search_users(page=2, per_page=2)
    assert [u.id for u in page.items] == [users[2].id, users[3].id]
    assert (page.total, page.page, page.per_page, page.pages) == (5, 2, 2, 3)
    assert page.has_prev and page.has_next


def test_pagination_clamps_page_and_page_size(app_ctx):
    make_user()
    page = paginate(sa.select(User).order_by(User.id), page=0, per_page=10_000)
    assert (page.page, page.per_page, page.total) == (1, MAX_PER_PAGE, 1)
    assert not page.has_prev and not page.has_next


# --- API tokens -----------------------------------------------------------------------------------


def test_a_token_secret_is_shown_once_and_only_its_digest_is_stored(app_ctx):
    user = make_user()
    secret, token = tokens.issue(user, name="手机")
    db.session.commit()

    assert secret.startswith(tokens.TOKEN_PREFIX)
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    row = db.session.execute(sa.select(ApiToken.__table__)).one()
    assert all(secret not in str(value) for value in row)
    assert token.expires_at - utcnow() > timedelta(days=89)
    assert tokens.authenticate(secret) == (user, token)


def test_using_a_token_records_when_it_was_last_used(app_ctx):
    secret, token = tokens.issue(make_user())
    db.session.commit()
    assert token.last_used_at is None
    assert tokens.needs_touch(token)
    _user, found = tokens.authenticate(secret)
    tokens.touch(found.id)
    db.session.commit()
    db.session.refresh(token)
    assert token.last_used_at is not None
    assert not tokens.needs_touch(token)


def test_a_lookup_for_a_writing_request_records_the_use_when_due(app_ctx, count_queries):
    """``touch=True``: on PostgreSQL the lookup itself records the use (no statement of its
    own) and the token then needs no touch; elsewhere the caller still touches."""
    secret, _token = tokens.issue(make_user())
    db.session.commit()
    postgresql = db.engine.dialect.name == "postgresql"
    with count_queries() as statements:
        _user, found = tokens.authenticate(secret, touch=True)
    assert len([s for s in statements if not s.startswith("BEGIN")]) == 1
    assert tokens.needs_touch(found) is not postgresql
    if not postgresql:
        tokens.touch(found.id)
    db.session.commit()
    first = db.session.scalar(sa.select(ApiToken.last_used_at))
    assert first is not None and utcnow() - first < timedelta(minutes=1)

    # Used a moment ago: not written again.
    db.session.expire_all()
    _user, found = tokens.authenticate(secret, touch=True)
    assert not tokens.needs_touch(found)
    db.session.commit()
    assert db.session.scalar(sa.select(ApiToken.last_used_at)) == first

    # Due again after five minutes.
    db.session.execute(sa.update(ApiToken).values(last_used_at=utcnow() - timedelta(minutes=6)))
    db.session.commit()
    _user, found = tokens.authenticate(secret, touch=True)
    if not postgresql:
        assert tokens.needs_touch(found)
        tokens.touch(found.id)
    db.session.commit()
    assert db.session.scalar(sa.select(ApiToken.last_used_at)) > first


def test_a_lookup_never_records_the_use_of_a_token_it_refuses(app_ctx):
    user, gone = make_user(), make_user()
    revoked_secret, revoked = tokens.issue(user)
    expired_secret, expired = tokens.issue(user)
    inactive_secret, _inactive = tokens.issue(gone)
    tokens.revoke(revoked)
    expired.expires_at = utcnow() - timedelta(seconds=1)
    gone.is_active = False
    db.session.commit()
    for secret in (revoked_secret, expired_secret, inactive_secret):
        assert tokens.authenticate(secret, touch=True) is None
    db.session.commit()
    assert db.session.scalars(sa.select(ApiToken.last_used_at)).all() == [None, None, None]


@pytest.mark.parametrize(
    "presented", [None, "", "acd_", "acd_not-the-secret", "no-prefix", "acd_" + "x" * 200]
)
def test_an_unknown_or_malformed_secret_authenticates_nobody(app_ctx, presented):
    tokens.issue(make_user())
    db.session.commit()
    assert tokens.authenticate(presented) is None


def test_revoked_and_expired_tokens_authenticate_nobody(app_ctx):
    user = make_user()
    revoked_secret, revoked = tokens.issue(user)
    expired_secret, expired = tokens.issue(user)
    forever_secret, _forever = tokens.issue(user, lifetime=None)
    tokens.revoke(revoked)
    expired.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    assert tokens.authenticate(revoked_secret) is None
    assert tokens.authenticate(expired_secret) is None
    assert tokens.authenticate(forever_secret) is not None


def test_a_password_change_revokes_the_users_tokens_only(app_ctx):
    user, other = make_user(), make_user()
    secret = tokens.issue(user)[0]
    others_secret = tokens.issue(other)[0]
    accounts.change_password(user, DEFAULT_PASSWORD, "brand-new-pass")
    db.session.commit()
    assert tokens.authenticate(secret) is None
    assert tokens.authenticate(others_secret) is not None


# --- organisations --------------------------------------------------------------------------------


def test_an_admin_creates_an_organisation_with_an_audit_entry(app_ctx):
    admin = make_admin()
    organisation = organisations.create(
        admin, name=" 桂城街道社工站 ", kind="community", contact_name=" 陈主任 ", contact_phone=""
    )
    db.session.commit()

    assert organisation.name == "桂城街道社工站"
    assert organisation.kind == "community"
    assert (organisation.contact_name, organisation.contact_phone) == ("陈主任", None)
    (entry,) = audit_entries("organisation.create")
    assert (entry.actor_id, entry.object_id) == (admin.id, organisation.id)


def test_only_admins_create_or_update_organisations(app_ctx):
    trainer = make_trainer()
    organisation = make_organisation("原名")
    with pytest.raises(PermissionDenied):
        organisations.create(trainer, name="新机构")
    with pytest.raises(PermissionDenied):
        organisations.update(
            trainer,
            organisation,
            name="改名",
            kind="other",
            contact_name=None,
            contact_phone=None,
            is_active=True,
        )
    db.session.rollback()
    assert [o.name for o in db.session.scalars(sa.select(Organisation))] == ["原名"]


@pytest.mark.parametrize(
    ("name", "kind", "field"),
    [("", None, "name"), ("名" * 121, None, "name"), ("x", "bank", "kind")],
)
def test_an_organisation_needs_a_name_and_a_known_kind(app_ctx, name, kind, field):
    with pytest.raises(ValidationFailed) as caught:
        organisations.create(make_admin(), name=name, kind=kind)
    assert field in caught.value.fields


def test_organisation_names_are_unique(app_ctx):
    admin = make_admin()
    first = make_organisation("桂城社工服务中心")
    second = make_organisation("南海社工协会")
    with pytest.raises(Conflict):
        organisations.create(admin, name="桂城社工服务中心 ")
    db.session.rollback()
    with pytest.raises(Conflict):
        organisations.update(
            admin,
            second,
            name=first.name,
            kind=None,
            contact_name=None,
            contact_phone=None,
            is_active=True,
        )
    db.session.rollback()
    # Saving an organisation under its own name is not a conflict.
    organisations.update(
        admin,
        first,
        name=first.name,
        kind="other",
        contact_name=None,
        contact_phone=None,
        is_active=False,
    )
    db.session.commit()
    assert count(Organisation) == 2
    assert not db.session.get(Organisation, first.id).is_active


def test_organisation_search_hides_inactive_ones_unless_asked(app_ctx):
    active = make_organisation("桂城社工服务中心")
    inactive = make_organisation("桂城旧机构", is_active=False)
    make_organisation("南海社工协会")

    assert [o.id for o in organisations.search(q="桂城").items] == [active.id]
    assert {o.id for o in organisations.search(q="桂城", include_inactive=True).items} == {
        active.id,
        inactive.id,
    }
    assert inactive.id not in {o.id for o in organisations.active_choices()}
    with pytest.raises(NotFound):
        organisations.get(999_999)
