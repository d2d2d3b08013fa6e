"""One commit point for every request, as a request handler of a mature web framework
has it (Indico's ``RH`` does the same).

``init_app`` wraps every view once the blueprints are registered:

- the view returns: its changes are committed, after the response was built (a page
  rendered, the API's reply serialised), so what the caller sees is what was stored;
- the view raises: everything is rolled back and the error goes to ``academy.errors``,
  the only place that turns errors into pages and JSON;
- a page that shows a refusal on its own form (``academy.forms.attempt``) has rolled
  back already (``roll_back``), and nothing after that is committed.

Views, API handlers and services never call ``commit()``: CLI commands and worker tasks
have their own single commit, around one service call each.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask, g, session
from sqlalchemy.exc import OperationalError

from academy.access import FRAMEWORK_ENDPOINTS
from courses.db import db


def init_app(app: Flask) -> None:
    for endpoint, view in list(app.view_functions.items()):
        if endpoint not in FRAMEWORK_ENDPOINTS:
            app.view_functions[endpoint] = _in_one_transaction(view)


def _in_one_transaction(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)  # keeps the view's declarations (academy.access)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            response = view(*args, **kwargs)
        except BaseException:
            _roll_back_quietly()
            raise
        if g.pop("_academy_rolled_back", False):
            db.session.rollback()
            return response
        try:
            _commit()
        except BaseException:
            # Nothing was kept: the page's "saved" must not show on the next page.
            session.pop("_flashes", None)
            _roll_back_quietly()
            raise
        return response

    return run


def _commit() -> None:
    db.session.commit()


def _roll_back_quietly() -> None:
    """Roll back without hiding the error being raised (a connection that failed may
    fail the rollback too: the session is then discarded)."""
    try:
        db.session.rollback()
    except Exception:
        db.session.remove()


def roll_back() -> None:
    """Undo the request's changes now (a refusal the page shows itself) and commit
    nothing more in this request."""
    db.session.rollback()
    g._academy_rolled_back = True


def apart(keep: Callable[[], None], log: Callable[[str, Exception], None]) -> None:
    """Run ``keep`` in a short transaction of its own, after the view: bookkeeping (a
    token's last use) that must neither hold a write lock during a reading request nor
    fail it. A lock that cannot be had right now skips it, and ``log`` says so."""
    try:
        keep()
        _commit()
    except OperationalError as error:
        db.session.rollback()
        log("not kept: %s", error)
