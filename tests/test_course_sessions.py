"""Sessions of a course: the session rules of ``courses.services.courses.sessions``, class
hours derived from a session's length, and deleting sessions (SPEC §3 item 3)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from courses.db import db
from courses.errors import Conflict
from courses.models import (
    AttendanceMethod,
    AttendanceRecord,
    AttendanceStatus,
    CourseSession,
    PublicationStatus,
    SessionMode,
)
from courses.services import courses as service
from tests import course_setup
from tests.course_setup import T0, actions, count, fresh, refused, session_data
from tests.factories import make_course, make_session, make_user

# The trainer and their draft course, as every course-management test module has them.
trainer, draft = course_setup.trainer, course_setup.draft


# --- sessions ------------------------------------------------------------------------------------


def test_a_session_gets_class_hours_from_its_duration(trainer, draft):
    two = service.add_session(trainer, draft, session_data(ends_at=T0 + timedelta(minutes=90)))
    odd = service.add_session(
        trainer,
        draft,
        session_data(starts_at=T0 + timedelta(days=1), ends_at=T0 + timedelta(days=1, minutes=100)),
    )
    given = service.add_session(
        trainer,
        draft,
        session_data(
            starts_at=T0 + timedelta(days=2), ends_at=T0 + timedelta(days=2, hours=3), class_hours=3
        ),
    )
    db.session.commit()
    assert fresh(two).class_hours == 2.0  # 90 / 45
    assert fresh(odd).class_hours == 2.22  # 100 / 45 = 2.222…
    assert fresh(given).class_hours == 3.0
    assert service.course_class_hours(draft) == pytest.approx(7.22)


def test_moving_a_session_recomputes_its_default_hours(trainer, draft):
    session = service.add_session(trainer, draft, session_data())
    db.session.commit()
    service.update_session(trainer, session, {"ends_at": T0 + timedelta(minutes=45)})
    db.session.commit()
    assert fresh(session).class_hours == 1.0


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"ends_at": T0 - timedelta(minutes=1)}, "ends_before_start", "ends_at"),
        ({"ends_at": T0}, "ends_before_start", "ends_at"),
        ({"class_hours": 0}, "invalid_hours", "class_hours"),
        ({"class_hours": -2}, "invalid_hours", "class_hours"),
        ({"capacity": 0}, "invalid_capacity", "capacity"),
        ({"capacity": -1}, "invalid_capacity", "capacity"),
        ({"venue": ""}, "missing_location", "venue"),
        ({"mode": SessionMode.ONLINE}, "missing_location", "meeting_url"),
        ({"mode": SessionMode.RECORDED}, "missing_location", "video_url"),
        (
            {
                "mode": SessionMode.HYBRID,
                "venue": None,
                "meeting_url": "https://meeting.tencent.com/dm/1",
            },
            "missing_location",
            "venue",
        ),
        (
            {"mode": SessionMode.ONLINE, "meeting_url": "ftp://example.org/x"},
            "invalid_url",
            "meeting_url",
        ),
        (
            {"mode": SessionMode.ONLINE, "meeting_url": "javascript:alert(1)"},
            "invalid_url",
            "meeting_url",
        ),
        (
            {"mode": SessionMode.RECORDED, "video_url": "file:///etc/passwd"},
            "invalid_url",
            "video_url",
        ),
        ({"mode": "teleport"}, "invalid_choice", "mode"),
    ],
)
def test_each_session_rule_refuses_a_new_session_and_saves_nothing(
    trainer, draft, changes, code, field
):
    error = refused(code, service.add_session, trainer, draft, session_data(**changes))
    assert field in error.fields
    assert count(CourseSession) == 0
    assert "session.create" not in actions()


def test_overlapping_sessions_of_one_course_are_refused(trainer, draft):
    service.add_session(trainer, draft, session_data())  # 09:30–11:30 Shanghai
    db.session.commit()
    error = refused(
        "sessions_overlap",
        service.add_session,
        trainer,
        draft,
        session_data(starts_at=T0 + timedelta(hours=1), ends_at=T0 + timedelta(hours=3)),
    )
    assert "09:30" in str(error.fields["starts_at"][0])  # the other session, in local time
    assert count(CourseSession) == 1
    # Back to back is fine, and so is the same time in another course.
    service.add_session(
        trainer,
        draft,
        session_data(starts_at=T0 + timedelta(hours=2), ends_at=T0 + timedelta(hours=3)),
    )
    other = make_course(trainers=[trainer], status=PublicationStatus.DRAFT)
    service.add_session(trainer, other, session_data())
    db.session.commit()
    assert count(CourseSession) == 3


def test_editing_a_session_checks_the_same_rules_and_changes_nothing_on_failure(trainer, draft):
    first = service.add_session(trainer, draft, session_data())
    second = service.add_session(
        trainer,
        draft,
        session_data(starts_at=T0 + timedelta(days=7), ends_at=T0 + timedelta(days=7, hours=2)),
    )
    db.session.commit()
    # Moving a session within its own time is no overlap with itself.
    service.update_session(trainer, first, {"ends_at": T0 + timedelta(hours=1)})
    db.session.commit()
    refused(
        "sessions_overlap",
        service.update_session,
        trainer,
        second,
        {"starts_at": T0, "ends_at": T0 + timedelta(minutes=30)},
    )
    refused("ends_before_start", service.update_session, trainer, second, {"ends_at": T0})
    refused("invalid_hours", service.update_session, trainer, second, {"class_hours": 0})
    second = fresh(second)
    assert second.starts_at == T0 + timedelta(days=7)
    assert second.class_hours == pytest.approx(2.67)


def test_each_mode_keeps_only_its_own_place_fields(trainer, draft):
    online = service.add_session(
        trainer,
        draft,
        session_data(
            mode=SessionMode.ONLINE,
            venue="会议室",
            meeting_url="https://meeting.tencent.com/dm/123",
            meeting_number="123 456 789",
        ),
    )
    hybrid = service.add_session(
        trainer,
        draft,
        session_data(
            starts_at=T0 + timedelta(days=1),
            ends_at=T0 + timedelta(days=1, hours=2),
            mode=SessionMode.HYBRID,
            room="201",
            meeting_url="http://live.example.org/x",
        ),
    )
    db.session.commit()
    online, hybrid = fresh(online), fresh(hybrid)
    assert (online.venue, online.meeting_url, online.meeting_number) == (
        None,
        "https://meeting.tencent.com/dm/123",
        "123 456 789",
    )
    assert (hybrid.venue, hybrid.room, hybrid.meeting_url) == (
        "桂城街道社会工作服务中心",
        "201",
        "http://live.example.org/x",
    )
    service.update_session(
        trainer, online, {"mode": SessionMode.RECORDED, "video_url": "https://v.example.org/1.mp4"}
    )
    db.session.commit()
    online = fresh(online)
    assert (online.mode, online.meeting_url, online.video_url) == (
        SessionMode.RECORDED,
        None,
        "https://v.example.org/1.mp4",
    )


def test_deleting_sessions(trainer, draft):
    first = service.add_session(trainer, draft, session_data())
    second = service.add_session(
        trainer,
        draft,
        session_data(starts_at=T0 + timedelta(days=1), ends_at=T0 + timedelta(days=1, hours=1)),
    )
    service.set_status(trainer, draft, "published")
    db.session.commit()
    service.delete_session(trainer, second)
    db.session.commit()
    # The last session of a published course stays.
    refused("no_sessions", service.delete_session, trainer, fresh(first))
    assert count(CourseSession) == 1
    assert "session.delete" in actions()


def test_a_session_with_attendance_cannot_be_deleted(trainer, draft):
    session = make_session(draft)
    learner = make_user()
    db.session.add(
        AttendanceRecord(
            session_id=session.id,
            user_id=learner.id,
            status=AttendanceStatus.PRESENT,
            method=AttendanceMethod.ROLL_CALL,
        )
    )
    db.session.commit()
    with pytest.raises(Conflict) as caught:
        service.delete_session(trainer, session)
    db.session.rollback()
    assert caught.value.code == "session_has_attendance"
    assert count(CourseSession) == 1
