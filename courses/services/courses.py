"""Course management: courses, their sessions, publication and cloning for a new run.

Every function checks who is acting, validates the whole change before touching any
row (so a refused change leaves nothing behind), records an audit entry, flushes and
never commits. Each refused rule raises ``ValidationFailed`` with its own ``code``:

===========================  ====================================================
``required``                 a title or topic is missing
``invalid_choice``           unknown level, mode or status
``invalid_capacity``         capacity zero or negative (course and session)
``capacity_below_enrolled``  capacity lowered below the seats already taken
``enrol_window_order``       the enrolment window closes before (or when) it opens
``invalid_threshold``        completion threshold outside (0, 1]
``invalid_trainer``          unknown user id, or a user without the trainer role
``invalid_programme``        unknown programme id, one the actor does not manage, or archived
``invalid_course_count``     leaving a programme that requires more courses than remain
``invalid_prerequisite``     unknown prerequisite course id
``prerequisite_cycle``       the course would (indirectly) be its own prerequisite
``no_sessions``              publishing (or keeping published) a course without sessions
``ends_before_start``        a session ending before or when it starts
``sessions_overlap``         two sessions of one course overlapping in time
``invalid_hours``            class hours zero, negative or too large
``missing_location``         the venue / link / video a session's mode needs is missing
``invalid_url``              a meeting or video link that is not http(s)
``date_out_of_range``        a date outside the years FIRST_YEAR..LAST_YEAR
``number_too_large``         a capacity beyond what the database column holds
===========================  ====================================================

A trainer who sends ``trainer_ids`` naming anyone but the course's own trainers gets
``PermissionDenied`` with code ``trainer_choice_not_allowed``: only admins choose them.

Times given without a zone are wall-clock times in the academy's zone
(``courses.settings.from_local``); they are stored in UTC.

A change of capacity locks the course row first (as every enrolment change does), so
the seats it checks are current; a raised or lifted capacity fills the new seats from
the head of the waitlist in the same transaction (``courses.services.enrolments``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.db import MAX_INTEGER, database_id, db
from courses.errors import Conflict, PermissionDenied, ValidationFailed
from courses.models import (
    AttendanceRecord,
    Course,
    CourseLevel,
    CourseMode,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    Programme,
    PublicationStatus,
    Role,
    SessionMode,
    User,
    UserRole,
    course_prerequisites,
)
from courses.services import attendance, audit, enrolments
from courses.services.class_hours import hours_for_minutes, round_hours
from courses.services.pagination import Page, paginate_rows
from courses.services.permissions import (
    can_choose_trainers,
    can_manage_programme,
    require_course_creator,
    require_course_manager,
)
from courses.services.search import LIKE_ESCAPE, like_pattern
from courses.settings import (
    from_local,
    to_local,
    within_years,
    years_message,
)

MAX_CLASS_HOURS = 999.99  # the column holds 5 digits, 2 of them decimals

COURSE_FIELDS = (
    "title",
    "summary",
    "description",
    "topic",
    "level",
    "mode",
    "capacity",
    "enrol_opens_at",
    "enrol_closes_at",
    "cancel_deadline",
    "completion_threshold",
    "feedback_required",
    "approval_required",
    "programme_id",
    "status",
)
SESSION_FIELDS = (
    "title",
    "starts_at",
    "ends_at",
    "mode",
    "venue",
    "room",
    "address",
    "meeting_url",
    "meeting_number",
    "video_url",
    "class_hours",
    "capacity",
)
#: The place fields each session mode uses; the others are cleared. A replay link
#: (``video_url``) may accompany any mode.
MODE_FIELDS: dict[SessionMode, frozenset[str]] = {
    SessionMode.OFFLINE: frozenset({"venue", "room", "address", "video_url"}),
    SessionMode.ONLINE: frozenset({"meeting_url", "meeting_number", "video_url"}),
    SessionMode.RECORDED: frozenset({"video_url"}),
    SessionMode.HYBRID: frozenset(
        {"venue", "room", "address", "meeting_url", "meeting_number", "video_url"}
    ),
}
#: The fields each mode cannot do without.
MODE_REQUIRED: dict[SessionMode, tuple[str, ...]] = {
    SessionMode.OFFLINE: ("venue",),
    SessionMode.ONLINE: ("meeting_url",),
    SessionMode.RECORDED: ("video_url",),
    SessionMode.HYBRID: ("venue", "meeting_url"),
}
PLACE_FIELDS = ("venue", "room", "address", "meeting_url", "meeting_number", "video_url")
_MAX_LENGTHS = {
    "title": 120,
    "summary": 500,
    "topic": 40,
    "venue": 120,
    "room": 60,
    "address": 255,
    "meeting_url": 500,
    "meeting_number": 40,
    "video_url": 500,
}


# --- collecting errors -------------------------------------------------------------------


@dataclass
class RuleErrors:
    """Every refused field at once; the first rule broken gives the error's code."""

    fields: dict[str, list[Any]] = field(default_factory=dict)
    code: str | None = None
    message: Any = None

    def add(self, code: str, name: str, message: Any) -> None:
        self.fields.setdefault(name, []).append(message)
        if self.code is None:
            self.code, self.message = code, message

    def raise_if_any(self) -> None:
        if self.code is not None:
            raise ValidationFailed(self.message, fields=self.fields, code=self.code)


