"""One rule for phone numbers and one for e-mail addresses, shared by accounts and by
meeting reports: a report's contact is spelt exactly as the learner's own."""

from __future__ import annotations

import pytest

from courses.errors import ValidationFailed
from courses.services import accounts, contacts
from courses.services.meeting_reports import values


@pytest.mark.parametrize(
    "raw",
    [
        "+86 138-0013-8000",
        "8613800138000",
        "0086 138 0013 8000",
        "１３８００１３８０００",
        13800138000,
    ],
)
def test_every_spelling_of_a_mobile_number_gives_the_stored_form(raw):
    assert contacts.mobile_number(raw) == "13800138000"
    assert accounts.normalise_phone(str(raw)) == "13800138000"


@pytest.mark.parametrize("raw", [None, "", "12345", "+1 415 555 0100", "23800138000", "phone"])
def test_anything_else_is_no_mobile_number(raw):
    assert contacts.mobile_number(raw) is None


def test_accounts_refuse_what_reports_simply_leave_out():
    with pytest.raises(ValidationFailed) as caught:
        contacts.normalise_phone("12345")
    assert set(caught.value.fields) == {"phone"}
    with pytest.raises(ValidationFailed) as caught:
        contacts.normalise_email("li@")
    assert set(caught.value.fields) == {"email"}
    assert values.phone_cell("12345") == (None, False)
    assert contacts.email_address("li@") is None


def test_a_report_cell_is_read_by_the_same_rule():
    assert values.phone_cell("'+86 138-0013-8000") == ("13800138000", False)
    assert values.phone_cell(13800138000.0) == ("13800138000", False)
    assert values.phone_cell("138****8000") == (None, True)
    assert values.phone_cell(None) == (None, False)
    assert contacts.email_address(" Li@Example.COM ") == "li@example.com"
    assert contacts.email_address(" Li@Example.COM ") == accounts.normalise_email(
        " Li@Example.COM "
    )
    assert contacts.email_address("") is None
    assert contacts.email_address("li wang@example.com") is None


def test_accounts_use_the_contacts_rules():
    assert accounts.normalise_phone is contacts.normalise_phone
    assert accounts.normalise_email is contacts.normalise_email
