"""Phone numbers and e-mail addresses: the one rule for each, used by accounts (which
refuse what breaks it, on the field) and by meeting reports (whose cells then simply
hold no contact).

A phone number is a mainland mobile number, kept in its 11-digit form: full-width
digits (as Chinese keyboards type them) count; spaces, dashes and brackets are ignored;
a ``+86``, ``0086`` or (on 13 digits) ``86`` prefix is dropped. An e-mail address is
one email-validator accepts (deliverability is not checked), kept in lower case.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

from courses.errors import ValidationFailed

_PHONE_JUNK = re.compile(r"[\s\-()（）]")
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")


def _phone_digits(raw: Any) -> str:
    phone = _PHONE_JUNK.sub("", unicodedata.normalize("NFKC", str(raw)))
    if phone.startswith("+86"):
        return phone[3:]
    if phone.startswith("0086"):
        return phone[4:]
    if phone.startswith("86") and len(phone) == 13:
        return phone[2:]
    return phone


def mobile_number(raw: Any) -> str | None:
    """The 11-digit form of a mainland mobile number; None for anything else."""
    if raw is None:
        return None
    phone = _phone_digits(raw)
    return phone if _MOBILE.match(phone) else None


def normalise_phone(raw: str | None) -> str | None:
    """A phone number as stored (``mobile_number``); None when empty. Anything but a
    mainland mobile number is refused (``ValidationFailed`` on ``phone``)."""
    if raw is None or _phone_digits(raw) == "":
        return None
    phone = mobile_number(raw)
    if phone is None:
        raise ValidationFailed(
            fields={"phone": [_l("Enter an 11-digit mobile number, e.g. 13800138000.")]}
        )
    return phone


def normalise_email(raw: str | None) -> str | None:
    """An e-mail address as stored, in lower case; None when empty. A malformed one is
    refused (``ValidationFailed`` on ``email``)."""
    if raw is None or str(raw).strip() == "":
        return None
    try:
        result = validate_email(str(raw).strip(), check_deliverability=False)
    except EmailNotValidError:
        raise ValidationFailed(fields={"email": [_l("Enter a valid e-mail address.")]}) from None
    return result.normalized.lower()


def email_address(raw: Any) -> str | None:
    """An e-mail address as stored (``normalise_email``); None when empty or malformed."""
    try:
        return normalise_email(raw)
    except ValidationFailed:
        return None
