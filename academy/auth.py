"""Who is asking: Flask-Login for pages (who may call a route: ``academy.access``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request
from flask_babel import lazy_gettext as _l

from academy.extensions import login_manager
from courses.services import accounts

F = TypeVar("F", bound=Callable[..., Any])


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(nonce: str):  # type: ignore[no-untyped-def]
        return accounts.load_by_session_nonce(nonce)


def answers_json(view: F) -> F:
    """Declare a page-side endpoint that only scripts call (a heartbeat): its errors are
    answered in JSON whatever the request accepts."""
    view.answers_json = True  # type: ignore[attr-defined]
    return view


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "answers_json", False):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )
