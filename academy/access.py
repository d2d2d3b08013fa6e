"""Who may call each route: one declaration per view, checked before the body is read.

Every view declares its audience, and the object it manages when it manages one::

    @bp.post("/manage/courses/<int:course_id>/status")
    @allow(STAFF, owns="course")
    def course_status(course_id: int): ...

A single ``before_request`` hook enforces the declaration for pages and API alike,
after the caller is identified (session cookie or bearer token) and before anything
reads the request's body (forms, JSON, CSRF): so an anonymous caller gets 401 (API)
or the login page, a learner calling a trainer's route 403, and another trainer's
course 403 (an unknown id 404) whatever the body holds. The ownership lookups are
the services' own (``courses.services.permissions.managed_*``), so a page, the API
and a service reach the same answer.

A view without a declaration is a mistake: ``check_declared`` refuses to start the
application, and ``tests/test_access_matrix.py`` reads the declarations of every
route and calls each with every kind of user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from flask import Flask, abort, g, request
from flask_babel import gettext as _
from flask_login import current_user

from academy.extensions import login_manager
from courses.errors import NotFound, PermissionDenied
from courses.models import Role, User
from courses.services import permissions

F = TypeVar("F", bound=Callable[..., Any])


class Audience(StrEnum):
    PUBLIC = "public"  # anyone, logged in or not
    USER = "user"  # any logged-in user
    STAFF = "staff"  # trainers and admins
    ADMIN = "admin"


PUBLIC, USER, STAFF, ADMIN = Audience.PUBLIC, Audience.USER, Audience.STAFF, Audience.ADMIN

#: What a route may manage: the URL argument that names it and the service lookup that
#: raises NotFound or PermissionDenied.
OWNERSHIP: dict[str, tuple[str, Callable[[User | None, int], Any]]] = {
    "course": ("course_id", permissions.managed_course),
    "session": ("session_id", permissions.managed_session),
    "programme": ("programme_id", permissions.managed_programme),
    "enrolment": ("enrolment_id", permissions.managed_enrolment),
    "import": ("import_id", permissions.managed_import),
    "material": ("material_id", permissions.managed_material),
}
#: Endpoints of the frameworks themselves: static files and the OpenAPI document.
FRAMEWORK_ENDPOINTS = frozenset({"static", "api-docs.openapi_json"})
ROLES = {STAFF: (Role.TRAINER, Role.ADMIN), ADMIN: (Role.ADMIN,)}


@dataclass(frozen=True)
class Access:
    audience: Audience
    owns: str | None = None

    def __post_init__(self) -> None:
        if self.owns is not None and self.owns not in OWNERSHIP:
            raise ValueError(f"unknown kind of object {self.owns!r}")
        if self.owns is not None and self.audience not in (STAFF, ADMIN):
            raise ValueError("only trainers and admins manage objects")


def allow(audience: Audience, *, owns: str | None = None) -> Callable[[F], F]:
    """Declare who may call the view (see the module's docstring)."""
    access = Access(audience, owns)

    def declare(view: F) -> F:
        view.access = access  # type: ignore[attr-defined]
        return view

    return declare


def declared(view: Callable[..., Any]) -> Access | None:
    return getattr(view, "access", None)


def check_declared(app: Flask) -> None:
    """Refuse to start with a route that does not say who may call it."""
    missing = sorted(
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint not in FRAMEWORK_ENDPOINTS and declared(view) is None
    )
    if missing:
        raise RuntimeError(f"routes without an access declaration: {', '.join(missing)}")
    for rule in app.url_map.iter_rules():
        access = declared(app.view_functions[rule.endpoint])
        if access is not None and access.owns is not None:
            argument = OWNERSHIP[access.owns][0]
            if argument not in rule.arguments:
                raise RuntimeError(f"{rule.rule} manages a {access.owns} but has no {argument}")


def init_app(app: Flask) -> None:
    """Register the check; call it after the caller is identified and before any hook
    that reads the body."""

    @app.before_request
    def authorise() -> Any:
        if request.endpoint is None or request.endpoint in FRAMEWORK_ENDPOINTS:
            return None  # routing answers 404/405 itself
        access = declared(app.view_functions[request.endpoint])
        if access is None:  # check_declared makes this unreachable
            abort(500)
        return _enforce(access)


def _caller() -> User | None:
    if request.path.startswith("/api/"):
        return g.get("api_user")
    return current_user if current_user.is_authenticated else None


def _enforce(access: Access) -> Any:
    if access.audience == PUBLIC:
        return None
    user = _caller()
    if user is None:
        if request.path.startswith("/api/"):
            abort(401, _("A valid bearer token is required: POST /api/v1/tokens to get one."))
        return login_manager.unauthorized()
    roles = ROLES.get(access.audience)
    if roles and not user.has_role(*roles):
        abort(403, _("You do not have permission to do this."))
    if access.owns is not None:
        argument, lookup = OWNERSHIP[access.owns]
        try:
            lookup(user, (request.view_args or {})[argument])
        except NotFound as error:
            abort(404, str(error.message))
        except PermissionDenied as error:
            abort(403, str(error.message))
    return None
