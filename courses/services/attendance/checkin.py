"""On-site check-in and check-out (签到 / 签退) by rotating QR code or fallback code.

The trainer opens check-in for a session (``open_checkin``): the session gets a random
secret and a 6-digit fallback code, and a window, by default from 30 minutes before the
start to 30 minutes after it. The trainer's screen shows a QR code of a link that
carries a token derived from the secret and the current 30-second step
(``HMAC-SHA256(secret, "<session id>:<step>")``, 16 base-32 characters); the token of
the current and of the previous step are accepted, nothing older, so a photo of the
screen is useless a minute later. Tokens are made and checked with the server's clock
only, so a phone whose clock is off does no harm.

A learner checks in inside the window, and checks out after checking in, until 30
minutes after the session's end (or the end of the window, if later). Checking in or
out twice changes nothing. Rules and codes (422 unless stated):

========================  ===========================================================
``checkin_not_open``      check-in was not opened, or its window has not begun (the
                          message says when it opens)
``checkin_closed``        the window (or, for check-out, the time after the end) is over
``invalid_token``         a token from an older step or another session
``invalid_code``          a wrong fallback code
``not_checked_in``        checking out without having checked in
``not_enrolled``          403: the learner is not enrolled in the course
``not_onsite``            the session is held only online or as a recording
========================  ===========================================================
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l

from courses.db import utcnow
from courses.errors import ValidationFailed
from courses.models import (
    AttendanceMethod,
    AttendanceRecord,
    AttendanceStatus,
    CourseSession,
    SessionMode,
    User,
)
from courses.services import attendance, audit
from courses.settings import to_local, within_years, years_message

STEP_SECONDS = 30
DEFAULT_BEFORE = timedelta(minutes=30)
DEFAULT_AFTER = timedelta(minutes=30)
CHECKOUT_AFTER_END = timedelta(minutes=30)
#: How long a token seen on arrival lets a learner finish logging in and check in: long
#: enough to log in on a phone, short enough that a pass handed on is soon worthless
#: (``attendance.passes`` also ties it to one learner and one use).
PRESENCE_PASS = timedelta(minutes=2)
CHECK_IN = "checkin"
CHECK_OUT = "checkout"
ONSITE_MODES = (SessionMode.OFFLINE, SessionMode.HYBRID)


def step_of(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def token_for(session: CourseSession, step: int) -> str:
    assert session.checkin_secret is not None
    digest = hmac.new(
        bytes.fromhex(session.checkin_secret), f"{session.id}:{step}".encode(), hashlib.sha256
    ).digest()
    return base64.b32encode(digest[:10]).decode()


@dataclass(frozen=True)
class CurrentToken:
    token: str
    expires_at: datetime  # when the next step begins (the token is accepted one step longer)


def current_token(actor: User, session: CourseSession, now: datetime | None = None) -> CurrentToken:
    """The token to show now (trainers of the course and admins)."""
    now = now or utcnow()
    attendance.require_session_manager(actor, session)
    if session.checkin_secret is None:
        raise ValidationFailed(
            _l("Check-in has not been opened for this session."), code="checkin_not_open"
        )
    step = step_of(now)
    expires = datetime.fromtimestamp((step + 1) * STEP_SECONDS, tz=now.tzinfo)
    return CurrentToken(token_for(session, step), expires)


def token_is_valid(session: CourseSession, token: str | None, now: datetime) -> bool:
    """Whether ``token`` is this session's token of the current or previous step."""
    if not token or session.checkin_secret is None:
        return False
    token = unicodedata.normalize("NFKC", token).strip().upper()
    if not token.isascii() or len(token) > 64:
        return False
    step = step_of(now)
    return any(hmac.compare_digest(token, token_for(session, s)) for s in (step, step - 1))


def normalise_code(code: str) -> str | None:
    """The code as six ASCII digits (full-width digits, as Chinese keyboards type them,
    count), or None."""
    typed = unicodedata.normalize("NFKC", code).strip().replace(" ", "")
    return typed if typed.isascii() and typed.isdigit() and len(typed) == 6 else None


def window(session: CourseSession) -> tuple[datetime, datetime]:
    opens = session.checkin_opens_at or session.starts_at - DEFAULT_BEFORE
    closes = session.checkin_closes_at or session.starts_at + DEFAULT_AFTER
    return opens, closes


def checkout_until(session: CourseSession) -> datetime:
    return max(session.ends_at + CHECKOUT_AFTER_END, window(session)[1])


def open_checkin(
    actor: User,
    session: CourseSession,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    now: datetime | None = None,
) -> CourseSession:
    """Open check-in (trainers of the course and admins): a new secret and fallback
    code, and the window (default 30 minutes either side of the start). Opening again
    replaces the code, so an old code passed around stops working."""
    attendance.require_session_manager(actor, session)
    if session.mode not in ONSITE_MODES:
        raise ValidationFailed(_l("This session is not held on site."), code="not_onsite")
    for name, moment in (("opens_at", opens_at), ("closes_at", closes_at)):
        if moment is not None and not within_years(moment):
            message = years_message()
            raise ValidationFailed(message, code="date_out_of_range", fields={name: [message]})
    opens = opens_at or session.starts_at - DEFAULT_BEFORE
    closes = closes_at or session.starts_at + DEFAULT_AFTER
    if closes <= opens:
        raise ValidationFailed(
            _l("The check-in window must end after it opens."),
            code="checkin_window_order",
            fields={"closes_at": _l("The check-in window must end after it opens.")},
        )
    if closes <= (now or utcnow()):
        raise ValidationFailed(
            _l("The check-in window would already be over."),
            code="checkin_window_past",
            fields={"closes_at": _l("The check-in window would already be over.")},
        )
    session.checkin_secret = secrets.token_hex(32)
    session.checkin_code = f"{secrets.randbelow(1_000_000):06d}"
    session.checkin_opens_at = opens_at
    session.checkin_closes_at = closes_at
    audit.record(
        actor,
        "checkin.opened",
        "course_session",
        session.id,
        opens_at=opens.isoformat(),
        closes_at=closes.isoformat(),
    )
    return session


