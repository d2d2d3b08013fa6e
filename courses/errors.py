"""Domain errors. The web layer maps each to a flash message on pages and to
``{"error": {"code", "message"}}`` with ``status`` in the API, in one place."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    code = "domain_error"
    status = 422
    default_message: Any = _l("The request could not be carried out.")

    def __init__(
        self,
        message: Any = None,
        *,
        fields: dict[str, Any] | None = None,
        code: str | None = None,
        **details: Any,
    ):
        """``code`` overrides the class's code for one rule, e.g. ``sessions_overlap``."""
        if code is not None:
            self.code = code
        self.message = message if message is not None else self.default_message
        # Each field's messages as a list, whether one message or several were given.
        self.fields = {
            name: list(messages) if isinstance(messages, list | tuple) else [messages]
            for name, messages in (fields or {}).items()
        }
        self.details = details
        super().__init__(str(self.message))


class ValidationFailed(DomainError):
    code = "validation_error"
    status = 422
    default_message = _l("Some of the data is not valid.")


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = _l("Not found.")


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403
    default_message = _l("You do not have permission to do this.")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = _l("This conflicts with existing data.")


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 401
    default_message = _l("Wrong phone/e-mail or password.")


class AccountDisabled(DomainError):
    code = "account_disabled"
    status = 403
    default_message = _l("This account has been deactivated. Please contact the academy.")
