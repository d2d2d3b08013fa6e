"""Attendance (考勤), one module per responsibility; every name callers use is here.

========================  ===============================================================
``records``               the record: one per learner and session, what it measured (on
                          site, online, imported, video), its minutes and credited hours,
                          the locks every change takes
``roll_call``             the trainer's roll-call and corrections, the roll-call's pages
``online``                heartbeats (online presence) and imported meeting minutes
``video``                 recorded-video progress
``completion``            completion of an enrolment, called by attendance, feedback,
                          course editing and meeting reports
``settle``                settling sessions and courses that are over
``checkin``               on-site check-in by QR code or fallback code (imported as
                          ``from courses.services.attendance import checkin``); it
                          writes the same record
``passes``                the single-use pass a scanned QR code leaves, so a learner
                          who must log in first comes straight back and checks in
========================  ===============================================================
"""

from courses.services.attendance.completion import (
    COMPLETED_TOPIC,
    WITHDRAWN_TOPIC,
    CourseFacts,
    changed,
    course_facts,
    earned_hours,
    evaluate_completion,
    evaluate_course,
    evaluate_enrolments,
    learner_facts,
)
from courses.services.attendance.online import (
    HEARTBEAT_GAP,
    Presence,
    _online_session,
    record_heartbeat,
    set_imported_minutes,
)
from courses.services.attendance.records import (
    ATTENDING_STATUSES,
    Measured,
    _remote,
    attending_enrolment,
    credited_hours,
    derive,
    elapsed_minutes,
    has_ended,
    lock_attending,
    measure,
    own_record,
    record_for,
    require_attendee,
    require_session_manager,
    session_minutes,
    todays_sessions,
)
from courses.services.attendance.roll_call import (
    MANUAL_STATUSES,
    UNMARKED,
    Mark,
    RosterLine,
    attending_count,
    checked_in_count,
    mark,
    parse_marks,
    roll_call_counts,
    session_roster_lines,
    session_roster_page,
    unmark,
    unmarked_learner_ids,
)
from courses.services.attendance.settle import (
    Settlement,
    settle_ended_sessions,
    settle_finished_courses,
)
from courses.services.attendance.video import (
    MAX_PLAYBACK_RATE,
    MIN_VIDEO_SHARE_OF_HOURS,
    VIDEO_REPORT_SLACK_SECONDS,
    VIDEO_SHARE_REQUIRED,
    VideoState,
    merge_ranges,
    own_video_progress,
    parse_ranges,
    record_video_progress,
)

__all__ = [
    "ATTENDING_STATUSES",
    "COMPLETED_TOPIC",
    "HEARTBEAT_GAP",
    "MANUAL_STATUSES",
    "MAX_PLAYBACK_RATE",
    "MIN_VIDEO_SHARE_OF_HOURS",
    "UNMARKED",
    "VIDEO_REPORT_SLACK_SECONDS",
    "VIDEO_SHARE_REQUIRED",
    "WITHDRAWN_TOPIC",
    "CourseFacts",
    "Mark",
    "Measured",
    "Presence",
    "RosterLine",
    "Settlement",
    "VideoState",
    "_online_session",
    "_remote",
    "attending_count",
    "attending_enrolment",
    "changed",
    "checked_in_count",
    "course_facts",
    "credited_hours",
    "derive",
    "earned_hours",
    "elapsed_minutes",
    "evaluate_completion",
    "evaluate_course",
    "evaluate_enrolments",
    "has_ended",
    "learner_facts",
    "lock_attending",
    "mark",
    "measure",
    "merge_ranges",
    "own_record",
    "own_video_progress",
    "parse_marks",
    "parse_ranges",
    "record_for",
    "record_heartbeat",
    "record_video_progress",
    "require_attendee",
    "require_session_manager",
    "roll_call_counts",
    "session_minutes",
    "session_roster_lines",
    "session_roster_page",
    "set_imported_minutes",
    "settle_ended_sessions",
    "settle_finished_courses",
    "todays_sessions",
    "unmark",
    "unmarked_learner_ids",
]
