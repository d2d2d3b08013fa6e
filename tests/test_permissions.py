"""Who may manage and see what (``courses.services.permissions``): every rule with the
callers it lets through and those it refuses — visitors, learners, trainers of another
course, the course's own trainers, admins — and inactive accounts, which never reach
these rules because their sessions and tokens name no one."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_login import AnonymousUserMixin

from courses.db import db
from courses.errors import NotFound, PermissionDenied
from courses.models import (
    AttendanceImport,
    CourseMaterial,
    EnrolmentStatus,
    ImportStatus,
    PublicationStatus,
    Role,
)
from courses.services import accounts, permissions, tokens
from tests.factories import (
    make_admin,
    make_course,
    make_enrolment,
    make_programme,
    make_trainer,
    make_user,
)

ANONYMOUS = AnonymousUserMixin()


@pytest.fixture
def people(app_ctx):  # type: ignore[no-untyped-def]
    """A course taught by ``trainer``; ``other`` teaches another course."""
    trainer, other = make_trainer(), make_trainer()
    course = make_course(trainers=[trainer], sessions=1)
    make_course(trainers=[other])
    return {
        "admin": make_admin(),
        "trainer": trainer,
        "other": other,
        "learner": make_user(),
        "course": course,
    }


def _enrol(course, status: EnrolmentStatus):  # type: ignore[no-untyped-def]
    """A new learner with an enrolment of ``status`` in ``course``."""
    learner = make_user()
    extra = {"waitlist_position": 1} if status == EnrolmentStatus.WAITLISTED else {}
    make_enrolment(course, learner, status=status, **extra)
    return learner


CALLERS = ("none", "anonymous", "admin", "trainer", "other", "learner")


def _allowed(check, people, subject=None, extra=()) -> set[str]:  # type: ignore[no-untyped-def]
    """The callers ``check(caller, subject)`` lets through, of every kind there is."""
    subject = people["course"] if subject is None else subject
    callers = {"none": None, "anonymous": ANONYMOUS, **people}
    return {name for name in (*CALLERS, *extra) if check(callers[name], subject)}


def test_course_managers_are_admins_and_the_course_s_own_trainers(people):
    assert _allowed(permissions.can_manage_course, people) == {"admin", "trainer"}


def test_a_learner_with_a_trainer_s_seat_on_the_course_is_no_manager(people):
    """The trainers' table names only trainers who teach; a learner listed there (a role
    taken away later) manages nothing."""
    former = make_user()
    people["course"].trainers.append(former)
    db.session.commit()
    assert permissions.can_manage_course(former, people["course"]) is False


def test_require_course_manager_refuses_with_permission_denied(people):
    permissions.require_course_manager(people["trainer"], people["course"])
    permissions.require_course_manager(people["admin"], people["course"])
    for caller in (None, ANONYMOUS, people["other"], people["learner"]):
        with pytest.raises(PermissionDenied):
            permissions.require_course_manager(caller, people["course"])


def test_trainers_and_admins_create_courses_only_admins_choose_trainers(people):
    creators = {
        name: permissions.can_create_courses(people[name])
        for name in ("admin", "trainer", "other", "learner")
    }
    assert creators == {"admin": True, "trainer": True, "other": True, "learner": False}
    assert not permissions.can_create_courses(None)
    assert not permissions.can_create_courses(ANONYMOUS)
    choosers = {
        name: permissions.can_choose_trainers(people[name])
        for name in ("admin", "trainer", "learner")
    }
    assert choosers == {"admin": True, "trainer": False, "learner": False}
    assert not permissions.can_choose_trainers(None)
    assert not permissions.can_choose_trainers(ANONYMOUS)

    permissions.require_course_creator(people["trainer"])
    permissions.require_course_creator(people["admin"])
    for caller in (None, ANONYMOUS, people["learner"]):
        with pytest.raises(PermissionDenied):
            permissions.require_course_creator(caller)


def test_require_admin_lets_only_admins_through(people):
    permissions.require_admin(people["admin"])
    both = make_user(roles=(Role.TRAINER, Role.ADMIN))
    permissions.require_admin(both)
    for caller in (None, ANONYMOUS, people["trainer"], people["learner"]):
        with pytest.raises(PermissionDenied):
            permissions.require_admin(caller)


def test_a_published_course_is_seen_by_everyone(people):
    assert _allowed(permissions.can_view_course, people) == set(CALLERS)


def test_a_draft_is_seen_by_its_trainers_and_admins_only(people):
    draft = make_course(trainers=[people["trainer"]], status=PublicationStatus.DRAFT)
    enrolled = make_user()
    make_enrolment(draft, enrolled)
    people["enrolled"] = enrolled
    seen = _allowed(permissions.can_view_course, people, draft, extra=("enrolled",))
    assert seen == {"admin", "trainer"}
    with pytest.raises(NotFound):
        permissions.require_course_visible(people["other"], draft)
    permissions.require_course_visible(people["trainer"], draft)


def test_an_archived_course_is_seen_by_those_who_took_it(people):
    archived = make_course(trainers=[people["trainer"]], status=PublicationStatus.ARCHIVED)
    for status in EnrolmentStatus:
        learner = _enrol(archived, status)
        expected = status in permissions.ARCHIVE_VIEWER_STATUSES
        assert permissions.can_view_course(learner, archived) is expected, status
    assert permissions.can_view_course(people["trainer"], archived)
    assert permissions.can_view_course(people["admin"], archived)
    assert not permissions.can_view_course(people["other"], archived)
    assert not permissions.can_view_course(people["learner"], archived)
    assert not permissions.can_view_course(None, archived)
    assert not permissions.can_view_course(ANONYMOUS, archived)
    with pytest.raises(NotFound):
        permissions.require_course_visible(None, archived)


def test_the_meeting_is_seen_by_managers_and_learners_with_a_seat(people):
    course = people["course"]
    for status in EnrolmentStatus:
        learner = _enrol(course, status)
        expected = status in permissions.MEETING_VIEWER_STATUSES
        assert permissions.can_see_meeting(learner, course) is expected, status
    assert _allowed(permissions.can_see_meeting, people) == {"admin", "trainer"}


def test_programmes_are_managed_by_admins_and_the_trainer_who_built_them(people):
    programme = make_programme(created_by_id=people["trainer"].id)
    assert _allowed(permissions.can_manage_programme, people, programme) == {"admin", "trainer"}
    # A builder who is no longer a trainer manages it no more.
    builder = make_user()
    theirs = make_programme(created_by_id=builder.id)
    assert not permissions.can_manage_programme(builder, theirs)
    permissions.require_programme_manager(people["admin"], programme)
    with pytest.raises(PermissionDenied):
        permissions.require_programme_manager(people["other"], programme)


def _material(course) -> CourseMaterial:  # type: ignore[no-untyped-def]
    material = CourseMaterial(
        course_id=course.id,
        title="讲义",
        filename="讲义.pdf",
        content_type="application/pdf",
        size_bytes=1,
        storage_key=f"materials/test-{course.id}",
    )
    db.session.add(material)
    db.session.commit()
    return material


def _report_import(session) -> AttendanceImport:  # type: ignore[no-untyped-def]
    report_import = AttendanceImport(
        session_id=session.id,
        filename="report.csv",
        digest="0" * 64,
        layout="tencent",
        status=ImportStatus.PREVIEW,
    )
    db.session.add(report_import)
    db.session.commit()
    return report_import


def test_the_ownership_lookups_find_what_the_user_manages(people):
    course = people["course"]
    session = course.sessions[0]
    learner = people["learner"]
    enrolment = make_enrolment(course, learner)
    programme = make_programme(created_by_id=people["trainer"].id)
    material = _material(course)
    report_import = _report_import(session)
    lookups = [
        (permissions.managed_course, course),
        (permissions.managed_session, session),
        (permissions.managed_programme, programme),
        (permissions.managed_enrolment, enrolment),
        (permissions.managed_import, report_import),
        (permissions.managed_material, material),
    ]
    for lookup, thing in lookups:
        for manager in (people["trainer"], people["admin"]):
            assert lookup(manager, thing.id) is thing, lookup.__name__
        for refused in (None, ANONYMOUS, people["other"], learner):
            with pytest.raises(PermissionDenied):
                lookup(refused, thing.id)
        with pytest.raises(NotFound):
            lookup(people["admin"], 2**31 - 1)  # an unknown id: 404 whoever asks


def test_an_inactive_account_reaches_no_rule(people):
    """Deactivated, an admin or a trainer is no one: their session and their API tokens
    name no user, so every rule sees a visitor and refuses."""
    for name in ("admin", "trainer"):
        user = people[name]
        secret, _token = tokens.issue(user)
        nonce = user.session_nonce
        accounts.set_active(make_admin(), user, False)
        db.session.commit()
        caller = accounts.load_by_session_nonce(nonce)
        assert caller is None
        assert tokens.authenticate(secret) is None
        assert not permissions.can_manage_course(caller, people["course"])
        assert not permissions.can_see_meeting(caller, people["course"])
        with pytest.raises(PermissionDenied):
            permissions.managed_course(caller, people["course"].id)
        with pytest.raises(PermissionDenied):
            permissions.require_admin(caller)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceImport)) == 0
