"""iCalendar (RFC 5545) feeds: one per published course, and a private one per learner.

The feeds are built with the ``icalendar`` package, which escapes TEXT values (commas,
semicolons, backslashes, newlines) and folds lines at 75 octets without splitting a
UTF-8 character. Times are written as local times of the academy's zone with a matching
VTIMEZONE, so calendar apps show the same wall-clock time as the pages do.

A learner's feed is reached by a secret token in its URL (calendar apps cannot log in);
the token is stored in ``users.calendar_token`` and can be rotated or revoked.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from icalendar import Calendar, Event, Timezone, vText
from sqlalchemy.orm import contains_eager

from courses.db import db, utcnow
from courses.errors import NotFound
from courses.models import (
    Course,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    PublicationStatus,
    SessionMode,
    User,
)
from courses.services import audit
from courses.settings import FIRST_YEAR, LAST_YEAR, local_zone, to_local

PRODID = "-//Social Work Academy//Academy//ZH"
UID_DOMAIN = "academy"
#: ``secrets.token_urlsafe(32)``: 32 random bytes, 43 URL-safe characters.
TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")
#: The learner feed shows sessions of these enrolments only.
FEED_ENROLMENT_STATUSES = (EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED)
#: ... of courses in these states (a draft is nobody's business yet).
FEED_COURSE_STATUSES = (PublicationStatus.PUBLISHED, PublicationStatus.ARCHIVED)
#: SEQUENCE counts seconds since this moment, so that it only grows as rows change.
_SEQUENCE_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


# --- feeds --------------------------------------------------------------------------


def published_course(course_id: int) -> Course:
    """The course whose public feed is asked for; drafts and archives are not found."""
    course = db.session.get(Course, course_id)
    if course is None or course.status != PublicationStatus.PUBLISHED:
        raise NotFound()
    return course


def course_feed(course: Course) -> bytes:
    """The timetable of one published course as an iCalendar file."""
    if course.status != PublicationStatus.PUBLISHED:
        raise NotFound()
    # A public feed: how to join online is for the course's own people only.
    return _calendar(course.title, [(course, s) for s in course.sessions], shows_meeting=False)


def learner_sessions(user: User) -> list[CourseSession]:
    """Sessions of the courses ``user`` is enrolled in or has completed, by start time."""
    statement = (
        sa.select(CourseSession)
        .join(CourseSession.course)
        .join(Enrolment, Enrolment.course_id == Course.id)
        .where(
            Enrolment.user_id == user.id,
            Enrolment.status.in_(FEED_ENROLMENT_STATUSES),
            Course.status.in_(FEED_COURSE_STATUSES),
        )
        .options(contains_eager(CourseSession.course))
        .order_by(CourseSession.starts_at, CourseSession.id)
    )
    return list(db.session.scalars(statement).unique())


def learner_feed(user: User) -> bytes:
    """A learner's own timetable as an iCalendar file."""
    sessions = learner_sessions(user)
    return _calendar(_("%(name)s's courses", name=user.name), [(s.course, s) for s in sessions])


def _calendar(
    name: str, entries: Sequence[tuple[Course, CourseSession]], shows_meeting: bool = True
) -> bytes:
    """The feed; ``shows_meeting`` says whether its reader may see meeting links and
    numbers (``permissions.can_see_meeting``: the learner feed lists only courses with
    a seat)."""
    zone = local_zone()
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", vText(name))
    calendar.add("x-wr-timezone", zone.key)
    calendar.add_component(_timezone(zone, entries))
    stamp = utcnow().replace(microsecond=0)
    for course, session in entries:
        calendar.add_component(_event(course, session, stamp, shows_meeting))
    return calendar.to_ical()


