"""Bearer-token authentication for the API; the same permission rules as the pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, abort, after_this_request, g, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import gettext as _

from academy import transactions
from courses.models import User
from courses.services import tokens

BEARER = [{"bearerAuth": []}]


API_PREFIX = "/api/"


class PageSessionInterface(SecureCookieSessionInterface):
    """The signed cookie session, for the pages only.

    The API authenticates with bearer tokens alone: a session cookie never
    authenticates it. So its requests neither read nor write the cookie: they get an
    empty session that is never saved (its language comes from ``?lang=`` or the
    academy's default), and skip verifying and signing a cookie they do not use.
    """

    def open_session(self, app: Flask, request: Any) -> SecureCookieSession | None:
        if request.path.startswith(API_PREFIX):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        if request.path.startswith(API_PREFIX):
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.session_interface = PageSessionInterface()

    @app.before_request
    def load_api_user() -> None:
        if not request.path.startswith(API_PREFIX):
            return
        g.api_user = None
        g.api_token = None
        header = request.headers.get("Authorization", "")
        scheme, _sep, secret = header.partition(" ")
        if scheme.lower() == "bearer" and secret:
            reading = request.method in ("GET", "HEAD", "OPTIONS")
            found = tokens.authenticate(secret.strip(), touch=not reading)
            if found is not None:
                g.api_user, g.api_token = found
                if tokens.needs_touch(g.api_token):
                    if reading:
                        # After the view (it only reads); a hook for this request only.
                        after_this_request(_keep_last_used(app, g.api_token.id))
                    else:
                        tokens.touch(g.api_token.id)  # committed with the view's changes


def _keep_last_used(app: Flask, token_id: int) -> Callable[[Response], Response]:
    """Record the token's use after the view, in a short transaction of its own (the
    view's objects stay loaded). It is bookkeeping: a write lock that cannot be had
    right now (a reading request on SQLite while another request writes) skips it
    rather than failing the request, and a failed request (5xx) does not record it."""

    def keep(response: Response) -> Response:
        if response.status_code < 500:
            transactions.apart(
                lambda: tokens.touch(token_id),
                lambda message, error: app.logger.info("token last_used_at " + message, error),
            )
        return response

    return keep


def current_api_user() -> User:
    user = g.get("api_user")
    if user is None:
        abort(401, _("A valid bearer token is required: POST /api/v1/tokens to get one."))
    return user
