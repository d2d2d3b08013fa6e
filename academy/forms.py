"""Helpers shared by every form: choices from enums and domain errors shown on fields."""

from __future__ import annotations

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from courses.errors import DomainError
from courses.models import OrganisationKind, QualificationLevel, Role

QUALIFICATION_LABELS = {
    QualificationLevel.NONE: _l("None"),
    QualificationLevel.ASSISTANT: _l("Assistant social worker"),
    QualificationLevel.SOCIAL_WORKER: _l("Social worker"),
    QualificationLevel.SENIOR: _l("Senior social worker"),
}
ROLE_LABELS = {
    Role.LEARNER: _l("Learner"),
    Role.TRAINER: _l("Trainer"),
    Role.ADMIN: _l("Administrator"),
}
ORGANISATION_KIND_LABELS = {
    OrganisationKind.ORGANISATION: _l("Social organisation"),
    OrganisationKind.COMMUNITY: _l("Community"),
    OrganisationKind.GOVERNMENT: _l("Government office"),
    OrganisationKind.OTHER: _l("Other"),
}


def qualification_choices() -> list[tuple[str, object]]:
    return [(level.value, label) for level, label in QUALIFICATION_LABELS.items()]


def role_choices() -> list[tuple[str, object]]:
    return [(role.value, label) for role, label in ROLE_LABELS.items()]


def organisation_kind_choices() -> list[tuple[str, object]]:
    return [(kind.value, label) for kind, label in ORGANISATION_KIND_LABELS.items()]


#: Service field names and the form fields that show them when the names differ.
FIELD_ALIASES = {"organisation_id": "organisation", "password": "new_password"}


def show_errors(form: FlaskForm, error: DomainError) -> None:
    """Put a domain error's field messages on the form's fields; the rest is flashed."""
    unplaced = []
    for name, messages in error.fields.items():
        field = getattr(form, name, None)
        if field is None and name in FIELD_ALIASES:
            field = getattr(form, FIELD_ALIASES[name], None)
        if field is None:
            unplaced.extend(messages)
            continue
        field.errors = [*list(field.errors or []), *(str(m) for m in messages)]
    if unplaced or not error.fields:
        flash("；".join(str(m) for m in unplaced) or str(error.message), "error")
