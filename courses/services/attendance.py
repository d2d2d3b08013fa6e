"""Attendance (考勤): one record per learner and session whichever way they came, the
minutes and credited hours it is worth, and the completion of the enrolment it feeds.

Ways of attending, each measured on the record
----------------------------------------------

* **On site** (``checked_in_at`` / ``checked_out_at``, by rotating QR or fallback code,
  ``courses.services.checkin``): minutes from check-in to check-out (or the end) within
  the session's time. Arriving within the session's grace (``late_after_minutes``,
  default 10) counts as arriving at the start, and leaving within the grace before the
  end counts as staying to the end. Later than the grace is *late*; leaving earlier than
  the grace before the end is *partial*.
* **Online live** (``online_minutes``, from heartbeats, ``record_heartbeat``): one
  minute for every minute of the session's time in which the page reported presence.
* **Imported meeting report** (``imported_minutes``, ``set_imported_minutes``).
* **Recorded video** (``video_complete``, ``record_video_progress``): at least 90 % of
  the video actually watched earns the whole session.

A hybrid session has one record per learner: the way that measured the most minutes
counts (they are not added up, since a learner is in one place at a time). Online
minutes and imported minutes that reach the session's length less the grace count as
the whole session, like an on-time on-site learner.

A trainer's roll-call or correction (``mark``) sets the status and minutes by hand
(``manual``): automatic ways keep measuring but no longer change them.

Credit and its rounding
-----------------------

Credited hours = attended minutes ÷ minutes per class hour (``MINUTES_PER_CLASS_HOUR``,
default 45), capped at the session's class hours, rounded half up to two decimals per
record. An enrolment's credited hours are the sum over the course's sessions.

Completion
----------

``evaluate_completion`` is the one place that decides it, called after every change of
attendance (and of feedback) and for every enrolment of a course once its last session
has ended (``settle_finished_courses``): an enrolment completes when its credited hours
reach the course's threshold (``completion_threshold`` × the course's class hours) and
the feedback survey is in when the course requires it. A completion writes the outbox
event ``enrolment.completed`` (the certificate worker's input) and a notice. If a
trainer's correction takes the hours below the threshold again before a certificate
exists, the completion is withdrawn (``enrolment.completion_withdrawn``); once a
certificate exists it stands (revoking a certificate is an admin's act). After the last
session an enrolment short of the threshold is *incomplete*; a later correction can
still complete it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.db import db, dialect_statement, utcnow
from courses.errors import NotFound, PermissionDenied, ValidationFailed
from courses.models import (
    AttendanceHeartbeat,
    AttendanceMethod,
    AttendanceRecord,
    AttendanceStatus,
    Certificate,
    CertificateStatus,
    Course,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    FeedbackResponse,
    Notice,
    OutboxEvent,
    SessionMode,
    User,
    VideoProgress,
)
from courses.services import audit, permissions
from courses.services.class_hours import hours_for_minutes, round_hours, share_of_hours
from courses.services.pagination import Page, paginate_rows
from courses.services.search import person_matches
from courses.settings import minutes_per_class_hour

#: Enrolments whose learners attend sessions and earn credit.
ATTENDING_STATUSES = (
    EnrolmentStatus.ENROLLED,
    EnrolmentStatus.COMPLETED,
    EnrolmentStatus.INCOMPLETE,
)
COMPLETED_TOPIC = "enrolment.completed"
WITHDRAWN_TOPIC = "enrolment.completion_withdrawn"
#: Share of a recorded session's video that must be watched for credit.
VIDEO_SHARE_REQUIRED = 0.9
#: A heartbeat this soon after the previous one also credits the minutes in between
#: (a page that reports every minute may land its reports in minutes 5 and 7).
HEARTBEAT_GAP = timedelta(seconds=150)
#: Fastest playback the player offers: watched time cannot grow faster than this.
MAX_PLAYBACK_RATE = 2.0
#: A recording must last at least this share of the class hours it is worth.
MIN_VIDEO_SHARE_OF_HOURS = 0.5
VIDEO_REPORT_SLACK_SECONDS = 60
MANUAL_STATUSES = tuple(AttendanceStatus)

_STATUS_RANK = {
    AttendanceStatus.PRESENT: 3,
    AttendanceStatus.LATE: 2,
    AttendanceStatus.PARTIAL: 1,
    AttendanceStatus.EXCUSED: 0,
    AttendanceStatus.ABSENT: 0,
}


# ---- reading --------------------------------------------------------------------------------


def session_minutes(session: CourseSession) -> int:
    return max(0, int((session.ends_at - session.starts_at).total_seconds() // 60))


def elapsed_minutes(session: CourseSession, now: datetime) -> int:
    """The minutes of the session's time that have passed by ``now``: all of them once
    it has ended, none before it starts. No record is credited more than this."""
    if now >= session.ends_at:
        return session_minutes(session)
    if now <= session.starts_at:
        return 0
    return int((now - session.starts_at).total_seconds() // 60)


def has_ended(session: CourseSession, now: datetime) -> bool:
    return session.ends_at <= now


def credited_hours(minutes: int, class_hours: float) -> float:
    """Minutes ÷ minutes per class hour, capped at ``class_hours``, rounded
    (``class_hours.hours_for_minutes``)."""
    return hours_for_minutes(minutes, cap=class_hours)


def attending_enrolment(session: CourseSession, user_id: int) -> Enrolment | None:
    """The learner's enrolment in the session's course that lets them attend, if any."""
    return db.session.scalars(
        sa.select(Enrolment).where(
            Enrolment.course_id == session.course_id,
            Enrolment.user_id == user_id,
            Enrolment.status.in_(ATTENDING_STATUSES),
        )
    ).first()


def lock_attending(course_id: int, user_ids: list[int] | None = None) -> list[Enrolment]:
    """The attending enrolments of a course (of ``user_ids``, or all), locked until the
    transaction ends, in id order: every change to attendance and completion takes these
    locks first and in this order, so changes to one learner happen one at a time and
    never deadlock."""
    if user_ids is not None and not user_ids:
        return []
    statement = sa.select(Enrolment).where(
        Enrolment.course_id == course_id, Enrolment.status.in_(ATTENDING_STATUSES)
    )
    if user_ids is not None:
        statement = statement.where(Enrolment.user_id.in_(user_ids))
    return list(
        db.session.scalars(
            statement.order_by(Enrolment.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def require_attendee(session: CourseSession, user: User) -> Enrolment:
    """The learner's enrolment, locked until the transaction ends so that changes to
    one learner's attendance and completion happen one at a time; refused with
    ``not_enrolled`` when the learner is not enrolled in the course."""
    locked = lock_attending(session.course_id, [user.id])
    enrolment = locked[0] if locked else None
    if enrolment is None:
        raise PermissionDenied(
            _l("You are not enrolled in this course, so attendance cannot be recorded."),
            code="not_enrolled",
        )
    return enrolment


def require_session_manager(actor: User | None, session: CourseSession) -> Course:
    course = session.course
    permissions.require_course_manager(actor, course)
    return course


# ---- the record -----------------------------------------------------------------------------


@dialect_statement
def _upsert_statement(insert: Any) -> Any:
    """Insert the record, or touch the existing one: either way the row comes back
    (locked on PostgreSQL until the transaction ends) in one statement."""
    statement = insert(AttendanceRecord)
    return statement.on_conflict_do_update(
        index_elements=["session_id", "user_id"],
        set_={"updated_at": statement.excluded.updated_at},
    ).returning(AttendanceRecord)


def record_for(
    session: CourseSession, user_id: int, enrolment: Enrolment | None
) -> AttendanceRecord:
    """The learner's record for the session, created (absent, nothing measured) if
    missing, and locked until the transaction ends."""
    now = utcnow()
    record = db.session.scalars(
        _upsert_statement(),
        [
            {
                "session_id": session.id,
                "user_id": user_id,
                "enrolment_id": enrolment.id if enrolment is not None else None,
                "status": AttendanceStatus.ABSENT,
                "method": AttendanceMethod.MANUAL,
                "minutes": 0,
                "credited_hours": 0,
                "online_minutes": 0,
                "imported_minutes": 0,
                "video_complete": False,
                "manual": False,
                "created_at": now,
                "updated_at": now,
            }
        ],
        execution_options={"populate_existing": True},
    ).one()
    if enrolment is not None and record.enrolment_id != enrolment.id:
        record.enrolment_id = enrolment.id
    return record


@dataclass(frozen=True)
class Measured:
    minutes: int
    status: AttendanceStatus
    method: AttendanceMethod


def _onsite(record: AttendanceRecord, session: CourseSession, now: datetime) -> Measured | None:
    """From check-in to check-out, or to the session's end once it has ended: never
    beyond ``now``."""
    if record.checked_in_at is None:
        return None
    grace = timedelta(minutes=session.late_after_minutes)
    arrived = record.checked_in_at
    late = arrived > session.starts_at + grace
    start = arrived if late else session.starts_at
    left = record.checked_out_at
    early = left is not None and left < session.ends_at - grace
    end = left if early and left is not None else session.ends_at
    end = min(end, now)
    start = min(max(start, session.starts_at), session.ends_at)
    end = min(max(end, session.starts_at), session.ends_at)
    minutes = max(0, int((end - start).total_seconds() // 60))
    if early:
        status = AttendanceStatus.PARTIAL
    elif late:
        status = AttendanceStatus.LATE
    else:
        status = AttendanceStatus.PRESENT
    method = (
        record.method
        if record.method in (AttendanceMethod.QR, AttendanceMethod.CODE)
        else AttendanceMethod.QR
    )
    return Measured(minutes, status, method)


def _remote(
    minutes: int, session: CourseSession, method: AttendanceMethod, first_seen: datetime | None
) -> Measured | None:
    if minutes <= 0:
        return None
    full = session_minutes(session)
    grace = session.late_after_minutes
    if minutes >= full - grace:
        return Measured(full, AttendanceStatus.PRESENT, method)
    late = first_seen is not None and first_seen > session.starts_at + timedelta(minutes=grace)
    status = AttendanceStatus.LATE if late else AttendanceStatus.PARTIAL
    return Measured(min(minutes, full), status, method)


def measure(record: AttendanceRecord, session: CourseSession, now: datetime) -> Measured:
    """What the record's automatic ways of attending add up to by ``now`` (see the
    module doc): live and on-site attendance never count beyond the time that has
    passed; a recording watched to the end counts in full."""
    elapsed = elapsed_minutes(session, now)
    live = [
        _onsite(record, session, now),
        _remote(
            record.online_minutes,
            session,
            AttendanceMethod.ONLINE_JOIN,
            record.first_seen_online_at,
        ),
        _remote(record.imported_minutes, session, AttendanceMethod.IMPORT, None),
    ]
    candidates = [
        Measured(min(c.minutes, elapsed), c.status, c.method) for c in live if c is not None
    ]
    if record.video_complete:
        candidates.append(
            Measured(session_minutes(session), AttendanceStatus.PRESENT, AttendanceMethod.VIDEO)
        )
    if not candidates:
        return Measured(0, AttendanceStatus.ABSENT, record.method)
    return max(candidates, key=lambda c: (c.minutes, _STATUS_RANK[c.status]))


def derive(record: AttendanceRecord, session: CourseSession, now: datetime) -> None:
    """Bring the record's status, minutes and credit up to date with what was measured
    by ``now`` (a trainer's manual status is kept, and the minutes they gave count as
    far as the session's time has passed)."""
    if not record.manual:
        measured = measure(record, session, now)
        record.status = measured.status
        record.minutes = measured.minutes
        record.method = measured.method
    elif record.status in (AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED):
        record.minutes = 0
    else:
        given = record.manual_minutes if record.manual_minutes is not None else record.minutes
        record.minutes = min(given, elapsed_minutes(session, now))
    record.credited_hours = credited_hours(record.minutes, session.class_hours)


def changed(
    record: AttendanceRecord, session: CourseSession, enrolment: Enrolment | None, now: datetime
) -> None:
    """After a change to what a record measured: derive it, then evaluate completion."""
    derive(record, session, now)
    db.session.flush()
    if enrolment is not None:
        evaluate_completion(enrolment, now=now)


# ---- roll-call and corrections ---------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    user_id: int
    status: AttendanceStatus
    minutes: int | None = None


def parse_marks(session: CourseSession, raw: list[dict[str, Any]]) -> list[Mark]:
    """Roll-call entries checked as a whole: any bad entry refuses them all, with the
    problems by row (``invalid_marks``)."""
    problems: dict[str, Any] = {}
    marks: list[Mark] = []
    seen: set[int] = set()
    full = session_minutes(session)
    for index, entry in enumerate(raw):
        try:
            user_id = int(entry.get("user_id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            problems[str(index)] = _l("No such learner.")
            continue
        try:
            status = AttendanceStatus(entry.get("status"))
        except ValueError:
            problems[str(index)] = _l("Unknown attendance status.")
            continue
        minutes = entry.get("minutes")
        if minutes is not None:
            try:
                minutes = int(minutes)
            except (TypeError, ValueError):
                minutes = -1
            if not 0 <= minutes <= full:
                problems[str(index)] = _l("Minutes must be between 0 and %(full)s.", full=full)
                continue
            if minutes > 0 and status in (AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED):
                problems[str(index)] = _l("An absent or excused learner has no minutes.")
                continue
            if status == AttendanceStatus.PRESENT and minutes < full - session.late_after_minutes:
                problems[str(index)] = _l(
                    "Present means the whole session: for %(n)s minutes choose late or "
                    "partly attended.",
                    n=minutes,
                )
                continue
        if user_id in seen:
            problems[str(index)] = _l("This learner is marked twice.")
            continue
        seen.add(user_id)
        marks.append(Mark(user_id, status, minutes))
    if problems:
        raise ValidationFailed(
            _l("Some of the marks are not valid; nothing was recorded."),
            code="invalid_marks",
            fields=problems,
        )
    return marks


def _manual_minutes(
    mark: Mark, record: AttendanceRecord, session: CourseSession, now: datetime
) -> int:
    """The minutes a mark gives: as typed, none for absent or excused, the whole
    session for present, and what was measured (or, if nothing, the whole session for
    late) otherwise. ``derive`` credits only the part that has passed."""
    if mark.minutes is not None:
        return mark.minutes
    if mark.status in (AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED):
        return 0
    if mark.status == AttendanceStatus.PRESENT:
        return session_minutes(session)
    measured = measure(record, session, now).minutes
    if mark.status == AttendanceStatus.LATE:
        return measured or session_minutes(session)
    return measured


def mark(
    actor: User, session: CourseSession, raw: list[dict[str, Any]], now: datetime | None = None
) -> list[AttendanceRecord]:
    """Roll-call (点名) and corrections by the session's trainer or an admin: set each
    listed learner's status (and, optionally, minutes) by hand. All or nothing: every
    learner must be enrolled in the course. Every change is written to the audit log;
    completion is evaluated for each learner whose record changed."""
    now = now or utcnow()
    require_session_manager(actor, session)
    marks = parse_marks(session, raw)
    if not marks:
        return []
    user_ids = [m.user_id for m in marks]
    enrolments = {e.user_id: e for e in lock_attending(session.course_id, user_ids)}
    missing = [str(i) for i, m in enumerate(marks) if m.user_id not in enrolments]
    if missing:
        raise ValidationFailed(
            _l("Some of the learners are not enrolled in this course; nothing was recorded."),
            code="not_enrolled",
            fields={index: _l("Not enrolled in this course.") for index in missing},
        )
    records = []
    touched = []
    # Changes are written together at the end (batched), not row by row.
    with db.session.no_autoflush:
        for entry in marks:
            enrolment = enrolments[entry.user_id]
            record = record_for(session, entry.user_id, enrolment)
            given = record.manual_minutes if record.manual else record.minutes
            before = (record.status.value, given, record.manual)
            minutes = _manual_minutes(entry, record, session, now)
            after = (entry.status.value, minutes, True)
            records.append(record)
            if before == after:
                continue
            corrected = record.manual or record.checked_in_at is not None or record.minutes > 0
            record.status = entry.status
            record.manual_minutes = minutes
            record.manual = True
            record.method = AttendanceMethod.ROLL_CALL
            record.recorded_by_id = actor.id
            derive(record, session, now)
            audit.record(
                actor,
                "attendance.corrected" if corrected else "attendance.marked",
                "attendance_record",
                record.id,
                session_id=session.id,
                user_id=entry.user_id,
                before={"status": before[0], "minutes": before[1]},
                after={"status": after[0], "minutes": after[1]},
            )
            touched.append(enrolment)
    db.session.flush()
    evaluate_enrolments(touched, now)
    return records


def unmark(
    actor: User, session: CourseSession, user_id: int, now: datetime | None = None
) -> AttendanceRecord:
    """Hand a record back to what was measured automatically (undo a roll-call mark)."""
    now = now or utcnow()
    require_session_manager(actor, session)
    locked = lock_attending(session.course_id, [user_id])
    enrolment = locked[0] if locked else None
    record = db.session.scalars(
        sa.select(AttendanceRecord)
        .where(AttendanceRecord.session_id == session.id, AttendanceRecord.user_id == user_id)
        .with_for_update()
    ).first()
    if record is None:
        raise NotFound(_l("No attendance is recorded for this learner."))
    if record.manual:
        before = {"status": record.status.value, "minutes": record.minutes}
        record.manual = False
        record.manual_minutes = None
        record.recorded_by_id = actor.id
        changed(record, session, enrolment, now)
        audit.record(
            actor,
            "attendance.unmarked",
            "attendance_record",
            record.id,
            session_id=session.id,
            user_id=user_id,
            before=before,
            after={"status": record.status.value, "minutes": record.minutes},
        )
    return record


# ---- online: join, heartbeats, imported reports, video -----------------------------------------


def _floor_minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


@dataclass(frozen=True)
class Presence:
    record: AttendanceRecord | None
    counted: bool  # whether this report earned a minute (inside the session's time)


def _online_session(session: CourseSession) -> None:
    if session.mode not in (SessionMode.ONLINE, SessionMode.HYBRID):
        raise ValidationFailed(_l("This session is not held online."), code="not_online")


def record_heartbeat(user: User, session: CourseSession, now: datetime | None = None) -> Presence:
    """The session page is open (``join`` is the first report): credit the current
    minute if it lies inside the session's time (and the minutes since the previous
    report, if that was moments ago). Reports outside the session's time are
    accepted and earn nothing."""
    now = now or utcnow()
    _online_session(session)
    enrolment = require_attendee(session, user)
    if not session.starts_at <= now < session.ends_at:
        return Presence(None, False)
    record = record_for(session, user.id, enrolment)
    minute = _floor_minute(now)
    minutes = [minute]
    last = record.last_seen_online_at
    if last is not None and timedelta(0) < now - last <= HEARTBEAT_GAP:
        step = _floor_minute(last) + timedelta(minutes=1)
        while step < minute:
            minutes.append(step)
            step += timedelta(minutes=1)
    _store_minutes(session.id, user.id, minutes)
    if record.first_seen_online_at is None:
        record.first_seen_online_at = now
    record.last_seen_online_at = max(now, last) if last is not None else now
    record.online_minutes = _counted_minutes(session, user.id)
    changed(record, session, enrolment, now)
    return Presence(record, True)


@dialect_statement
def _heartbeat_insert(insert: Any) -> Any:
    return insert(AttendanceHeartbeat.__table__).on_conflict_do_nothing()


def _store_minutes(session_id: int, user_id: int, minutes: list[datetime]) -> None:
    db.session.execute(
        _heartbeat_insert(),
        [{"session_id": session_id, "user_id": user_id, "minute": m} for m in minutes],
    )


def _counted_minutes(session: CourseSession, user_id: int) -> int:
    """Heartbeat minutes inside the session's time."""
    return (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                AttendanceHeartbeat.session_id == session.id,
                AttendanceHeartbeat.user_id == user_id,
                AttendanceHeartbeat.minute >= _floor_minute(session.starts_at),
                AttendanceHeartbeat.minute < session.ends_at,
            )
        )
        or 0
    )


def set_imported_minutes(
    session: CourseSession,
    enrolment: Enrolment,
    minutes: int,
    now: datetime | None = None,
    *,
    evaluate: bool = True,
) -> bool:
    """Minutes from an online-meeting report (``courses.services.meeting_reports``):
    the larger of what earlier reports and this one say, so re-applying a report, or an
    older one, changes nothing. The caller has locked the enrolment; with ``evaluate``
    false it evaluates completion itself (``evaluate_enrolments``, for many at once).
    Returns whether the record changed."""
    now = now or utcnow()
    record = record_for(session, enrolment.user_id, enrolment)
    minutes = max(0, min(int(minutes), session_minutes(session)))
    if minutes <= record.imported_minutes:
        return False
    record.imported_minutes = minutes
    derive(record, session, now)
    db.session.flush()
    if evaluate:
        evaluate_completion(enrolment, now=now)
    return True


def merge_ranges(ranges: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _watched(ranges: list[tuple[float, float]]) -> float:
    return sum(end - start for start, end in ranges)


def parse_ranges(raw: Any, duration: Any) -> tuple[list[tuple[float, float]], int]:
    """Played ranges ``[[start, end], …]`` in seconds and the video's duration, checked;
    ``invalid_ranges`` otherwise."""
    try:
        length = round(float(duration))
        ranges = [(float(start), float(end)) for start, end in raw]
    except (TypeError, ValueError, OverflowError) as error:
        raise ValidationFailed(
            _l("The watched ranges are not valid."), code="invalid_ranges"
        ) from error
    if not 0 < length <= 24 * 3600 or len(ranges) > 1000:
        raise ValidationFailed(_l("The watched ranges are not valid."), code="invalid_ranges")
    for start, end in ranges:
        if not (0 <= start <= end <= length + 1):
            raise ValidationFailed(_l("The watched ranges are not valid."), code="invalid_ranges")
    return [(s, min(e, float(length))) for s, e in ranges], length


@dataclass(frozen=True)
class VideoState:
    watched_seconds: int
    duration_seconds: int
    share: float
    complete: bool
    record: AttendanceRecord | None


def record_video_progress(
    user: User, session: CourseSession, raw_ranges: Any, duration: Any, now: datetime | None = None
) -> VideoState:
    """What the player reports as actually played (its ``played`` ranges, never the
    position: skipping to the end plays nothing). Ranges are merged with those already
    kept. At ``VIDEO_SHARE_REQUIRED`` of the video the session is credited in full.

    The player is the learner's, so what it says is bounded: the video's length is the
    longest ever reported and must be at least ``MIN_VIDEO_SHARE_OF_HOURS`` of the class
    hours the session is worth (a ten-second "video" earns no class hours); and the
    watched time can grow no faster than the fastest playback rate allows, both since
    the previous report and since the first one."""
    now = now or utcnow()
    if session.mode != SessionMode.RECORDED and not session.video_url:
        raise ValidationFailed(_l("This session has no recorded video."), code="not_recorded")
    if now < session.starts_at:
        raise ValidationFailed(
            _l("The recording is not available yet."), code="video_not_available"
        )
    ranges, length = parse_ranges(raw_ranges, duration)
    shortest = MIN_VIDEO_SHARE_OF_HOURS * float(session.class_hours) * minutes_per_class_hour() * 60
    enrolment = require_attendee(session, user)
    progress = db.session.scalars(
        sa.select(VideoProgress)
        .where(VideoProgress.session_id == session.id, VideoProgress.user_id == user.id)
        .with_for_update()
    ).first()
    duration_seconds = max(progress.duration_seconds if progress else 0, length)
    if duration_seconds < shortest:
        raise ValidationFailed(
            _l("The video is too short for the class hours of this session."),
            code="implausible_duration",
        )
    if progress is None:
        progress = VideoProgress(
            session_id=session.id,
            user_id=user.id,
            ranges=[],
            duration_seconds=length,
            watched_seconds=0,
            created_at=now,
            updated_at=now,
        )
        db.session.add(progress)
    kept = [(float(s), float(e)) for s, e in progress.ranges]
    merged = merge_ranges(kept + [(a, min(b, float(duration_seconds))) for a, b in ranges])
    watched = _watched(merged)
    previous = _watched(kept)
    since_last = (now - progress.updated_at).total_seconds() if progress.ranges else 0
    since_first = (now - progress.created_at).total_seconds() if progress.ranges else 0
    allowed = VIDEO_REPORT_SLACK_SECONDS + MAX_PLAYBACK_RATE * max(since_last, 0)
    allowed_in_all = VIDEO_REPORT_SLACK_SECONDS + MAX_PLAYBACK_RATE * max(since_first, 0)
    if watched > allowed_in_all:
        raise ValidationFailed(
            _l("More was reported as watched than could have been played since the last report."),
            code="implausible_progress",
        )
    if watched - previous > allowed:
        raise ValidationFailed(
            _l("More was reported as watched than could have been played since the last report."),
            code="implausible_progress",
        )
    progress.ranges = [[s, e] for s, e in merged]
    progress.duration_seconds = duration_seconds
    progress.watched_seconds = min(int(watched), duration_seconds)
    progress.updated_at = now
    share = progress.watched_seconds / duration_seconds
    complete = share >= VIDEO_SHARE_REQUIRED
    record = None
    if complete:
        record = record_for(session, user.id, enrolment)
        if not record.video_complete:
            record.video_complete = True
            changed(record, session, enrolment, now)
    db.session.flush()
    return VideoState(progress.watched_seconds, duration_seconds, share, complete, record)


# ---- completion -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseFacts:
    course_id: int
    title: str
    feedback_required: bool
    class_hours: float
    required_hours: float
    finished: bool


@functools.cache
def _course_facts_statement() -> sa.Select[Any]:
    return (
        sa.select(
            Course.id,
            Course.title,
            Course.feedback_required,
            Course.completion_threshold,
            sa.func.coalesce(sa.func.sum(CourseSession.class_hours), 0),
            sa.func.max(CourseSession.ends_at),
        )
        .outerjoin(CourseSession, CourseSession.course_id == Course.id)
        .where(Course.id == sa.bindparam("course_id"))
        .group_by(Course.id, Course.title, Course.feedback_required, Course.completion_threshold)
    )


@functools.cache
def _learner_facts_statement() -> sa.Select[Any]:
    """The course's facts plus one learner's credited hours and feedback."""
    user_id = sa.bindparam("user_id")
    earned = (
        sa.select(sa.func.coalesce(sa.func.sum(AttendanceRecord.credited_hours), 0))
        .join(CourseSession, CourseSession.id == AttendanceRecord.session_id)
        .where(CourseSession.course_id == Course.id, AttendanceRecord.user_id == user_id)
        .scalar_subquery()
    )
    gave = sa.exists().where(
        FeedbackResponse.course_id == Course.id, FeedbackResponse.user_id == user_id
    )
    return _course_facts_statement().add_columns(earned, gave)


def _facts(row: Any, now: datetime) -> CourseFacts:
    course_id, title, feedback_required, threshold, hours, last_end = row[:6]
    hours = float(hours or 0)
    required = share_of_hours(threshold, hours)
    finished = last_end is not None and last_end <= now
    return CourseFacts(course_id, title, feedback_required, hours, required, finished)


def course_facts(course_id: int, now: datetime) -> CourseFacts:
    """What completion depends on in the course, in one statement."""
    return _facts(
        db.session.execute(_course_facts_statement(), {"course_id": course_id}).one(), now
    )


def learner_facts(course_id: int, user_id: int, now: datetime) -> tuple[CourseFacts, float, bool]:
    """The course's facts, the learner's credited hours in it and whether they gave
    feedback, in one statement."""
    row = db.session.execute(
        _learner_facts_statement(), {"course_id": course_id, "user_id": user_id}
    ).one()
    return _facts(row, now), round_hours(row[6]), bool(row[7])


def earned_hours(course_id: int, user_ids: list[int]) -> dict[int, float]:
    """Credited hours per learner over the course's sessions, in one statement."""
    rows = db.session.execute(
        sa.select(AttendanceRecord.user_id, sa.func.sum(AttendanceRecord.credited_hours))
        .join(CourseSession, CourseSession.id == AttendanceRecord.session_id)
        .where(CourseSession.course_id == course_id, AttendanceRecord.user_id.in_(user_ids))
        .group_by(AttendanceRecord.user_id)
    )
    return {user_id: round_hours(total) for user_id, total in rows}


def evaluate_completion(
    enrolment: Enrolment,
    now: datetime | None = None,
    *,
    facts: CourseFacts | None = None,
    earned: float | None = None,
    feedback_given: bool | None = None,
) -> str | None:
    """Decide the enrolment's completion from its credited hours, the course's
    threshold and the feedback rule (see the module doc). Returns what happened:
    ``completed``, ``withdrawn``, ``incomplete``, ``reopened`` or None."""
    if enrolment.status not in ATTENDING_STATUSES:
        return None
    now = now or utcnow()
    if facts is None and earned is None and feedback_given is None:
        facts, earned, feedback_given = learner_facts(enrolment.course_id, enrolment.user_id, now)
    facts = facts or course_facts(enrolment.course_id, now)
    if earned is None:
        earned = earned_hours(facts.course_id, [enrolment.user_id]).get(enrolment.user_id, 0.0)
    if enrolment.credited_hours != earned:
        enrolment.credited_hours = earned
    if feedback_given is None:
        feedback_given = facts.feedback_required and _has_feedback(
            facts.course_id, enrolment.user_id
        )
    feedback_ok = not facts.feedback_required or feedback_given
    # Only a course whose last session has ended completes: until then what is
    # credited is what has passed so far, and the rest is still to come.
    met = (
        facts.finished
        and facts.class_hours > 0
        and earned + 1e-9 >= facts.required_hours
        and feedback_ok
    )
    status = enrolment.status
    if met and status != EnrolmentStatus.COMPLETED:
        enrolment.status = EnrolmentStatus.COMPLETED
        enrolment.completed_at = now
        _completion_event(enrolment, facts, COMPLETED_TOPIC, now)
        return "completed"
    if not met and status == EnrolmentStatus.COMPLETED:
        if _has_certificate(enrolment.id):
            return None
        enrolment.status = (
            EnrolmentStatus.INCOMPLETE if facts.finished else EnrolmentStatus.ENROLLED
        )
        enrolment.completed_at = None
        _completion_event(enrolment, facts, WITHDRAWN_TOPIC, now)
        return "withdrawn"
    if not met and status == EnrolmentStatus.ENROLLED and facts.finished:
        enrolment.status = EnrolmentStatus.INCOMPLETE
        return "incomplete"
    if not met and status == EnrolmentStatus.INCOMPLETE and not facts.finished:
        enrolment.status = EnrolmentStatus.ENROLLED
        return "reopened"
    return None


def _has_feedback(course_id: int, user_id: int) -> bool:
    return (
        db.session.scalar(
            sa.select(FeedbackResponse.id).where(
                FeedbackResponse.course_id == course_id, FeedbackResponse.user_id == user_id
            )
        )
        is not None
    )


def _feedback_givers(course_id: int, user_ids: list[int]) -> set[int]:
    if not user_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(FeedbackResponse.user_id).where(
                FeedbackResponse.course_id == course_id, FeedbackResponse.user_id.in_(user_ids)
            )
        )
    )


def _has_certificate(enrolment_id: int) -> bool:
    return (
        db.session.scalar(
            sa.select(Certificate.id).where(
                Certificate.enrolment_id == enrolment_id,
                Certificate.status == CertificateStatus.VALID,
            )
        )
        is not None
    )


def _completion_event(enrolment: Enrolment, course: CourseFacts, topic: str, now: datetime) -> None:
    """The outbox event (the certificate worker's input; a consumer re-reads the
    enrolment, so a withdrawn completion issues nothing) and the learner's notice."""
    db.session.add(
        OutboxEvent(
            topic=topic,
            payload={"enrolment_id": enrolment.id, "course_id": course.course_id},
            dedup_key=f"{topic}:{enrolment.id}:{now.isoformat()}",
        )
    )
    kind = "enrolment_completed" if topic == COMPLETED_TOPIC else "enrolment_completion_withdrawn"
    db.session.add(
        Notice(
            user_id=enrolment.user_id,
            kind=kind,
            data={"course_id": course.course_id, "course_title": course.title},
            created_at=now,
        )
    )


def evaluate_enrolments(enrolments: list[Enrolment], now: datetime | None = None) -> None:
    """Evaluate the completion of several (locked) enrolments of one course, with the
    course's facts, their hours and their feedback read in three statements."""
    if not enrolments:
        return
    now = now or utcnow()
    course_id = enrolments[0].course_id
    facts = course_facts(course_id, now)
    user_ids = [e.user_id for e in enrolments]
    earned = earned_hours(course_id, user_ids)
    gave = _feedback_givers(course_id, user_ids) if facts.feedback_required else set()
    for enrolment in enrolments:
        evaluate_completion(
            enrolment,
            now,
            facts=facts,
            earned=earned.get(enrolment.user_id, 0.0),
            feedback_given=enrolment.user_id in gave,
        )


