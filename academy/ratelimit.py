"""Rate limits on guessable secrets: passwords and check-in codes; on registrations; and
on the public certificate verification (every lookup counts, per address:
VERIFY_RATE_LIMIT), so that serials cannot be walked through quickly.

Only failed attempts count: for logins per client address and per login name, so that
a class of learners behind one NAT can still all log in while guessing is slowed; for
check-in codes and tokens per learner (CHECKIN_RATE_LIMIT).
The store is in memory for the embedded default and Redis (ACADEMY_RATELIMIT_STORAGE_URL,
or else the broker's Redis) when several processes serve the site; should Redis be
down, each process counts in memory meanwhile rather than failing logins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from courses.services.accounts import normalise_login

log = logging.getLogger(__name__)

LIMITED_LOGIN_VIEWS = ("accounts.login", "api_tokens.create_token")
LIMITED_CHECKIN_VIEWS = ("attendance.checkin", "api_attendance.check_in")
LIMITED_REGISTER_VIEWS = ("accounts.register",)
LIMITED_VERIFY_VIEWS = (
    "certificates.verify",
    "certificates.verify_form",
    "api_certificates.verify",
)
LIMITED_VIEWS = frozenset(
    LIMITED_LOGIN_VIEWS + LIMITED_CHECKIN_VIEWS + LIMITED_REGISTER_VIEWS + LIMITED_VERIFY_VIEWS
)


def _login_key() -> str:
    login = ""
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            login = str(body.get("login") or "")
    else:
        login = request.form.get("login", "")
    # The account, however its phone or e-mail was written: one spelling, one counter.
    account = normalise_login(login) or login.strip().lower()
    return f"{get_remote_address()}|{account[:254]}"


def _failed(response: Response) -> bool:
    """A refused login; not a success, nor our own failure (503: the database is down)."""
    return response.status_code not in (201, 302) and response.status_code < 500


def _learner_key() -> str:
    """The learner (API token or page login); the address when neither is known."""
    from flask import g
    from flask_login import current_user

    user = g.get("api_user") or (current_user if current_user.is_authenticated else None)
    return f"user:{user.id}" if user is not None else f"address:{get_remote_address()}"


def _refused(response: Response) -> bool:
    return 400 <= response.status_code < 500


def init_app(app: Flask) -> Limiter:
    """Attach a limiter of this app's own and limit the login views registered on it."""
    storage_uri = app.config["RATELIMIT_STORAGE_URI"]
    _warn_if_counted_per_process(app, storage_uri)
    shared = not storage_uri.startswith("memory://")
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri=storage_uri,
        enabled=app.config["RATELIMIT_ENABLED"],
        headers_enabled=True,
        in_memory_fallback_enabled=shared,
        swallow_errors=shared,
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
    per_learner = limiter.limit(
        app.config["CHECKIN_RATE_LIMIT"],
        key_func=_learner_key,
        methods=["POST"],
        deduct_when=_refused,
        scope="checkin",
    )
    for endpoint in LIMITED_CHECKIN_VIEWS:
        app.view_functions[endpoint] = per_learner(app.view_functions[endpoint])
    # Registrations accepted (valid forms, answered alike whether the phone or e-mail
    # had an account) per address: slows both the probing of addresses and mass sign-ups.
    per_address_registering = limiter.limit(
        app.config["REGISTER_RATE_LIMIT"],
        methods=["POST"],
        deduct_when=lambda response: response.status_code == 302,
        scope="register",
    )
    for endpoint in LIMITED_REGISTER_VIEWS:
        app.view_functions[endpoint] = per_address_registering(app.view_functions[endpoint])
    _limit_verification(app, limiter)
    _only_for_views(app, limiter, LIMITED_VIEWS)
    return limiter


def _limit_verification(app: Flask, limiter: Limiter) -> None:
    """Every lookup of a certificate number counts, per address: one allowance for the
    page, its form and the API together."""
    per_address = limiter.shared_limit(
        app.config["VERIFY_RATE_LIMIT"], scope="verify", methods=["GET"]
    )
    for endpoint in LIMITED_VERIFY_VIEWS:
        app.view_functions[endpoint] = per_address(app.view_functions[endpoint])


def _warn_if_counted_per_process(app: Flask, storage_uri: str) -> None:
    """With a server database the site is likely served by several processes, and
    counters in memory would give each process its own allowance."""
    if not app.config["RATELIMIT_ENABLED"] or not storage_uri.startswith("memory://"):
        return
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    log.warning(
        "Rate limits (failed logins, check-in codes, registrations) are counted in each "
        "process's own memory: ACADEMY_RATELIMIT_STORAGE_URL is not set and there is no "
        "Redis broker (ACADEMY_BROKER_URL). With several processes every one of them "
        "allows the full limit. Set ACADEMY_RATELIMIT_STORAGE_URL=redis://host:6379/1 "
        "(or use a Redis broker) to share the counters."
    )


def _only_for_views(app: Flask, limiter: Limiter, views: frozenset[str]) -> None:
    """Run the limiter's request hooks for the limited views only.

    Only the views above are limited: there are no default or application-wide limits,
    and a limited view checks its limits in its own wrapper. The limiter still hooks
    every request (a check before it, headers and conditional deductions after it, a
    clean-up), which cost every other request a twentieth of its time for nothing;
    those requests now skip the hooks. For the limited views nothing changes.
    """

    def ours(hook: Callable[..., Any]) -> bool:
        if isinstance(hook, partial):
            return limiter in hook.args
        return getattr(hook, "__self__", None) is limiter

    def before(hook: Callable[[], Any]) -> Callable[[], Any]:
        return lambda: hook() if request.endpoint in views else None

    def after(hook: Callable[[Response], Response]) -> Callable[[Response], Response]:
        return lambda response: hook(response) if request.endpoint in views else response

    def teardown(hook: Callable[..., None]) -> Callable[..., None]:
        def run(error: BaseException | None = None) -> None:
            if request.endpoint in views:
                hook(error)

        return run

    for registry, wrap in (
        (app.before_request_funcs, before),
        (app.after_request_funcs, after),
        (app.teardown_request_funcs, teardown),
    ):
        hooks = registry.get(None, [])
        registry[None] = [wrap(hook) if ours(hook) else hook for hook in hooks]
