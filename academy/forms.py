"""Helpers shared by every page with a form: choices from enums, and the one way a form
reaches a service (``submit``: validate → call the service → flash → redirect; a refusal
rolls back and is shown beside the form's fields)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast
from urllib.parse import urlsplit

from flask import flash, redirect, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from academy import transactions
from academy.errors import show_refusal
from courses.errors import DomainError
from courses.models import OrganisationKind, QualificationLevel, Role

QUALIFICATION_LABELS = {
    QualificationLevel.NONE: _l("None"),
    QualificationLevel.ASSISTANT: _l("Assistant social worker"),
    QualificationLevel.SOCIAL_WORKER: _l("Social worker"),
    QualificationLevel.SENIOR: _l("Senior social worker"),
}
ROLE_LABELS = {
    Role.LEARNER: _l("Learner"),
    Role.TRAINER: _l("Trainer"),
    Role.ADMIN: _l("Administrator"),
}
T = TypeVar("T")

ORGANISATION_KIND_LABELS = {
    OrganisationKind.ORGANISATION: _l("Social organisation"),
    OrganisationKind.COMMUNITY: _l("Community"),
    OrganisationKind.GOVERNMENT: _l("Government office"),
    OrganisationKind.OTHER: _l("Other"),
}


def qualification_choices() -> list[tuple[str, object]]:
    return [(level.value, label) for level, label in QUALIFICATION_LABELS.items()]


def role_choices() -> list[tuple[str, object]]:
    return [(role.value, label) for role, label in ROLE_LABELS.items()]


def organisation_kind_choices() -> list[tuple[str, object]]:
    return [(kind.value, label) for kind, label in ORGANISATION_KIND_LABELS.items()]


@dataclass(frozen=True)
class Attempt(Generic[T]):
    """What a service call gave: its answer, or the refusal (already shown)."""

    ok: bool
    value: T | None = None
    error: DomainError | None = None

    @property
    def code(self) -> str | None:
        """The refusal's code (``already_enrolled``), None when the call succeeded."""
        return self.error.code if self.error is not None else None


def attempt(
    call: Callable[[], T],
    form: FlaskForm | None = None,
    unshown: tuple[type[DomainError], ...] = (),
    news: frozenset[str] = frozenset(),
    beside: str | None = None,
) -> Attempt[T]:
    """Call one service. A refusal (``DomainError``) rolls the request back
    (``transactions.roll_back``) and is shown on ``form``'s fields or flashed
    (``errors.show_refusal``; the codes in ``news`` as information, one without field
    messages beside the field ``beside`` names), unless it is one
    of ``unshown`` (the page answers those itself); the page then shows itself again or
    redirects."""
    try:
        return Attempt(True, call())
    except DomainError as error:
        transactions.roll_back()
        if not isinstance(error, unshown):
            show_refusal(error, form, news, beside)
        return Attempt(False, error=error)


def submit(
    call: Callable[[], T],
    *,
    to: str | Callable[[T], str],
    done: Any = None,
    form: FlaskForm | None = None,
    refused_to: str | None = None,
    news: frozenset[str] = frozenset(),
    beside: str | None = None,
) -> Response | None:
    """A page's form, the one way: call the service (``attempt``), flash ``done`` and
    redirect to ``to`` (either may be a function of the service's answer). Refused:
    a redirect to ``refused_to`` when given, else None, and the view renders its form
    again with the messages beside the fields (a refusal without field messages beside
    the field ``beside`` names)."""
    outcome = attempt(call, form, news=news, beside=beside)
    if not outcome.ok:
        return redirect(refused_to) if refused_to is not None else None
    value = cast(T, outcome.value)
    message = done(value) if callable(done) else done
    if message:
        flash(str(message), "success")
    return redirect(to(value) if callable(to) else to)


def back_to(default: str) -> str:
    """The page a form asks to return to (its ``next`` field) when it is ours, else
    ``default``."""
    return same_site(request.form.get("next"), default)


def same_site(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site (``next`` after login, ``next`` of a
    form), else ``default``: "//host", "/\\host" and absolute URLs would leave it."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or urlsplit(target).netloc
    ):
        return default
    return target