def evaluate_course(
    course: Course, now: datetime | None = None, *, rederive: CourseSession | None = None
) -> dict[str, int]:
    """Evaluate every attending enrolment of a course (after its last session, or after
    a change to its sessions or its completion rule), with the hours summed in one
    statement. ``rederive``: a session whose times or class hours changed, whose records
    are derived again first. The enrolments are locked before the records, in the order
    every attendance change takes them."""
    now = now or utcnow()
    enrolments = lock_attending(course.id)
    if rederive is not None:
        for record in db.session.scalars(
            sa.select(AttendanceRecord)
            .where(AttendanceRecord.session_id == rederive.id)
            .order_by(AttendanceRecord.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ):
            derive(record, rederive, now)
        rederive.settled_at = now if has_ended(rederive, now) else None
        db.session.flush()
    facts = course_facts(course.id, now)
    user_ids = [e.user_id for e in enrolments]
    earned = earned_hours(course.id, user_ids) if enrolments else {}
    gave = _feedback_givers(course.id, user_ids) if facts.feedback_required else set()
    outcome: dict[str, int] = {}
    for enrolment in enrolments:
        result = evaluate_completion(
            enrolment,
            now,
            facts=facts,
            earned=earned.get(enrolment.user_id, 0.0),
            feedback_given=enrolment.user_id in gave,
        )
        if result:
            outcome[result] = outcome.get(result, 0) + 1
    db.session.flush()
    return outcome


@dataclass(frozen=True)
class Settlement:
    sessions: int  # sessions whose records were brought up to date after their end
    courses: int  # finished courses whose remaining learners were settled


def settle_ended_sessions(now: datetime | None = None, limit: int = 200) -> int:
    """Bring the records of sessions that have ended since they were last settled up
    to date (a learner checked in and never checked out is credited to the end, a
    trainer's "present" counts in full) and evaluate their courses' completions. On
    PostgreSQL, sessions another settler holds are skipped. Returns how many."""
    now = now or utcnow()
    sessions = list(
        db.session.scalars(
            sa.select(CourseSession)
            .where(CourseSession.settled_at.is_(None), CourseSession.ends_at <= now)
            .order_by(CourseSession.ends_at, CourseSession.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for session in sessions:
        evaluate_course(session.course, now, rederive=session)
    return len(sessions)


def settle_finished_courses(now: datetime | None = None, limit: int = 200) -> Settlement:
    """Settle the sessions that have ended (``settle_ended_sessions``), then evaluate
    the enrolments of courses whose last session has ended and that still have
    learners marked enrolled: those short of the threshold become incomplete, those
    who reached it complete. Idempotent."""
    now = now or utcnow()
    sessions = settle_ended_sessions(now, limit)
    last_end = (
        sa.select(CourseSession.course_id, sa.func.max(CourseSession.ends_at).label("last_end"))
        .group_by(CourseSession.course_id)
        .subquery()
    )
    course_ids = list(
        db.session.scalars(
            sa.select(Enrolment.course_id)
            .join(last_end, last_end.c.course_id == Enrolment.course_id)
            .where(Enrolment.status == EnrolmentStatus.ENROLLED, last_end.c.last_end <= now)
            .distinct()
            .order_by(Enrolment.course_id)
            .limit(limit)
        )
    )
    for course_id in course_ids:
        course = db.session.get(Course, course_id)
        if course is not None:
            evaluate_course(course, now)
    return Settlement(sessions, len(course_ids))


# ---- pages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterLine:
    user: User
    enrolment: Enrolment
    record: AttendanceRecord | None


#: The roll-call's filter for learners without any record yet.
UNMARKED = "unmarked"


def _roster_statement(session: CourseSession) -> sa.Select[Any]:
    """The session's attending learners with their records, by name."""
    return (
        sa.select(User, Enrolment, AttendanceRecord)
        .join(Enrolment, Enrolment.user_id == User.id)
        .outerjoin(
            AttendanceRecord,
            sa.and_(AttendanceRecord.session_id == session.id, AttendanceRecord.user_id == User.id),
        )
        .where(
            Enrolment.course_id == session.course_id,
            Enrolment.status.in_(ATTENDING_STATUSES),
        )
        .order_by(User.name, User.id)
    )


def session_roster_page(
    actor: User,
    session: CourseSession,
    *,
    q: str | None = None,
    show: AttendanceStatus | str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[RosterLine]:
    """One page of the session's roll-call (trainers and admins), by name, in two
    statements: ``q`` searches name, phone and e-mail; ``show`` keeps the learners with
    that status, or (``UNMARKED``) those without a record yet."""
    require_session_manager(actor, session)
    statement = _roster_statement(session)
    if show == UNMARKED:
        statement = statement.where(AttendanceRecord.id.is_(None))
    elif show:
        statement = statement.where(AttendanceRecord.status == AttendanceStatus(show))
    term = (q or "").strip()[:60]
    if term:
        statement = statement.where(person_matches(term))
    rows = paginate_rows(statement, page, per_page)
    lines = [RosterLine(user, enrolment, record) for user, enrolment, record in rows.items]
    return Page(items=lines, total=rows.total, page=rows.page, per_page=rows.per_page)


def session_roster_lines(
    actor: User, session: CourseSession, user_ids: list[int]
) -> list[RosterLine]:
    """The roll-call lines of the attending learners among ``user_ids``, in one statement
    (the rows a roll-call form sent)."""
    require_session_manager(actor, session)
    if not user_ids:
        return []
    rows = db.session.execute(_roster_statement(session).where(User.id.in_(user_ids))).all()
    return [RosterLine(user, enrolment, record) for user, enrolment, record in rows]


def unmarked_learner_ids(actor: User, session: CourseSession) -> list[int]:
    """The attending learners without any record for the session yet, by name."""
    require_session_manager(actor, session)
    statement = _roster_statement(session).where(AttendanceRecord.id.is_(None))
    return list(db.session.scalars(statement.with_only_columns(User.id)))


def roll_call_counts(session: CourseSession) -> dict[str, int]:
    """How many attending learners have each status, how many none yet (``UNMARKED``)
    and how many attend in all (``"all"``): two statements."""
    rows = db.session.execute(
        sa.select(AttendanceRecord.status, sa.func.count())
        .join(
            Enrolment,
            sa.and_(
                Enrolment.user_id == AttendanceRecord.user_id,
                Enrolment.course_id == session.course_id,
            ),
        )
        .where(
            AttendanceRecord.session_id == session.id,
            Enrolment.status.in_(ATTENDING_STATUSES),
        )
        .group_by(AttendanceRecord.status)
    ).all()
    counts: dict[str, int] = {status.value: 0 for status in AttendanceStatus}
    counts.update({status.value: int(n) for status, n in rows})
    attending = attending_count(session)
    counts["all"] = attending
    counts[UNMARKED] = max(attending - sum(int(n) for _status, n in rows), 0)
    return counts


def checked_in_count(session: CourseSession) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                AttendanceRecord.session_id == session.id,
                AttendanceRecord.checked_in_at.is_not(None),
            )
        )
        or 0
    )


def attending_count(session: CourseSession) -> int:
    """Learners who may attend the session (enrolled, completed or incomplete)."""
    return (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                Enrolment.course_id == session.course_id,
                Enrolment.status.in_(ATTENDING_STATUSES),
            )
        )
        or 0
    )


def own_record(user: User, session: CourseSession) -> AttendanceRecord | None:
    return db.session.scalars(
        sa.select(AttendanceRecord).where(
            AttendanceRecord.session_id == session.id, AttendanceRecord.user_id == user.id
        )
    ).first()


def own_video_progress(user: User, session: CourseSession) -> VideoProgress | None:
    if session.mode != SessionMode.RECORDED and not session.video_url:
        return None
    return db.session.scalars(
        sa.select(VideoProgress).where(
            VideoProgress.session_id == session.id, VideoProgress.user_id == user.id
        )
    ).first()


def todays_sessions(user: User, now: datetime | None = None) -> list[CourseSession]:
    """The learner's sessions from 12 hours ago to 12 hours ahead, soonest first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(CourseSession)
            .join(Enrolment, Enrolment.course_id == CourseSession.course_id)
            .where(
                Enrolment.user_id == user.id,
                Enrolment.status.in_(ATTENDING_STATUSES),
                CourseSession.ends_at >= now - timedelta(hours=12),
                CourseSession.starts_at <= now + timedelta(hours=12),
            )
            .order_by(CourseSession.starts_at)
        )
    )
