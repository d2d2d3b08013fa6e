from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields

from academy.access import ADMIN, PUBLIC, allow
from academy.api.auth import BEARER, current_api_user
from academy.api.schemas import ListArgsSchema, OrganisationSchema, list_schema
from courses.models import Organisation
from courses.services import organisations

blp = Blueprint("api_organisations", __name__, url_prefix="/api/v1", description="Organisations")
OrganisationListSchema = list_schema(OrganisationSchema, "OrganisationList")


class OrganisationQuerySchema(ListArgsSchema):
    q = fields.String(load_default=None)


@blp.get("/organisations")
@allow(PUBLIC)
@blp.arguments(OrganisationQuerySchema, location="query")
@blp.response(200, OrganisationListSchema)
def list_organisations(args: dict[str, Any]) -> dict[str, Any]:
    """Active organisations, by name (public: the registration form lists them too)."""
    page = organisations.search(q=args["q"], page=args["page"], per_page=args["per_page"])
    return {"items": page.items, "total": page.total, "page": page.page, "per_page": page.per_page}


@blp.post("/organisations")
@allow(ADMIN)
@blp.arguments(OrganisationSchema)
@blp.response(201, OrganisationSchema)
@blp.doc(security=BEARER)
def create_organisation(data: dict[str, Any]) -> Organisation:
    """Add an organisation (admin)."""
    organisation = organisations.create(current_api_user(), **data)
    return organisation
