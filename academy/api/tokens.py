from __future__ import annotations

from typing import Any

from flask import g
from flask_smorest import Blueprint

from academy.access import PUBLIC, USER, allow
from academy.api.auth import BEARER
from academy.api.schemas import ErrorSchema, TokenRequestSchema, TokenResponseSchema, UserSchema
from courses.services import accounts, tokens

blp = Blueprint(
    "api_tokens", __name__, url_prefix="/api/v1", description="Tokens and the current user"
)


@blp.post("/tokens")
@allow(PUBLIC)
@blp.arguments(TokenRequestSchema)
@blp.response(201, TokenResponseSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Wrong login or password")
def create_token(data: dict[str, Any]) -> dict[str, Any]:
    """Exchange a login (e-mail or phone) and password for a bearer token."""
    user = accounts.authenticate(data["login"], data["password"])
    secret, token = tokens.issue(user, name=data["name"])
    return {"token": secret, "expires_at": token.expires_at, "user": user}


@blp.delete("/tokens/current")
@allow(USER)
@blp.response(204)
@blp.doc(security=BEARER)
def revoke_current_token() -> None:
    """Revoke the token used for this request."""
    tokens.revoke(g.api_token)


@blp.get("/me")
@allow(USER)
@blp.response(200, UserSchema)
@blp.doc(security=BEARER)
def me() -> Any:
    """The current user with roles."""
    return g.api_user
