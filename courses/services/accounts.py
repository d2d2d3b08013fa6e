"""Accounts: registration, authentication, passwords, roles, profiles, user search."""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import lazy_gettext as _l

from courses.db import database_id, db, utcnow
from courses.errors import (
    AccountDisabled,
    Conflict,
    InvalidCredentials,
    NotFound,
    ValidationFailed,
)
from courses.models import Organisation, QualificationLevel, Role, User, UserRole
from courses.models.users import new_session_nonce
from courses.services import audit, passwords, registration
from courses.services.contacts import normalise_email, normalise_phone
from courses.services.pagination import Page, paginate
from courses.services.permissions import require_admin
from courses.services.search import person_matches

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
_hasher = PasswordHasher()
# Verified against when no such user exists, so that timing does not reveal accounts.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


# --- normalisation and validation -------------------------------------------------


def normalise_login(login: str | None) -> str | None:
    """The account a login names, spelt as it is stored: the e-mail address in lower
    case or the 11-digit mobile number, however it was typed (``+86 138-0013-8000``,
    full-width digits, spaces, capitals); None when it can name no account. Logins and
    the per-account login limit both go by this."""
    text = unicodedata.normalize("NFKC", str(login or "")).strip()
    if not text or len(text) > 320:
        return None
    if "@" in text:
        try:
            return normalise_email(text)
        except ValidationFailed:
            return text.lower()
    try:
        return normalise_phone(text)
    except ValidationFailed:
        return None


def _check_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(fields={"name": [_l("Enter a name.")]})
    if len(name) > 60:
        raise ValidationFailed(
            fields={"name": [_l("The name is too long (60 characters at most).")]}
        )
    return name


