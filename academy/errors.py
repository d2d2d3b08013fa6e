"""One place that turns errors into responses: Chinese pages or JSON errors.

Domain errors carry a code and a status; a database that cannot be reached gives
503 with Retry-After; anything unexpected is logged and rolled back, never leaked.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Flask,
    Response,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
)
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from academy.auth import wants_json
from academy.extensions import login_manager
from courses.db import db
from courses.errors import DomainError

RETRY_AFTER_SECONDS = 5


def json_error(status: int, code: str, message: Any, **extra: Any) -> tuple[Response, int]:
    body: dict[str, Any] = {"code": code, "message": str(message)}
    body.update({k: v for k, v in extra.items() if v})
    return jsonify(error=body), status


def _http_code(error: HTTPException) -> str:
    own = getattr(error, "api_code", None)  # academy.inputs: a code of its own
    if own:
        return own
    return {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        413: "too_large",
        415: "unsupported_media_type",
        422: "validation_error",
        429: "too_many_requests",
    }.get(error.code or 500, "error")


def _http_message(status: int) -> str:
    messages = {
        400: _("The request could not be understood."),
        401: _("Please log in first."),
        403: _("You do not have permission to see this page."),
        404: _("The page you asked for does not exist."),
        405: _("This method is not allowed here."),
        413: _("The upload is too large."),
        429: _("Too many attempts. Please wait a moment and try again."),
        500: _("Something went wrong on our side. Please try again later."),
        503: _("The service is temporarily unavailable. Please try again in a moment."),
    }
    return messages.get(status, _("The request could not be carried out."))


def _webargs_fields(error: HTTPException) -> dict[str, list[str]]:
    """Flatten webargs' ``{"json": {"field": ["msg"]}}`` into ``{"field": ["msg"]}``."""
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    fields: dict[str, list[str]] = {}
    if not isinstance(messages, dict):
        return fields
    for location, by_field in messages.items():
        if isinstance(by_field, dict):
            for name, msgs in by_field.items():
                fields[str(name)] = [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])]
        else:
            fields[str(location)] = [
                str(m) for m in (by_field if isinstance(by_field, list) else [by_field])
            ]
    return fields


def error_page(status: int, message: str | None = None) -> tuple[str, int]:
    return render_template(
        "errors/error.html", status=status, message=message or _http_message(status)
    ), status


#: Service field names and the form fields that show them when the names differ.
FIELD_ALIASES = {"organisation_id": "organisation", "password": "new_password"}
#: Refusals without fields that belong beside one field of the form that was sent.
FIELD_OF_CODE = {"invalid_credentials": "password"}


def show_refusal(
    error: DomainError,
    form: FlaskForm | None = None,
    news: frozenset[str] = frozenset(),
    beside: str | None = None,
) -> None:
    """A page shows a service's refusal: its field messages beside ``form``'s fields and
    the rest flashed; without a form, its own message (the field messages when it has
    only the generic one). A refusal without field messages goes beside the field
    ``beside`` names (the upload's file), or flashed. A refusal whose code is in ``news``
    is flashed as information (already enrolled), not as an error."""
    unplaced = []
    at = beside or FIELD_OF_CODE.get(error.code)
    fields = error.fields or ({at: [error.message]} if at and form is not None else {})
    for name, messages in fields.items():
        field = getattr(form, name, None) if form is not None else None
        if field is None and form is not None and name in FIELD_ALIASES:
            field = getattr(form, FIELD_ALIASES[name], None)
        if field is None:
            unplaced.extend(messages)
            continue
        field.errors = [*list(field.errors or []), *(str(m) for m in messages)]
    if unplaced or not fields:
        category = "info" if error.code in news else "error"
        flash(
            _refusal_text(error, unplaced if form is not None or _generic(error) else []), category
        )


def _generic(error: DomainError) -> bool:
    return str(error.message) == str(type(error).default_message)


def _refusal_text(error: DomainError, messages: list[Any]) -> str:
    return "；".join(str(m) for m in messages) or str(error.message)


def init_app(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(PoolTimeout, handle_database_unavailable)
    app.register_error_handler(DBAPIError, handle_internal_error)
    app.register_error_handler(500, handle_internal_error)


def handle_domain_error(error: DomainError) -> Any:
    """A service's refusal: its code, message and fields in JSON; on a page, flashed on
    the way back to the form (POST) or an error page. A view's refusal was rolled back
    by ``academy.transactions``; one from a request hook (``academy.access``) is here."""
    _safe_rollback()
    if wants_json():
        fields = {k: [str(m) for m in v] for k, v in error.fields.items()}
        return json_error(error.status, error.code, error.message, fields=fields, **error.details)
    flash(str(error.message), "error")
    return (
        redirect(request.referrer or "/")
        if request.method == "POST"
        else error_page(error.status, str(error.message))
    )


def handle_csrf_error(error: CSRFError) -> Any:
    message = _("The form has expired. Please reload the page and try again.")
    if wants_json():
        return json_error(400, "csrf_failed", message)
    return error_page(400, message)


def handle_http_error(error: HTTPException) -> Any:
    status = error.code or 500
    if wants_json():
        generic = type(error).description
        own = error.description and error.description != generic
        message = error.description if status < 500 and own else _http_message(status)
        response, status = json_error(
            status, _http_code(error), message, fields=_webargs_fields(error)
        )
        if isinstance(error.response, Response) and error.response.headers.get("Retry-After"):
            response.headers["Retry-After"] = error.response.headers["Retry-After"]
        return response, status
    # The input checks (academy.inputs) say what was wrong; other errors stay generic.
    return error_page(status, error.description if hasattr(error, "api_code") else None)


def handle_database_unavailable(error: Exception) -> Any:
    """The database cannot be reached or the pool is exhausted: 503 with Retry-After."""
    current_app.logger.warning("database unavailable: %s", error)
    _safe_rollback()
    # The page is shown as to a visitor: loading the user behind a login cookie would
    # ask the database that just failed, and turn this 503 into a 500.
    g._login_user = login_manager.anonymous_user()
    if wants_json():
        response, status = json_error(503, "unavailable", _http_message(503))
    else:
        response = current_app.make_response(error_page(503))
        status = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, status


def handle_internal_error(error: Exception) -> Any:
    original = getattr(error, "original_exception", error)
    current_app.logger.error("unhandled error", exc_info=original)
    _safe_rollback()
    if wants_json():
        return json_error(500, "internal_error", _http_message(500))
    return error_page(500)


def _safe_rollback() -> None:
    try:
        db.session.rollback()
    except Exception:
        db.session.remove()
