"""What every request must be before any view sees it: the one place for hostile input.

- A body larger than the route needs is refused with 413 before it is read: uploads
  (materials, meeting reports) may be as large as ACADEMY_MAX_UPLOAD_MB allows, every
  other request (JSON, forms) as large as ACADEMY_MAX_REQUEST_KB.
- Text no database can store — a NUL character (PostgreSQL refuses it in text) or a
  lone UTF-16 surrogate (not encodable as UTF-8) — is refused with 400
  ``invalid_text`` wherever it comes: path, query string, form or JSON body. SQLite
  would store a NUL; it is refused there too, so both behave alike.
- A JSON body nested deeper than any route needs (100,000 brackets exhaust the
  parser's stack), or holding ``NaN``/``Infinity``, is refused with 400 ``invalid_json``.
  Malformed JSON is left to the API's argument parser, which says so in its own words.
- A ``page`` or ``per_page`` beyond the database's integers is refused with 422
  (a page that large cannot exist; its offset would overflow the database).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from flask import Flask, request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, UnprocessableEntity

from courses.db import MAX_INTEGER

#: Routes that receive files: they keep the upload limit (MAX_CONTENT_LENGTH).
UPLOAD_ENDPOINTS = frozenset(
    {
        "materials.upload",
        "api_materials.upload_material",
        "meeting_reports.upload",
        "api_meeting_reports.upload_report",
        "admin.certificate_settings",  # the seal image (its own limit: 2 MB)
    }
)
#: Deeper than any body the API takes (a roll-call is a list of objects: depth 2).
MAX_JSON_DEPTH = 20
PAGE_ARGUMENTS = ("page", "per_page")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class InvalidText(BadRequest):
    api_code = "invalid_text"


class InvalidJSON(BadRequest):
    api_code = "invalid_json"


class RequestTooLarge(RequestEntityTooLarge):
    api_code = "too_large"


class PageOutOfRange(UnprocessableEntity):
    api_code = "validation_error"

    def __init__(self, name: str) -> None:
        message = _("There is no such page.")
        super().__init__(message)
        # The same shape as the API's argument errors: {"query": {"page": [...]}}.
        self.data = {"messages": {"query": {name: [message]}}}


def init_app(app: Flask) -> None:
    """Checks of what arrives before the body: its size, the path and the query string.
    Register first; ``init_body_checks`` after the caller is authorised."""

    @app.before_request
    def check_head() -> None:
        _limit_body(app)
        _check_text(_head_values())
        _check_pages()


def init_body_checks(app: Flask) -> None:
    """Checks of the body (form fields, file names, JSON): after ``academy.access``, so
    that a caller who may not call the route learns nothing from its body."""

    @app.before_request
    def check_body() -> None:
        _check_text(_body_values())
        if request.is_json and request.content_length != 0:
            _check_json(request.get_data(cache=True))


def _limit_body(app: Flask) -> None:
    if request.endpoint in UPLOAD_ENDPOINTS:
        limit = app.config["MAX_CONTENT_LENGTH"]
    else:
        limit = app.config["MAX_REQUEST_BYTES"]
    # Also bounds a body of unknown length (chunked) as it is read.
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise RequestTooLarge(
            _("The request is too large (%(kb)d KB at most).", kb=max(limit // 1024, 1))
        )


def _head_values() -> Iterable[str]:
    for value in (request.view_args or {}).values():
        if isinstance(value, str):
            yield value
    for key, value in request.args.items(multi=True):
        yield key
        yield value


def _body_values() -> Iterable[str]:
    for key, value in request.form.items(multi=True):
        yield key
        yield value
    for upload in request.files.values():
        yield upload.filename or ""


def _check_text(values: Iterable[str]) -> None:
    for value in values:
        if _UNSTORABLE.search(value):
            raise InvalidText(
                _("The request contains characters that cannot be stored (such as NUL).")
            )


def _check_pages() -> None:
    for name in PAGE_ARGUMENTS:
        value = request.args.get(name, "").strip()
        if value.lstrip("+-").isdigit() and abs(int(value)) > MAX_INTEGER:
            raise PageOutOfRange(name)


class _NotFinite(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NotFinite(name)


def _check_json(data: bytes) -> None:
    try:
        body = json.loads(data, parse_constant=_refuse_constant)
    except RecursionError:
        raise InvalidJSON(_("The JSON body is nested too deeply.")) from None
    except _NotFinite:
        raise InvalidJSON(_("The JSON body holds a number that is not finite.")) from None
    except ValueError:
        return  # malformed: the API's parser answers it in its own words
    _check_text(_json_strings(body))


def _json_strings(body: Any) -> Iterable[str]:
    """Every key and string of ``body``; too deep a nesting is refused on the way."""
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            yield value
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth > MAX_JSON_DEPTH:
            raise InvalidJSON(_("The JSON body is nested too deeply."))
        if isinstance(value, dict):
            yield from value.keys()
            stack.extend((item, depth + 1) for item in value.values())
        else:
            stack.extend((item, depth + 1) for item in value)
