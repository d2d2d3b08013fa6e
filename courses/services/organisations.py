"""Organisations (机构 / 社区) that learners belong to."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.db import db
from courses.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from courses.models import Organisation, OrganisationKind, User
from courses.services import audit
from courses.services.courses.rules import TITLE_LENGTH
from courses.services.pagination import Page, paginate


def _clean(name: str | None, kind: OrganisationKind | str | None) -> tuple[str, OrganisationKind]:
    errors: dict[str, list] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_l("Enter the organisation's name.")]
    elif len(name) > TITLE_LENGTH:
        errors["name"] = [_l("The name is too long (120 characters at most).")]
    try:
        parsed_kind = OrganisationKind(kind or OrganisationKind.ORGANISATION)
    except ValueError:
        errors["kind"] = [_l("Unknown kind of organisation.")]
        parsed_kind = OrganisationKind.OTHER
    if errors:
        raise ValidationFailed(fields=errors)
    return name, parsed_kind


def _ensure_unique(name: str, exclude_id: int | None = None) -> None:
    statement = sa.select(Organisation.id).where(Organisation.name == name)
    if exclude_id is not None:
        statement = statement.where(Organisation.id != exclude_id)
    if db.session.scalar(statement) is not None:
        raise Conflict(
            _l("An organisation with this name already exists."),
            fields={"name": [_l("An organisation with this name already exists.")]},
        )


def create(
    actor: User | None,
    *,
    name: str,
    kind: OrganisationKind | str | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
) -> Organisation:
    if actor is not None and not actor.is_admin:
        raise PermissionDenied()
    name, parsed_kind = _clean(name, kind)
    _ensure_unique(name)
    organisation = Organisation(
        name=name,
        kind=parsed_kind,
        contact_name=(contact_name or "").strip() or None,
        contact_phone=(contact_phone or "").strip() or None,
    )
    db.session.add(organisation)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:  # the same name added a moment ago, concurrently
        raise Conflict(_l("An organisation with this name already exists.")) from None
    audit.record(actor, "organisation.create", "organisation", organisation.id, name=name)
    return organisation


def update(
    actor: User,
    organisation: Organisation,
    *,
    name: str,
    kind: OrganisationKind | str | None,
    contact_name: str | None,
    contact_phone: str | None,
    is_active: bool,
) -> Organisation:
    if not actor.is_admin:
        raise PermissionDenied()
    name, parsed_kind = _clean(name, kind)
    _ensure_unique(name, exclude_id=organisation.id)
    organisation.name = name
    organisation.kind = parsed_kind
    organisation.contact_name = (contact_name or "").strip() or None
    organisation.contact_phone = (contact_phone or "").strip() or None
    organisation.is_active = is_active
    audit.record(actor, "organisation.update", "organisation", organisation.id, name=name)
    return organisation


def get(organisation_id: int) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(_l("No such organisation."))
    return organisation


def active_choices() -> list[Organisation]:
    return list(
        db.session.scalars(
            sa.select(Organisation)
            .where(Organisation.is_active.is_(True))
            .order_by(Organisation.name)
        )
    )


def search(
    *, q: str | None = None, page: int = 1, per_page: int = 50, include_inactive: bool = False
) -> Page[Organisation]:
    statement = sa.select(Organisation).order_by(Organisation.name)
    if q:
        statement = statement.where(Organisation.name.like(f"%{q.strip()}%"))
    if not include_inactive:
        statement = statement.where(Organisation.is_active.is_(True))
    return paginate(statement, page, per_page)
