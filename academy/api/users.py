from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from academy.access import ADMIN, allow
from academy.api.auth import BEARER, current_api_user
from academy.api.schemas import (
    ErrorSchema,
    UserCreateSchema,
    UserQuerySchema,
    UserSchema,
    list_schema,
)
from courses.models import User
from courses.services import accounts

blp = Blueprint("api_users", __name__, url_prefix="/api/v1", description="Users (admin)")
UserListSchema = list_schema(UserSchema, "UserList")


@blp.get("/users")
@allow(ADMIN)
@blp.arguments(UserQuerySchema, location="query")
@blp.response(200, UserListSchema)
@blp.doc(security=BEARER)
def list_users(args: dict[str, Any]) -> dict[str, Any]:
    """List and search users (name, e-mail, phone), by role or organisation."""
    page = accounts.search_users(
        q=args["q"],
        role=args["role"],
        organisation_id=args["organisation_id"],
        page=args["page"],
        per_page=args["per_page"],
    )
    return {"items": page.items, "total": page.total, "page": page.page, "per_page": page.per_page}


@blp.post("/users")
@allow(ADMIN)
@blp.arguments(UserCreateSchema)
@blp.response(201, UserSchema)
@blp.alt_response(409, schema=ErrorSchema, description="E-mail or phone already registered")
@blp.doc(security=BEARER)
def create_user(data: dict[str, Any]) -> User:
    """Create a user with roles."""
    user = accounts.create_user(accounts.NewUser(**data), actor=current_api_user())
    return user