def check_password_strength(
    password: str | None, *, email: str | None = None, phone: str | None = None
) -> str:
    """The password, if long enough and not too easy to guess (``passwords.weakness``:
    common, repeated or sequential, or the person's own phone number or e-mail name)."""
    if not password or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            fields={
                "password": [
                    _l("The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
                ]
            }
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed(fields={"password": [_l("The password is too long.")]})
    passwords.refuse_weak(password, email=email, phone=phone)
    return password


def use_fast_hashing_for_tests() -> None:
    """Cheap argon2 parameters: only for test suites that create many accounts."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    # The stand-in for unknown users must cost what a real check costs.
    _DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _organisation(organisation_id: int | None) -> Organisation | None:
    if organisation_id in (None, "", 0):
        return None
    found_id = database_id(organisation_id)
    organisation = db.session.get(Organisation, found_id) if found_id is not None else None
    if organisation is None or not organisation.is_active:
        raise ValidationFailed(fields={"organisation_id": [_l("Choose an existing organisation.")]})
    return organisation


def _ensure_unique(email: str | None, phone: str | None, exclude_id: int | None = None) -> None:
    fields: dict[str, list] = {}
    for column, value, message in (
        (User.email, email, _l("This e-mail address is already registered.")),
        (User.phone, phone, _l("This phone number is already registered.")),
    ):
        if value is None:
            continue
        statement = sa.select(User.id).where(column == value)
        if exclude_id is not None:
            statement = statement.where(User.id != exclude_id)
        if db.session.scalar(statement) is not None:
            fields[column.key] = [message]
    if fields:
        raise Conflict(_l("An account with these details already exists."), fields=fields)


# --- creating users -----------------------------------------------------------------


@dataclass(frozen=True)
class NewUser:
    name: str
    password: str
    email: str | None = None
    phone: str | None = None
    organisation_id: int | None = None
    qualification_level: QualificationLevel | str = QualificationLevel.NONE
    roles: Iterable[Role | str] = (Role.LEARNER,)


def _parse_roles(roles: Iterable[Role | str] | None) -> set[Role]:
    parsed: set[Role] = set()
    for role in roles or ():  # a form with no box ticked gives None
        try:
            parsed.add(Role(role))
        except ValueError:
            raise ValidationFailed(
                fields={"roles": [_l("Unknown role: %(role)s", role=role)]}
            ) from None
    if not parsed:
        raise ValidationFailed(fields={"roles": [_l("Give the user at least one role.")]})
    return parsed


def _parse_level(level: QualificationLevel | str | None) -> QualificationLevel:
    try:
        return QualificationLevel(level or QualificationLevel.NONE)
    except ValueError:
        raise ValidationFailed(
            fields={"qualification_level": [_l("Unknown qualification level.")]}
        ) from None


def _validate_person(*checks: tuple[str, Callable[[], object]]) -> dict[str, object]:
    """Run every check and report all bad fields at once; a person needs a phone or e-mail."""
    errors: dict[str, list] = {}
    values: dict[str, object] = {}
    for key, check in checks:
        try:
            values[key] = check()
        except ValidationFailed as error:
            errors.update(error.fields)
    if not errors and values["email"] is None and values["phone"] is None:
        errors["phone"] = [_l("Enter a mobile number or an e-mail address.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return values


def create_user(data: NewUser, *, actor: User | None = None) -> User:
    """Create an account. ``actor`` is the admin (or None for the CLI and self-registration)."""
    values = _validated(data)
    _ensure_unique(values["email"], values["phone"])  # type: ignore[arg-type]
    return _add_user(values, actor)


def _validated(data: NewUser) -> dict[str, object]:
    return _validate_person(
        ("name", lambda: _check_name(data.name)),
        ("email", lambda: normalise_email(data.email)),
        ("phone", lambda: normalise_phone(data.phone)),
        (
            "password",
            lambda: check_password_strength(data.password, email=data.email, phone=data.phone),
        ),
        ("organisation", lambda: _organisation(data.organisation_id)),
        ("qualification_level", lambda: _parse_level(data.qualification_level)),
        ("roles", lambda: _parse_roles(data.roles)),
    )


def _add_user(values: dict[str, object], actor: User | None) -> User:
    organisation = values["organisation"]
    user = User(
        name=values["name"],
        email=values["email"],
        phone=values["phone"],
        password_hash=hash_password(values["password"]),  # type: ignore[arg-type]
        organisation_id=organisation.id if organisation is not None else None,  # type: ignore[attr-defined]
        qualification_level=values["qualification_level"],
    )
    user.role_rows = [UserRole(role=role) for role in sorted(values["roles"])]  # type: ignore[call-overload, arg-type]
    db.session.add(user)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:  # the same details registered a moment ago, concurrently
        raise Conflict(_l("An account with these details already exists.")) from None
    audit.record(
        actor or user, "user.create", "user", user.id, roles=sorted(str(r) for r in user.roles)
    )
    return user


def register(data: NewUser) -> User | None:
    """Self-registration: always a learner, whatever roles were asked for.

    A phone number or e-mail address that already has an account creates nothing (None):
    its owner is told instead (``registration.tell_owners``), and the caller answers
    exactly as for a new account, so that registering reveals no one's account.
    """
    values = _validated(replace(data, roles=(Role.LEARNER,)))
    if registration.tell_owners(values["email"], values["phone"]):  # type: ignore[arg-type]
        # As long as making the account would have taken: the timing tells nothing either.
        hash_password(values["password"])  # type: ignore[arg-type]
        return None
    return _add_user(values, None)


# --- authentication -------------------------------------------------------------------


def find_by_login(login: str | None) -> User | None:
    """Look a user up by e-mail or mobile number, whichever ``login`` looks like."""
    account = normalise_login(login)
    if account is None:
        return None
    column = User.email if "@" in account else User.phone
    return db.session.scalar(sa.select(User).where(column == account))


def authenticate(login: str | None, password: str | None) -> User:
    """Return the user whose login and password match, or raise ``InvalidCredentials``."""
    user = find_by_login(login)
    if user is None or user.password_hash is None:
        _verify(_DUMMY_HASH, password or "")
        raise InvalidCredentials()
    if not _verify(user.password_hash, password or ""):
        raise InvalidCredentials()
    if not user.is_active:
        raise AccountDisabled()
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password or "")
    user.last_login_at = utcnow()
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change one's own password; every other session, remember-me cookie and API token
    stops working."""
    if user.password_hash is None or not _verify(user.password_hash, current_password or ""):
        raise ValidationFailed(
            fields={"current_password": [_l("The current password is not correct.")]}
        )
    check_password_strength(new_password, email=user.email, phone=user.phone)
    user.password_hash = hash_password(new_password)
    user.session_nonce = new_session_nonce()
    # Whoever knew the old password may have minted API tokens with it.
    from courses.services import tokens

    tokens.revoke_all(user)
    audit.record(user, "user.change_password", "user", user.id)


def load_by_session_nonce(nonce: str) -> User | None:
    user = db.session.scalar(sa.select(User).where(User.session_nonce == nonce))
    if user is None or not user.is_active:
        return None
    return user


# --- profile and administration --------------------------------------------------------


def update_profile(
    user: User,
    *,
    name: str,
    email: str | None,
    phone: str | None,
    organisation_id: int | None,
    qualification_level: QualificationLevel | str,
    actor: User | None = None,
) -> User:
    values = _validate_person(
        ("name", lambda: _check_name(name)),
        ("email", lambda: normalise_email(email)),
        ("phone", lambda: normalise_phone(phone)),
        ("organisation", lambda: _organisation(organisation_id)),
        ("qualification_level", lambda: _parse_level(qualification_level)),
    )
    _ensure_unique(values["email"], values["phone"], exclude_id=user.id)  # type: ignore[arg-type]
    organisation = values["organisation"]
    user.name = values["name"]  # type: ignore[assignment]
    user.email = values["email"]  # type: ignore[assignment]
    user.phone = values["phone"]  # type: ignore[assignment]
    user.organisation_id = organisation.id if organisation is not None else None  # type: ignore[attr-defined]
    user.qualification_level = values["qualification_level"]  # type: ignore[assignment]
    audit.record(actor or user, "user.update_profile", "user", user.id)
    return user


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such user."))
    return user


def set_roles(actor: User, user: User, roles: Iterable[Role | str]) -> User:
    require_admin(actor)
    wanted = _parse_roles(roles)
    if user.id == actor.id and Role.ADMIN not in wanted:
        raise ValidationFailed(fields={"roles": [_l("You cannot remove your own admin role.")]})
    before = sorted(str(r) for r in user.roles)
    user.role_rows = [row for row in user.role_rows if row.role in wanted] + [
        UserRole(role=role) for role in sorted(wanted - user.roles)
    ]
    audit.record(
        actor,
        "user.set_roles",
        "user",
        user.id,
        before=before,
        after=sorted(str(r) for r in wanted),
    )
    return user


def set_active(actor: User, user: User, active: bool) -> User:
    require_admin(actor)
    if user.id == actor.id and not active:
        raise ValidationFailed(_l("You cannot deactivate your own account."))
    if user.is_active != active:
        user.is_active = active
        if not active:
            user.session_nonce = new_session_nonce()
            from courses.services import tokens

            tokens.revoke_all(user)
        audit.record(actor, "user.activate" if active else "user.deactivate", "user", user.id)
    return user


def search_users(
    *,
    q: str | None = None,
    role: Role | str | None = None,
    organisation_id: int | None = None,
    active: bool | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[User]:
    statement = sa.select(User).order_by(User.id)
    if q and q.strip():
        statement = statement.where(person_matches(q.strip()))
    if role:
        try:
            wanted = Role(role)
        except ValueError:
            raise ValidationFailed(
                fields={"role": [_l("Unknown role: %(role)s", role=role)]}
            ) from None
        statement = statement.where(
            User.id.in_(sa.select(UserRole.user_id).where(UserRole.role == wanted))
        )
    if organisation_id:
        statement = statement.where(User.organisation_id == organisation_id)
    if active is not None:
        statement = statement.where(User.is_active.is_(active))
    return paginate(statement, page, per_page)
