"""Rate limits on guessable secrets: passwords now, check-in codes later.

Only failed attempts count, per client address and per login name, so that a
class of learners behind one NAT can still all log in while guessing is slowed.
The store is in memory for the embedded default and Redis (ACADEMY_RATELIMIT_STORAGE_URL)
when several processes serve the site.
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

LIMITED_LOGIN_VIEWS = ("accounts.login", "api_tokens.create_token")


def _login_key() -> str:
    login = ""
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            login = str(body.get("login") or "")
    else:
        login = request.form.get("login", "")
    return f"{get_remote_address()}|{login.strip().lower()[:254]}"


def _failed(response: Response) -> bool:
    return response.status_code not in (201, 302)


def init_app(app: Flask) -> Limiter:
    """Attach a limiter of this app's own and limit the login views registered on it."""
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        enabled=app.config["RATELIMIT_ENABLED"],
        headers_enabled=True,
    )
    # The limiter's decorators hold only weak references to it, and a disabled limiter
    # does not register itself on the app: keep it alive for as long as the app lives.
    app.extensions["academy_limiter"] = limiter
    per_login = limiter.limit(
        app.config["LOGIN_RATE_LIMIT"],
        key_func=_login_key,
        methods=["POST"],
        deduct_when=_failed,
        scope="login",
    )
    per_address = limiter.limit(
        app.config["LOGIN_RATE_LIMIT_PER_ADDRESS"],
        methods=["POST"],
        deduct_when=_failed,
        scope="login-address",
    )
    for endpoint in LIMITED_LOGIN_VIEWS:
        app.view_functions[endpoint] = per_address(per_login(app.view_functions[endpoint]))
    return limiter