def _timezone(zone: ZoneInfo, entries: Sequence[tuple[Course, CourseSession]]) -> Timezone:
    """The VTIMEZONE of ``zone``, covering whole years around the feed's sessions (within
    the academy's years: a stored extreme such as year 9999 must not break the feed)."""
    if entries:
        first = _within_years(min(to_local(s.starts_at) for _c, s in entries).year)
        last = _within_years(max(to_local(s.ends_at) for _c, s in entries).year)
    else:
        first = last = utcnow().astimezone(zone).year
    return Timezone.from_tzid(
        zone.key, first_date=date(first, 1, 1), last_date=date(last + 1, 1, 1)
    )


def _within_years(year: int) -> int:
    return min(max(year, FIRST_YEAR), LAST_YEAR)


def event_uid(session: CourseSession) -> str:
    return f"session-{session.id}@{UID_DOMAIN}"


def _event(course: Course, session: CourseSession, stamp: datetime, shows_meeting: bool) -> Event:
    changed = max(course.updated_at, session.updated_at).replace(microsecond=0)
    event = Event()
    event.add("uid", event_uid(session))
    event.add("dtstamp", stamp)
    event.add("last-modified", changed)
    event.add("sequence", max(int((changed - _SEQUENCE_EPOCH).total_seconds()), 0))
    event.add("dtstart", to_local(session.starts_at))
    event.add("dtend", to_local(session.ends_at))
    event.add("summary", f"{course.title} · {session.title}" if session.title else course.title)
    location = _location(session, shows_meeting)
    if location:
        event.add("location", location)
    link = _link(session, shows_meeting)
    if link:
        event.add("url", link)
    event.add("description", _description(course, session, link, shows_meeting))
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def _location(session: CourseSession, shows_meeting: bool) -> str:
    parts: list[str] = []
    if session.mode in (SessionMode.OFFLINE, SessionMode.HYBRID):
        parts.extend(p for p in (session.venue, session.room, session.address) if p)
    if session.mode in (SessionMode.ONLINE, SessionMode.HYBRID):
        online = _("Online")
        if session.meeting_number and shows_meeting:
            online = _("Online, meeting number %(number)s", number=session.meeting_number)
        parts.append(online)
    if session.mode == SessionMode.RECORDED:
        parts.append(_("Recorded video"))
    return ", ".join(parts)


def _link(session: CourseSession, shows_meeting: bool) -> str | None:
    if session.mode in (SessionMode.ONLINE, SessionMode.HYBRID):
        return (session.meeting_url or None) if shows_meeting else None
    if session.mode == SessionMode.RECORDED:
        return session.video_url or None
    return None


def _description(
    course: Course, session: CourseSession, link: str | None, shows_meeting: bool
) -> str:
    lines = [_("Class hours: %(hours)s", hours=f"{session.class_hours:g}")]
    if session.mode in (SessionMode.ONLINE, SessionMode.HYBRID):
        if link:
            lines.append(_("Meeting link: %(url)s", url=link))
        if session.meeting_number and shows_meeting:
            lines.append(_("Meeting number: %(number)s", number=session.meeting_number))
    elif session.mode == SessionMode.RECORDED and link:
        lines.append(_("Video: %(url)s", url=link))
    if course.summary:
        lines.append("")
        lines.append(course.summary)
    return "\n".join(lines)


# --- the private feed's token -------------------------------------------------------


def issue_calendar_token(user: User) -> str:
    """Give ``user`` a new feed token; any earlier one stops working at once."""
    rotated = user.calendar_token is not None
    user.calendar_token = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.flush()
    audit.record(user, "user.issue_calendar_token", "user", user.id, rotated=rotated)
    return user.calendar_token


def revoke_calendar_token(user: User) -> None:
    """Switch the private feed off; its URL answers 404 from now on."""
    if user.calendar_token is None:
        return
    user.calendar_token = None
    db.session.flush()
    audit.record(user, "user.revoke_calendar_token", "user", user.id)


def user_by_calendar_token(token: str | None) -> User | None:
    """The active user whose feed ``token`` opens, or None (malformed, unknown, revoked)."""
    if not token or not _TOKEN_SHAPE.match(token):
        return None
    user = db.session.scalar(sa.select(User).where(User.calendar_token == token))
    if user is None or not user.is_active:
        return None
    return user
