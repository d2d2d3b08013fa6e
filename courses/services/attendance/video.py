"""Recorded-video progress (录播): what the player reports as played, and the credit a
recording watched to the end earns.

Rules
-----

* Only a recorded session, or one with a video, takes video progress (``not_recorded``),
  and not before the session's start (``video_not_available``).
* What counts is what the player reports as actually played (its ``played`` ranges,
  never the position: skipping to the end plays nothing), merged with the ranges kept
  before. At ``VIDEO_SHARE_REQUIRED`` (90 %) of the video the session is credited in full.
* The player is the learner's, so what it says is bounded: the video's length is the
  longest ever reported and must be at least ``MIN_VIDEO_SHARE_OF_HOURS`` of the class
  hours the session is worth (a ten-second "video" earns no class hours,
  ``implausible_duration``); and the watched time can grow no faster than the fastest
  playback rate allows, both since the previous report and since the first one
  (``implausible_progress``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.db import db, utcnow
from courses.errors import ValidationFailed
from courses.models import (
    AttendanceRecord,
    CourseSession,
    Enrolment,
    SessionMode,
    User,
    VideoProgress,
)
from courses.services.attendance.completion import changed
from courses.services.attendance.records import record_for, require_attendee
from courses.settings import minutes_per_class_hour

#: Share of a recorded session's video that must be watched for credit.
VIDEO_SHARE_REQUIRED = 0.9
#: Fastest playback the player offers: watched time cannot grow faster than this.
MAX_PLAYBACK_RATE = 2.0
#: A recording must last at least this share of the class hours it is worth.
MIN_VIDEO_SHARE_OF_HOURS = 0.5
VIDEO_REPORT_SLACK_SECONDS = 60


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
    _require_video(session, now)
    ranges, length = parse_ranges(raw_ranges, duration)
    enrolment = require_attendee(session, user)
    progress = _locked_progress(session, user)
    duration_seconds = _plausible_duration(session, progress, length)
    if progress is None:
        progress = _new_progress(session, user, length, now)
    kept = [(float(s), float(e)) for s, e in progress.ranges]
    merged = merge_ranges(kept + [(a, min(b, float(duration_seconds))) for a, b in ranges])
    watched = _watched(merged)
    _require_plausible_pace(progress, watched, _watched(kept), now)
    progress.ranges = [[s, e] for s, e in merged]
    progress.duration_seconds = duration_seconds
    progress.watched_seconds = min(int(watched), duration_seconds)
    progress.updated_at = now
    share = progress.watched_seconds / duration_seconds
    complete = share >= VIDEO_SHARE_REQUIRED
    record = _credit_video(session, user, enrolment, now) if complete else None
    db.session.flush()
    return VideoState(progress.watched_seconds, duration_seconds, share, complete, record)


def _require_video(session: CourseSession, now: datetime) -> None:
    """The session has a recording, and it is available by ``now``."""
    if session.mode != SessionMode.RECORDED and not session.video_url:
        raise ValidationFailed(_l("This session has no recorded video."), code="not_recorded")
    if now < session.starts_at:
        raise ValidationFailed(
            _l("The recording is not available yet."), code="video_not_available"
        )


def _locked_progress(session: CourseSession, user: User) -> VideoProgress | None:
    """The learner's progress so far, locked until the transaction ends."""
    return db.session.scalars(
        sa.select(VideoProgress)
        .where(VideoProgress.session_id == session.id, VideoProgress.user_id == user.id)
        .with_for_update()
    ).first()


def _plausible_duration(session: CourseSession, progress: VideoProgress | None, length: int) -> int:
    """The video's length: the longest ever reported, refused when it is too short for
    the class hours the session is worth (``implausible_duration``)."""
    shortest = MIN_VIDEO_SHARE_OF_HOURS * float(session.class_hours) * minutes_per_class_hour() * 60
    duration_seconds = max(progress.duration_seconds if progress else 0, length)
    if duration_seconds < shortest:
        raise ValidationFailed(
            _l("The video is too short for the class hours of this session."),
            code="implausible_duration",
        )
    return duration_seconds


def _new_progress(session: CourseSession, user: User, length: int, now: datetime) -> VideoProgress:
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
    return progress


def _require_plausible_pace(
    progress: VideoProgress, watched: float, previous: float, now: datetime
) -> None:
    """The watched time grew no faster than ``MAX_PLAYBACK_RATE`` allows (with
    ``VIDEO_REPORT_SLACK_SECONDS``), in all since the first report and since the
    previous one (``implausible_progress``)."""
    since_last = (now - progress.updated_at).total_seconds() if progress.ranges else 0
    since_first = (now - progress.created_at).total_seconds() if progress.ranges else 0
    allowed = VIDEO_REPORT_SLACK_SECONDS + MAX_PLAYBACK_RATE * max(since_last, 0)
    allowed_in_all = VIDEO_REPORT_SLACK_SECONDS + MAX_PLAYBACK_RATE * max(since_first, 0)
    if watched > allowed_in_all or watched - previous > allowed:
        raise ValidationFailed(
            _l("More was reported as watched than could have been played since the last report."),
            code="implausible_progress",
        )


def _credit_video(
    session: CourseSession, user: User, enrolment: Enrolment, now: datetime
) -> AttendanceRecord:
    """The learner's record, credited for the whole session once (``video_complete``)."""
    record = record_for(session, user.id, enrolment)
    if not record.video_complete:
        record.video_complete = True
        changed(record, session, enrolment, now)
    return record


def own_video_progress(user: User, session: CourseSession) -> VideoProgress | None:
    if session.mode != SessionMode.RECORDED and not session.video_url:
        return None
    return db.session.scalars(
        sa.select(VideoProgress).where(
            VideoProgress.session_id == session.id, VideoProgress.user_id == user.id
        )
    ).first()