def clean_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _optional_text(value: Any) -> str | None:
    return clean_text(value) or None


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return from_local(value)


def _in_years(errors: RuleErrors, name: str, value: datetime | None) -> datetime | None:
    """``value`` if it lies in the years the academy plans for; otherwise an error and None
    (checked before any conversion, so that no time-zone arithmetic can overflow)."""
    if value is None or within_years(value):
        return value
    errors.add("date_out_of_range", name, years_message())
    return None


def _refuse_outside_years(name: str, moments: Iterable[datetime], shift: timedelta) -> None:
    """Refuse moving any of ``moments`` by ``shift`` outside FIRST_YEAR..LAST_YEAR."""
    try:
        inside = all(within_years(moment + shift) for moment in moments)
    except OverflowError:
        inside = False
    if not inside:
        message = years_message()
        raise ValidationFailed(message, fields={name: [message]}, code="date_out_of_range")


def parse_enum(errors: RuleErrors, enum_cls: type, name: str, value: Any) -> Any:
    try:
        return enum_cls(value)
    except ValueError:
        errors.add("invalid_choice", name, _l("Choose one of the options offered."))
        return None


def _int_or_none(errors: RuleErrors, name: str, value: Any, code: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors.add(code, name, _l("Enter a whole number."))
        return None
    if abs(number) > MAX_INTEGER:
        errors.add("number_too_large", name, _l("Enter a smaller number."))
        return None
    return number


def _check_lengths(errors: RuleErrors, values: Mapping[str, Any], names: Iterable[str]) -> None:
    for name in names:
        limit = _MAX_LENGTHS.get(name)
        value = values.get(name)
        if limit and isinstance(value, str) and len(value) > limit:
            errors.add("too_long", name, _l("Too long (%(n)d characters at most).", n=limit))


# --- reading ------------------------------------------------------------------------------


def course_class_hours(course: Course | int) -> float:
    """The course's class hours: the sum of its sessions' hours, added up in SQL."""
    course_id = course if isinstance(course, int) else course.id
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(CourseSession.class_hours), 0)).where(
            CourseSession.course_id == course_id
        )
    )
    return round_hours(total)


def default_class_hours(starts_at: datetime, ends_at: datetime) -> float:
    """The session's length in class hours (``class_hours.hours_for_minutes``): 90
    minutes at 45 per hour are 2.0, 100 minutes 2.22."""
    return hours_for_minutes((ends_at - starts_at).total_seconds() / 60)


@dataclass(frozen=True)
class ManagedCourse:
    """A line of the management list: the course and its figures, counted in SQL."""

    course: Course
    session_count: int
    class_hours: float
    pending: int
    waitlisted: int

    def __getattr__(self, name: str) -> Any:
        return getattr(self.course, name)


