"""Who is asking: Flask-Login for pages (who may call a route: ``academy.access``)."""

from __future__ import annotations

from flask import Flask, request
from flask_babel import lazy_gettext as _l

from academy.extensions import login_manager
from courses.services import accounts


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(nonce: str):  # type: ignore[no-untyped-def]
        return accounts.load_by_session_nonce(nonce)


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )
