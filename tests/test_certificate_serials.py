"""Certificate serials: readable, sequential per year, and a mistyped one is caught."""

from __future__ import annotations

import itertools

import pytest

from courses.db import db
from courses.services.certificates import serials
from courses.services.certificates.serials import MalformedSerial, Serial, WrongCheckCharacter


def test_the_serial_reads_prefix_year_sequence_and_check():
    assert str(Serial("GC", 2025, 123)) == "GC-2025-000123-7"
    assert str(Serial("GC", 2025, 123, 2)).startswith("GC-2025-000123-V2-")


def test_every_single_substitution_and_neighbour_swap_is_caught():
    good = str(Serial("GC", 2025, 123))
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    positions = [i for i, c in enumerate(good[:-2]) if c != "-"]
    for i in positions:
        for replacement in alphabet:
            if replacement == good[i] or (good[i].isdigit() != replacement.isdigit()):
                continue
            typo = good[:i] + replacement + good[i + 1 :]
            with pytest.raises(WrongCheckCharacter):
                serials.parse(typo)
    for i, j in itertools.pairwise(positions):
        if j == i + 1 and good[i] != good[j]:
            swapped = good[:i] + good[j] + good[i] + good[j + 1 :]
            with pytest.raises(WrongCheckCharacter):
                serials.parse(swapped)


@pytest.mark.parametrize(
    "typed",
    ["gc-2025-000123-7", " GC－2025－000123－7 ", "ＧＣ-2025-000123-7", "GC-2025-000 123-7"],
)
def test_what_people_type_is_normalised(typed):
    assert str(serials.parse(typed)) == "GC-2025-000123-7"


@pytest.mark.parametrize(
    "typed", ["", "hello", "GC-25-000123-7", "GC-2025-123-7", "GC-2025-000123-V1-7", "<script>"]
)
def test_malformed_serials_are_refused(typed):
    with pytest.raises(MalformedSerial) as refused:
        serials.parse(typed)
    assert refused.value.status == 404


def test_sequences_advance_per_year_and_never_repeat(app_ctx):
    first = [serials.next_serial(2025).sequence for _ in range(3)]
    other_year = serials.next_serial(2026).sequence
    db.session.commit()
    assert first == [1, 2, 3]
    assert other_year == 1
    assert serials.next_serial(2025).sequence == 4


def test_the_prefix_is_a_setting(app_ctx, app):
    app.config["CERTIFICATE_PREFIX"] = "NH"
    try:
        assert str(serials.next_serial(2025)).startswith("NH-2025-000001-")
    finally:
        app.config["CERTIFICATE_PREFIX"] = "GC"