def managed_course_page(
    actor: User,
    *,
    q: str | None = None,
    status: PublicationStatus | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[ManagedCourse]:
    """One page of the courses ``actor`` manages (all for admins), newest first, with
    their sessions, class hours and waiting enrolments: the count, the page and the
    trainers of its courses, whatever the number of courses.

    ``q`` searches the title, the topic and the trainers' names."""
    sessions = (
        sa.select(
            CourseSession.course_id.label("course_id"),
            sa.func.count(CourseSession.id).label("n"),
            sa.func.coalesce(sa.func.sum(CourseSession.class_hours), 0).label("hours"),
        )
        .group_by(CourseSession.course_id)
        .subquery("session_figures")
    )
    waiting = (
        sa.select(
            Enrolment.course_id.label("course_id"),
            sa.func.sum(sa.case((Enrolment.status == EnrolmentStatus.PENDING, 1), else_=0)).label(
                "pending"
            ),
            sa.func.sum(
                sa.case((Enrolment.status == EnrolmentStatus.WAITLISTED, 1), else_=0)
            ).label("waitlisted"),
        )
        .where(Enrolment.status.in_((EnrolmentStatus.PENDING, EnrolmentStatus.WAITLISTED)))
        .group_by(Enrolment.course_id)
        .subquery("waiting_figures")
    )
    statement = (
        sa.select(
            Course,
            sa.func.coalesce(sessions.c.n, 0),
            sa.func.coalesce(sessions.c.hours, 0),
            sa.func.coalesce(waiting.c.pending, 0),
            sa.func.coalesce(waiting.c.waitlisted, 0),
        )
        .outerjoin(sessions, sessions.c.course_id == Course.id)
        .outerjoin(waiting, waiting.c.course_id == Course.id)
        .order_by(Course.created_at.desc(), Course.id.desc())
    )
    if not actor.is_admin:
        statement = statement.where(Course.trainers.any(User.id == actor.id))
    if status is not None:
        statement = statement.where(Course.status == status)
    term = clean_text(q)[:60]
    if term:
        pattern = like_pattern(term)
        statement = statement.where(
            sa.or_(
                Course.title.ilike(pattern, escape=LIKE_ESCAPE),
                Course.topic.ilike(pattern, escape=LIKE_ESCAPE),
                Course.trainers.any(User.name.ilike(pattern, escape=LIKE_ESCAPE)),
            )
        )
    rows = paginate_rows(statement, page, per_page)
    items = [
        ManagedCourse(course, int(n), round_hours(hours), int(pending), int(waitlisted))
        for course, n, hours, pending, waitlisted in rows.items
    ]
    return Page(items=items, total=rows.total, page=rows.page, per_page=rows.per_page)


def managed_status_counts(actor: User) -> dict[PublicationStatus, int]:
    """How many of the courses ``actor`` manages are in each state, in one statement."""
    statement = sa.select(Course.status, sa.func.count()).group_by(Course.status)
    if not actor.is_admin:
        statement = statement.where(Course.trainers.any(User.id == actor.id))
    counts = dict.fromkeys(PublicationStatus, 0)
    counts.update({status: int(n) for status, n in db.session.execute(statement)})
    return counts


# --- courses --------------------------------------------------------------------------------


def _trainers(errors: RuleErrors, ids: Iterable[Any]) -> list[User]:
    wanted: list[int] = []
    for raw in ids or ():
        if database_id(raw) is None:
            errors.add("invalid_trainer", "trainer_ids", _l("Choose trainers from the list."))
            return []
        wanted.append(int(raw))
    wanted = list(dict.fromkeys(wanted))
    if not wanted:
        return []
    found = list(
        db.session.scalars(
            sa.select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(User.id.in_(wanted), UserRole.role == Role.TRAINER, User.is_active.is_(True))
        )
    )
    if len(found) != len(wanted):
        errors.add(
            "invalid_trainer",
            "trainer_ids",
            _l("Only existing, active users with the trainer role can teach a course."),
        )
        return []
    by_id = {user.id: user for user in found}
    return [by_id[i] for i in wanted]


def require_trainer_choice(actor: User, course: Course | None, data: Mapping[str, Any]) -> None:
    """Only admins choose trainers: a trainer who sends ``trainer_ids`` must send the
    course's own trainers (themselves on a new course), as the API returns them.

    Raises ``PermissionDenied`` (``trainer_choice_not_allowed``) before anything else is
    checked, so nothing of the change is applied.
    """
    if "trainer_ids" not in data or can_choose_trainers(actor):
        return
    current = {t.id for t in course.trainers} if course is not None else set()
    try:
        wanted: set[int] | None = {int(raw) for raw in data["trainer_ids"] or ()}
    except (TypeError, ValueError):
        wanted = None
    if wanted is not None and wanted | {actor.id} == current | {actor.id}:
        return
    raise PermissionDenied(
        _l("Only an administrator can choose the trainers of a course."),
        code="trainer_choice_not_allowed",
    )


def _prerequisites(errors: RuleErrors, course: Course | None, ids: Iterable[Any]) -> list[Course]:
    wanted: list[int] = []
    for raw in ids or ():
        if database_id(raw) is None:
            errors.add(
                "invalid_prerequisite", "prerequisite_ids", _l("Choose courses from the list.")
            )
            return []
        wanted.append(int(raw))
    wanted = list(dict.fromkeys(wanted))
    if not wanted:
        return []
    if course is not None and course.id is not None and course.id in wanted:
        errors.add(
            "prerequisite_cycle",
            "prerequisite_ids",
            _l("A course cannot be its own prerequisite."),
        )
        return []
    found = list(db.session.scalars(sa.select(Course).where(Course.id.in_(wanted))))
    if len(found) != len(wanted):
        errors.add("invalid_prerequisite", "prerequisite_ids", _l("Choose existing courses only."))
        return []
    if course is not None and course.id is not None and _reaches(wanted, course.id):
        errors.add(
            "prerequisite_cycle",
            "prerequisite_ids",
            _l(
                "These prerequisites would form a cycle: one of them already requires "
                "this course, directly or through other courses."
            ),
        )
        return []
    by_id = {c.id: c for c in found}
    return [by_id[i] for i in wanted]


def _reaches(start_ids: list[int], target_id: int) -> bool:
    """Whether ``target_id`` is among the prerequisites (at any depth) of ``start_ids``.

    One recursive query over ``course_prerequisites``; UNION (not UNION ALL) stops the
    walk on courses already seen, so it ends even on a graph that is not acyclic.
    """
    edges = course_prerequisites
    reachable = (
        sa.select(Course.id.label("course_id"))
        .where(Course.id.in_(start_ids))
        .cte("reachable", recursive=True)
    )
    reachable = reachable.union(
        sa.select(edges.c.prerequisite_id).where(edges.c.course_id == reachable.c.course_id)
    )
    found = db.session.scalar(
        sa.select(reachable.c.course_id).where(reachable.c.course_id == target_id).limit(1)
    )
    return found is not None


def _programme(errors: RuleErrors, value: Any) -> Programme | None:
    if value in (None, "", 0, "0"):
        return None
    programme_id = database_id(value)
    programme = db.session.get(Programme, programme_id) if programme_id is not None else None
    if programme is None:
        errors.add("invalid_programme", "programme_id", _l("Choose an existing programme."))
    return programme


def _check_leaving_programme(errors: RuleErrors, course: Course) -> None:
    """A course may leave its programme only if the programme's rule still can be met."""
    left = db.session.get(Programme, course.programme_id)
    if left is None or left.required_course_count is None:
        return
    remaining = db.session.scalar(
        sa.select(sa.func.count()).where(Course.programme_id == left.id, Course.id != course.id)
    )
    if int(remaining or 0) < left.required_course_count:
        errors.add(
            "invalid_course_count",
            "programme_id",
            _l(
                "The programme %(title)s requires %(n)d courses; this course cannot leave it.",
                title=left.title,
                n=left.required_course_count,
            ),
        )


def _session_count(course: Course) -> int:
    if course.id is None:
        return 0
    return int(
        db.session.scalar(sa.select(sa.func.count()).where(CourseSession.course_id == course.id))
        or 0
    )


def _validate_course(
    actor: User, course: Course | None, data: Mapping[str, Any]
) -> tuple[dict[str, Any], list[User] | None, list[Course] | None]:
    """The cleaned values of a whole course (current values merged with ``data``)."""
    errors = RuleErrors()
    values: dict[str, Any] = {}
    for name in COURSE_FIELDS:
        values[name] = data[name] if name in data else getattr(course, name, None)

    for name in ("title", "topic"):
        values[name] = clean_text(values[name])
        if not values[name]:
            errors.add(
                "required",
                name,
                _l("Enter a title.") if name == "title" else _l("Enter a topic."),
            )
    values["summary"] = clean_text(values["summary"])
    values["description"] = (values["description"] or "").strip()
    _check_lengths(errors, values, ("title", "summary", "topic"))

    values["level"] = parse_enum(errors, CourseLevel, "level", values["level"])
    values["mode"] = parse_enum(errors, CourseMode, "mode", values["mode"])
    values["status"] = parse_enum(
        errors, PublicationStatus, "status", values["status"] or PublicationStatus.DRAFT
    )

    capacity = _int_or_none(errors, "capacity", values["capacity"], "invalid_capacity")
    values["capacity"] = capacity
    if capacity is not None:
        if capacity <= 0:
            errors.add(
                "invalid_capacity",
                "capacity",
                _l("The capacity must be at least 1 (leave it empty for no limit)."),
            )
        elif course is not None and capacity < (course.seats_taken or 0):
            errors.add(
                "capacity_below_enrolled",
                "capacity",
                _l(
                    "%(n)d learners are already enrolled; the capacity cannot be lower.",
                    n=course.seats_taken,
                ),
            )

    for name in ("enrol_opens_at", "enrol_closes_at", "cancel_deadline"):
        values[name] = _aware(_in_years(errors, name, values[name]))
    opens, closes = values["enrol_opens_at"], values["enrol_closes_at"]
    if opens is not None and closes is not None and closes <= opens:
        errors.add(
            "enrol_window_order",
            "enrol_closes_at",
            _l("Enrolment must close after it opens."),
        )

    threshold = values["completion_threshold"]
    if threshold is None or threshold == "":
        threshold = 0.8
    try:
        threshold = float(threshold)
    except (TypeError, ValueError):
        threshold = -1.0
    if not 0 < threshold <= 1:
        errors.add(
            "invalid_threshold",
            "completion_threshold",
            _l(
                "The completion threshold must be more than 0 and at most 1 "
                "(0.8: 80 per cent of the class hours)."
            ),
        )
    values["completion_threshold"] = threshold
    values["feedback_required"] = bool(values["feedback_required"])
    values["approval_required"] = bool(values["approval_required"])

    programme = _programme(errors, values["programme_id"])
    values["programme_id"] = programme.id if programme is not None else None
    current_programme_id = course.programme_id if course is not None else None
    if current_programme_id != values["programme_id"]:
        # Moving a course into or out of a programme changes that programme: only those
        # who manage it may (the same rule as editing the programme's course list).
        touched = [p for p in (programme, course.programme if course else None) if p]
        if any(not can_manage_programme(actor, p) for p in touched):
            errors.add(
                "invalid_programme",
                "programme_id",
                _l("You can only move a course into or out of a programme you manage."),
            )
        elif programme is not None and programme.status == PublicationStatus.ARCHIVED:
            errors.add(
                "invalid_programme",
                "programme_id",
                _l("This programme is archived: no course can be added to it."),
            )
    if course is not None and course.programme_id not in (None, values["programme_id"]):
        _check_leaving_programme(errors, course)

    trainers = _trainers(errors, data["trainer_ids"]) if "trainer_ids" in data else None
    if course is None and trainers is None:
        trainers = []
    if trainers is not None and not actor.is_admin and actor not in trainers:
        trainers.append(actor)  # a trainer always keeps teaching the course they edit
    prerequisites = (
        _prerequisites(errors, course, data["prerequisite_ids"])
        if "prerequisite_ids" in data
        else None
    )

    publishing = "status" in data and values["status"] == PublicationStatus.PUBLISHED
    if publishing and (course is None or _session_count(course) == 0):
        errors.add(
            "no_sessions",
            "status",
            _l("Add at least one session before publishing the course."),
        )
    errors.raise_if_any()
    return values, trainers, prerequisites


def create_course(actor: User, data: Mapping[str, Any]) -> Course:
    """A new course; a trainer who creates it becomes one of its trainers."""
    require_course_creator(actor)
    require_trainer_choice(actor, None, data)
    values, trainers, prerequisites = _validate_course(actor, None, data)
    course = Course(**values, created_by_id=actor.id)
    course.trainers = trainers or []
    course.prerequisites = prerequisites or []
    db.session.add(course)
    db.session.flush()
    audit.record(
        actor,
        "course.create",
        "course",
        course.id,
        title=course.title,
        trainer_ids=[t.id for t in course.trainers],
    )
    return course


def update_course(actor: User, course: Course, changes: Mapping[str, Any]) -> Course:
    """Change what ``changes`` names; a ``status`` in it publishes, unpublishes or archives."""
    require_course_manager(actor, course)
    require_trainer_choice(actor, course, changes)
    if "capacity" in changes:
        # Fresh seat figures, and enrolments in this course wait until we commit.
        enrolments.lock_course(course)
    values, trainers, prerequisites = _validate_course(actor, course, changes)
    before_status = course.status
    capacity_before = course.capacity
    changed = [
        name for name in COURSE_FIELDS if name in changes and getattr(course, name) != values[name]
    ]
    for name in changed:
        setattr(course, name, values[name])
    if trainers is not None and {t.id for t in trainers} != {t.id for t in course.trainers}:
        course.trainers = trainers
        changed.append("trainer_ids")
    if prerequisites is not None and {c.id for c in prerequisites} != {
        c.id for c in course.prerequisites
    }:
        course.prerequisites = prerequisites
        changed.append("prerequisite_ids")
    db.session.flush()
    if "capacity" in changed and (
        course.capacity is None
        or (capacity_before is not None and course.capacity > capacity_before)
    ):
        enrolments.fill_free_seats(actor, course)  # new seats go to the waitlist's head
    if {"completion_threshold", "feedback_required"} & set(changed):
        attendance.evaluate_course(course)  # the completion rule changed
    if changed:
        action = "course.update"
        if "status" in changed:
            action = {
                PublicationStatus.PUBLISHED: "course.publish",
                PublicationStatus.ARCHIVED: "course.archive",
                PublicationStatus.DRAFT: "course.unpublish",
            }[course.status]
        audit.record(
            actor,
            action,
            "course",
            course.id,
            fields=sorted(changed),
            status_before=str(before_status),
        )
    return course


def set_status(actor: User, course: Course, status: PublicationStatus | str) -> Course:
    """Publish, archive or return a course to draft."""
    return update_course(actor, course, {"status": status})


def _clone_date_error(
    name: str, message: Any, code: str = "invalid_clone_date"
) -> ValidationFailed:
    return ValidationFailed(message, fields={name: [message]}, code=code)


def clone_shift(
    starts: Sequence[datetime],
    *,
    shift_by: timedelta | None = None,
    first_session_at: datetime | None = None,
    first_session_on: date | None = None,
) -> timedelta:
    """How far a new run moves in time, from at most one of: ``shift_by``; the moment
    ``first_session_at`` the earliest of ``starts`` moves to; or the date
    ``first_session_on`` it moves to, keeping its time of day in the academy's zone.
    Nothing given: the dates stay. A date with no session to move is refused."""
    given = [
        name
        for name, value in (
            ("shift_days", shift_by),
            ("first_session_at", first_session_at),
            ("first_session_on", first_session_on),
        )
        if value is not None
    ]
    if len(given) > 1:
        raise _clone_date_error(
            given[-1],
            _l("Give either the first session's new date or a number of days, not both."),
            code="conflicting_clone_dates",
        )
    if given in (["first_session_at"], ["first_session_on"]) and not starts:
        raise _clone_date_error(
            given[0],
            _l("There is no session to move: clone it without a date, then add sessions."),
            code="no_sessions",
        )
    try:
        if first_session_on is not None:
            first_session_at = datetime.combine(first_session_on, to_local(min(starts)).time())
        if first_session_at is not None:
            return from_local(first_session_at) - min(starts)
    except (OverflowError, ValueError):
        raise _clone_date_error(given[0], _l("Choose a date within a sensible range.")) from None
    return shift_by or timedelta(0)


def _moved_sessions(
    copy: Course, sessions: Sequence[CourseSession], shift: timedelta
) -> list[dict[str, Any]]:
    """The values of each session moved by ``shift``, through every rule a new session
    meets (``_validate_session``), so a clone holds only sessions one could add."""
    moved = []
    for session in sessions:
        values = {name: getattr(session, name) for name in SESSION_FIELDS}
        try:
            values["starts_at"] = session.starts_at + shift
            values["ends_at"] = session.ends_at + shift
        except OverflowError:
            raise _clone_date_error(
                "first_session_on", _l("Choose a date within a sensible range.")
            ) from None
        moved.append(_validate_session(copy, None, values))
    return moved


def clone_course(
    actor: User,
    course: Course,
    *,
    shift_by: timedelta | None = None,
    first_session_at: datetime | None = None,
    first_session_on: date | None = None,
    title: str | None = None,
) -> Course:
    """A draft copy of ``course`` for a new run: same trainers, prerequisites, programme
    and rules, every session (and the enrolment window) moved by ``shift_by`` — or by
    whatever moves the first session to ``first_session_at``, or to the date
    ``first_session_on`` at its time of day (``clone_shift``). Nobody is enrolled."""
    require_course_manager(actor, course)
    require_course_creator(actor)
    sessions = sorted(course.sessions, key=lambda s: s.starts_at)
    if first_session_at is not None:
        _refuse_outside_years("first_session_at", [first_session_at], timedelta(0))
    shift = clone_shift(
        [s.starts_at for s in sessions],
        shift_by=shift_by,
        first_session_at=first_session_at,
        first_session_on=first_session_on,
    )
    _refuse_outside_years(
        "first_session_at"
        if first_session_at is not None
        else "first_session_on"
        if first_session_on is not None
        else "shift_days",
        [moment for s in sessions for moment in (s.starts_at, s.ends_at)],
        shift,
    )
    new_title = clean_text(title) or course.title
    if len(new_title) > 120:
        raise ValidationFailed(
            fields={"title": [_l("Too long (%(n)d characters at most).", n=120)]},
            code="too_long",
        )

    def moved(value: datetime | None) -> datetime | None:
        if value is None:
            return None
        try:
            return value + shift
        except OverflowError:
            raise _clone_date_error(
                "first_session_on", _l("Choose a date within a sensible range.")
            ) from None

    trainers = list(course.trainers)
    if not actor.is_admin and actor not in trainers:
        trainers.append(actor)
    copy = Course(
        title=new_title,
        summary=course.summary,
        description=course.description,
        topic=course.topic,
        level=course.level,
        mode=course.mode,
        capacity=course.capacity,
        enrol_opens_at=moved(course.enrol_opens_at),
        enrol_closes_at=moved(course.enrol_closes_at),
        cancel_deadline=moved(course.cancel_deadline),
        completion_threshold=course.completion_threshold,
        feedback_required=course.feedback_required,
        approval_required=course.approval_required,
        programme_id=course.programme_id,
        status=PublicationStatus.DRAFT,
        cloned_from_id=course.id,
        created_by_id=actor.id,
    )
    copy.trainers = trainers
    copy.prerequisites = list(course.prerequisites)
    copy.sessions = [CourseSession(**values) for values in _moved_sessions(copy, sessions, shift)]
    db.session.add(copy)
    db.session.flush()
    audit.record(
        actor,
        "course.clone",
        "course",
        copy.id,
        cloned_from_id=course.id,
        shift_seconds=int(shift.total_seconds()),
    )
    return copy


# --- sessions -------------------------------------------------------------------------------


def _url(errors: RuleErrors, name: str, value: str | None) -> None:
    if value is None:
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        errors.add("invalid_url", name, _l("Enter a link starting with http:// or https://."))


def _validate_session(
    course: Course, session: CourseSession | None, data: Mapping[str, Any]
) -> dict[str, Any]:
    errors = RuleErrors()
    values: dict[str, Any] = {}
    for name in SESSION_FIELDS:
        values[name] = data[name] if name in data else getattr(session, name, None)

    values["title"] = clean_text(values["title"])
    for name in PLACE_FIELDS:
        values[name] = _optional_text(values[name])
    _check_lengths(errors, values, ("title", *PLACE_FIELDS))

    mode = parse_enum(errors, SessionMode, "mode", values["mode"])
    values["mode"] = mode
    if mode is not None:
        for name in PLACE_FIELDS:
            if name not in MODE_FIELDS[mode]:
                values[name] = None
        for name in MODE_REQUIRED[mode]:
            if values[name] is None:
                message = {
                    "venue": _l("Enter the venue of this session."),
                    "meeting_url": _l("Enter the link of the online meeting."),
                    "video_url": _l("Enter the link of the recorded video."),
                }[name]
                errors.add("missing_location", name, message)
    _url(errors, "meeting_url", values["meeting_url"])
    _url(errors, "video_url", values["video_url"])

    given_start, given_end = values["starts_at"], values["ends_at"]
    starts_at = _aware(_in_years(errors, "starts_at", given_start))
    ends_at = _aware(_in_years(errors, "ends_at", given_end))
    values["starts_at"], values["ends_at"] = starts_at, ends_at
    if given_start is None:
        errors.add("required", "starts_at", _l("Enter when the session starts."))
    if given_end is None:
        errors.add("required", "ends_at", _l("Enter when the session ends."))
    if starts_at is not None and ends_at is not None:
        if ends_at <= starts_at:
            errors.add("ends_before_start", "ends_at", _l("The session must end after it starts."))
        else:
            overlapping = _overlapping(course, session, starts_at, ends_at)
            if overlapping is not None:
                errors.add(
                    "sessions_overlap",
                    "starts_at",
                    _l(
                        "This session overlaps another session of the course "
                        "(%(start)s – %(end)s).",
                        start=_local_label(overlapping.starts_at),
                        end=_local_label(overlapping.ends_at),
                    ),
                )

    hours = values["class_hours"]
    times_changed = "starts_at" in data or "ends_at" in data
    if hours in (None, "") or (session is not None and times_changed and "class_hours" not in data):
        # Not given: derived from the duration (again, when the times move).
        hours = (
            default_class_hours(starts_at, ends_at)
            if starts_at is not None and ends_at is not None and ends_at > starts_at
            else None
        )
    if hours is not None:
        try:
            hours = round_hours(float(hours))
        except (TypeError, ValueError, ArithmeticError):
            hours = -1.0
        if not 0 < hours <= MAX_CLASS_HOURS:
            errors.add(
                "invalid_hours",
                "class_hours",
                _l("Class hours must be more than 0 (and below 1000)."),
            )
    values["class_hours"] = hours

    capacity = _int_or_none(errors, "capacity", values["capacity"], "invalid_capacity")
    if capacity is not None and capacity <= 0:
        errors.add(
            "invalid_capacity",
            "capacity",
            _l("The capacity must be at least 1 (leave it empty for no limit)."),
        )
    values["capacity"] = capacity
    errors.raise_if_any()
    return values


def _local_label(value: datetime) -> str:
    from courses.settings import to_local

    return to_local(value).strftime("%Y-%m-%d %H:%M")


def _overlapping(
    course: Course, session: CourseSession | None, starts_at: datetime, ends_at: datetime
) -> CourseSession | None:
    """Another session of the course sharing some time with [starts_at, ends_at)."""
    if course.id is None:
        return None
    statement = (
        sa.select(CourseSession)
        .where(
            CourseSession.course_id == course.id,
            CourseSession.starts_at < ends_at,
            CourseSession.ends_at > starts_at,
        )
        .order_by(CourseSession.starts_at)
        .limit(1)
    )
    if session is not None and session.id is not None:
        statement = statement.where(CourseSession.id != session.id)
    with db.session.no_autoflush:
        return db.session.scalar(statement)


#: Session fields that change what its attendance records are worth.
CREDIT_FIELDS = frozenset({"starts_at", "ends_at", "class_hours", "late_after_minutes"})


def add_session(actor: User, course: Course, data: Mapping[str, Any]) -> CourseSession:
    require_course_manager(actor, course)
    values = _validate_session(course, None, data)
    session = CourseSession(course_id=course.id, **values)
    db.session.add(session)
    db.session.flush()
    db.session.expire(course, ["sessions"])
    attendance.evaluate_course(course)  # the course's hours, and so the threshold, grew
    audit.record(
        actor,
        "session.create",
        "course_session",
        session.id,
        course_id=course.id,
        starts_at=session.starts_at.isoformat(),
    )
    return session


def update_session(
    actor: User, session: CourseSession, changes: Mapping[str, Any]
) -> CourseSession:
    course = session.course
    require_course_manager(actor, course)
    values = _validate_session(course, session, changes)
    changed = [name for name in SESSION_FIELDS if getattr(session, name) != values[name]]
    for name in changed:
        setattr(session, name, values[name])
    db.session.flush()
    if set(changed) & CREDIT_FIELDS:  # what the records are worth changed
        attendance.evaluate_course(course, rederive=session)
    if changed:
        audit.record(
            actor,
            "session.update",
            "course_session",
            session.id,
            course_id=course.id,
            fields=sorted(changed),
        )
    return session


def delete_session(actor: User, session: CourseSession) -> None:
    """Remove a session that nobody attended; a published course keeps at least one."""
    course = session.course
    require_course_manager(actor, course)
    attended = db.session.scalar(
        sa.select(AttendanceRecord.id).where(AttendanceRecord.session_id == session.id).limit(1)
    )
    if attended is not None:
        raise Conflict(
            _l("Attendance has been recorded for this session; it cannot be deleted."),
            code="session_has_attendance",
        )
    if course.status == PublicationStatus.PUBLISHED and _session_count(course) <= 1:
        raise ValidationFailed(
            _l("A published course needs at least one session; archive the course instead."),
            fields={"status": [_l("A published course needs at least one session.")]},
            code="no_sessions",
        )
    session_id, starts_at = session.id, session.starts_at
    db.session.delete(session)
    db.session.flush()
    db.session.expire(course, ["sessions"])
    attendance.evaluate_course(course)
    audit.record(
        actor,
        "session.delete",
        "course_session",
        session_id,
        course_id=course.id,
        starts_at=starts_at.isoformat(),
    )
