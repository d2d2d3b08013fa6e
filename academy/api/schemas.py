"""Marshmallow schemas of the API; field names are fixed by SPEC §5."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import Schema, fields, validate

from courses.db import MAX_INTEGER
from courses.models import OrganisationKind, QualificationLevel, Role
from courses.services.courses.rules import TITLE_LENGTH

#: A row id as the database's integer ids hold it: a larger one is refused, not looked up.
DATABASE_ID = validate.Range(min=1, max=MAX_INTEGER)


class ErrorBodySchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    missing_prerequisites = fields.List(
        fields.Dict(),
        metadata={"description": "prerequisite_unmet: the courses to complete first, {id, title}"},
    )
    enrolment_id = fields.Integer(
        metadata={"description": "already_enrolled: the learner's existing enrolment"}
    )
    fields = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class ErrorSchema(Schema):
    """``{"error": {"code", "message", "fields"}}`` with a 4xx or 5xx status."""

    class Meta:
        name = "Error"

    error = fields.Nested(ErrorBodySchema, required=True)


class ListArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_INTEGER))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


def list_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "total": fields.Integer(required=True),
            "page": fields.Integer(required=True),
            "per_page": fields.Integer(required=True),
        },
        name=name,
    )


class OrganisationSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=TITLE_LENGTH))
    kind = fields.Enum(OrganisationKind, by_value=True, load_default=OrganisationKind.ORGANISATION)
    contact_name = fields.String(allow_none=True, validate=validate.Length(max=60))
    contact_phone = fields.String(allow_none=True, validate=validate.Length(max=20))
    is_active = fields.Boolean(dump_only=True)


class OrganisationRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    organisation_id = fields.Integer(allow_none=True)
    organisation = fields.Nested(OrganisationRefSchema, allow_none=True)
    qualification_level = fields.Enum(QualificationLevel, by_value=True)
    roles = fields.Method("dump_roles")
    is_active = fields.Boolean()
    created_at = fields.DateTime(format="iso")

    def dump_roles(self, user) -> list[str]:  # type: ignore[no-untyped-def]
        return sorted(role.value for role in user.roles)


class UserCreateSchema(Schema):
    name = fields.String(required=True)
    email = fields.String(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True)
    password = fields.String(required=True, load_only=True)
    roles = fields.List(fields.Enum(Role, by_value=True), load_default=lambda: [Role.LEARNER])
    organisation_id = fields.Integer(load_default=None, allow_none=True)
    qualification_level = fields.Enum(
        QualificationLevel, by_value=True, load_default=QualificationLevel.NONE
    )


class UserQuerySchema(ListArgsSchema):
    q = fields.String(load_default=None)
    role = fields.Enum(Role, by_value=True, load_default=None)
    organisation_id = fields.Integer(load_default=None, validate=DATABASE_ID)


class TokenRequestSchema(Schema):
    login = fields.String(required=True, metadata={"description": "e-mail or mobile number"})
    password = fields.String(required=True, load_only=True)
    name = fields.String(load_default="api", validate=validate.Length(max=80))


class TokenResponseSchema(Schema):
    token = fields.String(required=True)
    expires_at = fields.DateTime(format="iso", allow_none=True)
    user = fields.Nested(UserSchema, required=True)


def error_responses(blueprint: Any, descriptions: dict[int, str]) -> Callable[..., Any]:
    """A decorator factory documenting error answers: ``@errors(403, 404)`` adds an
    ``Error`` response per status, described by ``descriptions``."""

    def errors(*statuses: int) -> Callable[[Any], Any]:
        def decorator(view: Any) -> Any:
            for status in statuses:
                view = blueprint.alt_response(
                    status, schema=ErrorSchema, description=descriptions[status]
                )(view)
            return view

        return decorator

    return errors