def close_checkin(
    actor: User, session: CourseSession, now: datetime | None = None
) -> CourseSession:
    """End the check-in window now (check-out stays possible until after the end)."""
    now = now or utcnow()
    attendance.require_session_manager(actor, session)
    opens, closes = window(session)
    if closes > now:
        session.checkin_closes_at = max(now, opens + timedelta(seconds=1))
        audit.record(actor, "checkin.closed", "course_session", session.id)
    return session


@dataclass(frozen=True)
class CheckinResult:
    record: AttendanceRecord
    action: str  # CHECK_IN or CHECK_OUT
    already: bool  # nothing changed: done before


def _local_time(value: datetime) -> str:
    return to_local(value).strftime("%m-%d %H:%M")


def check(
    user: User,
    session: CourseSession,
    *,
    token: str | None = None,
    code: str | None = None,
    presence_seen_at: datetime | None = None,
    action: str = CHECK_IN,
    now: datetime | None = None,
) -> CheckinResult:
    """Check the learner in (or out) with a token of the QR code, the fallback code,
    or the time a valid token was seen on arrival (``presence_seen_at``, kept while
    the learner logged in; good for ``PRESENCE_PASS``)."""
    now = now or utcnow()
    closes = _require_open(session, action, now)
    method = _proof(session, token, code, presence_seen_at, now)
    enrolment = attendance.require_attendee(session, user)
    record = attendance.record_for(session, user.id, enrolment)
    if action == CHECK_IN:
        already = _check_in(user, session, record, method, closes, now)
    else:
        already = _check_out(session, record, now)
    if already:
        return CheckinResult(record, action, True)
    attendance.changed(record, session, enrolment, now)
    return CheckinResult(record, action, False)


def _require_open(session: CourseSession, action: str, now: datetime) -> datetime:
    """The action is known, the session is held on site, check-in was opened and (to
    check in) its window has begun. Returns when the window closes."""
    if action not in (CHECK_IN, CHECK_OUT):
        raise ValidationFailed(_l("Unknown check-in action."), code="invalid_action")
    if session.mode not in ONSITE_MODES:
        raise ValidationFailed(_l("This session is not held on site."), code="not_onsite")
    if session.checkin_secret is None:
        raise ValidationFailed(
            _l("Check-in has not been opened for this session yet."), code="checkin_not_open"
        )
    opens, closes = window(session)
    if action == CHECK_IN and now < opens:
        raise ValidationFailed(
            _l("Check-in opens at %(time)s.", time=_local_time(opens)),
            code="checkin_not_open",
            opens_at=opens.isoformat(),
        )
    return closes


def _check_in(
    user: User,
    session: CourseSession,
    record: AttendanceRecord,
    method: AttendanceMethod,
    closes: datetime,
    now: datetime,
) -> bool:
    """Record the arrival, unless the learner checked in before (returns True) or the
    window is over (``checkin_closed``)."""
    if record.checked_in_at is not None:
        return True
    if now > closes:
        raise ValidationFailed(
            _l("Check-in closed at %(time)s.", time=_local_time(closes)),
            code="checkin_closed",
        )
    record.checked_in_at = now
    if record.manual and record.status == AttendanceStatus.ABSENT:
        # Marked absent at roll-call, then came: the check-in is the better evidence.
        record.manual = False
        audit.record(
            user,
            "attendance.checked_in_after_mark",
            "attendance_record",
            record.id,
            session_id=session.id,
            before={"status": record.status.value, "minutes": record.minutes},
        )
    if not record.manual:
        record.method = method
    return False


def _check_out(session: CourseSession, record: AttendanceRecord, now: datetime) -> bool:
    """Record the departure of a learner who checked in, unless they checked out before
    (returns True) or the time for it is over (``checkin_closed``)."""
    if record.checked_in_at is None:
        raise ValidationFailed(_l("Check in first."), code="not_checked_in")
    if record.checked_out_at is not None:
        return True
    if now > checkout_until(session):
        raise ValidationFailed(
            _l("Check-out closed at %(time)s.", time=_local_time(checkout_until(session))),
            code="checkin_closed",
        )
    record.checked_out_at = max(now, record.checked_in_at)
    return False


def _proof(
    session: CourseSession,
    token: str | None,
    code: str | None,
    presence_seen_at: datetime | None,
    now: datetime,
) -> AttendanceMethod:
    if token:
        if token_is_valid(session, token, now):
            return AttendanceMethod.QR
        raise ValidationFailed(
            _l(
                "This QR code has expired or belongs to another session. "
                "Scan the code on the screen again."
            ),
            code="invalid_token",
        )
    if code:
        typed = normalise_code(code)
        if typed and session.checkin_code and hmac.compare_digest(typed, session.checkin_code):
            return AttendanceMethod.CODE
        raise ValidationFailed(_l("Wrong check-in code."), code="invalid_code")
    if presence_seen_at is not None and timedelta(0) <= now - presence_seen_at <= PRESENCE_PASS:
        return AttendanceMethod.QR
    raise ValidationFailed(
        _l("Scan the QR code on the screen, or enter the check-in code."), code="invalid_token"
    )
