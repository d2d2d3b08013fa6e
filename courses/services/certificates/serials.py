"""Certificate serials: ``GC-2025-000123-7``, or ``GC-2025-000123-V2-K`` for a re-issue.

The parts are a readable prefix (the ``CERTIFICATE_PREFIX`` setting, default ``GC``),
the year of issue, a sequence per prefix and year, the version when the certificate
was re-issued, and a check character (ISO 7064 MOD 37,36 over everything before it),
so that any single mistyped character and any swap of two neighbours is caught before
the database is asked.

Sequences come from ``certificate_counters``, advanced by one atomic upsert: two
workers issuing at the same moment never share a number.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from courses.db import db, dialect_statement
from courses.errors import NotFound
from courses.models import CertificateCounter

DEFAULT_PREFIX = "GC"
PREFIX_PATTERN = re.compile(r"^[A-Z]{1,6}$")
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_SERIAL = re.compile(r"^([A-Z]{1,6})-(\d{4})-(\d{6,9})(?:-V(\d{1,3}))?-([0-9A-Z])$")


class CertificateNotFound(NotFound):
    code = "certificate_not_found"
    default_message = _l("No certificate with this number has been issued by the academy.")


class MalformedSerial(NotFound):
    code = "malformed_serial"
    default_message = _l("This is not a certificate number, e.g. GC-2025-000123-7.")


class WrongCheckCharacter(NotFound):
    code = "wrong_check_character"
    default_message = _l(
        "This certificate number has a typing error: its last character does not match "
        "the others. Please check it against the certificate."
    )


@dataclass(frozen=True)
class Serial:
    prefix: str
    year: int
    sequence: int
    version: int = 1

    @property
    def body(self) -> str:
        version = f"-V{self.version}" if self.version > 1 else ""
        return f"{self.prefix}-{self.year:04d}-{self.sequence:06d}{version}"

    def __str__(self) -> str:
        return f"{self.body}-{check_character(self.body)}"


def check_character(body: str) -> str:
    """ISO 7064 MOD 37,36 (hybrid) over the letters and digits of ``body``."""
    modulus = len(_ALPHABET)
    product = modulus
    for char in body:
        if char == "-":
            continue
        total = (product + _ALPHABET.index(char)) % modulus or modulus
        product = (total * 2) % (modulus + 1)
    return _ALPHABET[(modulus + 1 - product) % modulus]


def normalise(text: str) -> str:
    """What a person typed or a scanner read, in canonical form: full-width letters and
    dashes folded (NFKC), spaces dropped, upper case."""
    folded = unicodedata.normalize("NFKC", text or "")
    folded = re.sub(r"[\s]+", "", folded).upper()
    return re.sub(r"[‐-―−－]", "-", folded)


def parse(text: str) -> Serial:
    """The serial in ``text``; MalformedSerial or WrongCheckCharacter otherwise."""
    value = normalise(text)
    match = _SERIAL.match(value)
    if match is None:
        raise MalformedSerial()
    prefix, year, sequence, version, check = match.groups()
    if version is not None and int(version) < 2:
        raise MalformedSerial()  # a first issue carries no version
    serial = Serial(prefix, int(year), int(sequence), int(version or 1))
    if check_character(serial.body) != check:
        raise WrongCheckCharacter()
    return serial


def prefix() -> str:
    value = current_app.config.get("CERTIFICATE_PREFIX") if has_app_context() else None
    return value or DEFAULT_PREFIX


@dialect_statement
def _advance(insert):  # type: ignore[no-untyped-def]
    table = CertificateCounter.__table__
    statement = insert(table).values(prefix=sa.bindparam("p"), year=sa.bindparam("y"), last_value=1)
    return statement.on_conflict_do_update(
        index_elements=[table.c.prefix, table.c.year],
        set_={"last_value": table.c.last_value + 1},
    ).returning(table.c.last_value)


def next_serial(year: int) -> Serial:
    """A new serial for ``year``, its sequence taken in the caller's transaction (the
    counter row stays locked until it ends, so keep that transaction short)."""
    chosen = prefix()
    sequence = db.session.execute(_advance(), {"p": chosen, "y": year}).scalar_one()
    return Serial(chosen, year, int(sequence))
