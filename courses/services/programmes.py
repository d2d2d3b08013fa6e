"""Programmes (培育计划 / 项目): named groups of courses with their own completion rule.

Only admins create and change programmes. The completion rule: a learner completes
``required_course_count`` of the programme's courses (all when empty) and, when set,
earns ``required_hours`` credited hours. Codes of refused changes:

``required`` (no title), ``invalid_choice`` (level/status), ``invalid_course``
(unknown course ids), ``invalid_course_count`` (not above 0, or more than the
programme has courses), ``invalid_required_hours`` (not above 0), ``no_courses``
(publishing a programme without courses), ``too_long`` (a title or summary longer than
its column; the cleaning rules are those of courses, ``courses.services.courses.rules``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from courses.db import db
from courses.errors import NotFound
from courses.models import Course, CourseLevel, Programme, PublicationStatus, User
from courses.services import audit
from courses.services import courses as course_service
from courses.services.class_hours import round_hours
from courses.services.courses.rules import (
    RuleErrors,
    check_lengths,
    clean_text,
    in_order,
    merged_values,
    optional_text,
    parse_enum,
    refuse_outside_years,
    wanted_ids,
)
from courses.services.pagination import Page, paginate
from courses.services.permissions import (
    can_manage_course,
    require_course_creator,
    require_programme_manager,
)

PROGRAMME_FIELDS = (
    "title",
    "summary",
    "description",
    "level",
    "status",
    "required_course_count",
    "required_hours",
    "certificate_title",
)


def get_programme(programme_id: int) -> Programme:
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        raise NotFound(_l("No such programme."))
    return programme


def list_programmes(
    *,
    include_unpublished: bool = False,
    created_by: User | None = None,
    viewer: User | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[Programme]:
    """Programmes by title with their courses (without their trainers) loaded: the
    count, the programmes and their courses, three statements whatever the numbers.

    Published ones only, unless ``include_unpublished``; a ``viewer`` also sees those
    they manage (an admin all, a trainer the ones they built), as on their pages."""
    statement = (
        sa.select(Programme)
        .options(selectinload(Programme.courses).lazyload(Course.trainers))
        .order_by(Programme.title, Programme.id)
    )
    if not include_unpublished:
        shown: sa.ColumnElement[bool] = Programme.status == PublicationStatus.PUBLISHED
        if viewer is not None and viewer.is_authenticated and viewer.is_admin:
            shown = sa.true()
        elif viewer is not None and viewer.is_authenticated and viewer.is_trainer:
            shown = sa.or_(shown, Programme.created_by_id == viewer.id)
        statement = statement.where(shown)
    if created_by is not None:
        statement = statement.where(Programme.created_by_id == created_by.id)
    return paginate(statement, page, per_page)


def offered_to(actor: User) -> sa.ColumnElement[bool]:
    """The programmes ``actor`` may put a course into: those they manage and that are not
    archived (what ``courses.update_course`` accepts)."""
    offered: sa.ColumnElement[bool] = Programme.status != PublicationStatus.ARCHIVED
    if not actor.is_admin:
        offered = sa.and_(offered, Programme.created_by_id == actor.id)
    return offered


def programme_choices(actor: User, course: Course | None = None) -> list[Programme]:
    """The programmes ``actor`` may put ``course`` into (``offered_to``) and the one it
    is in now: what ``courses.update_course`` accepts."""
    offered = offered_to(actor)
    if course is not None and course.programme_id is not None:
        offered = sa.or_(offered, Programme.id == course.programme_id)
    return list(
        db.session.scalars(
            sa.select(Programme).where(offered).order_by(Programme.title, Programme.id)
        )
    )


def _courses(errors: RuleErrors, ids: Iterable[Any]) -> list[Course]:
    """The courses ``ids`` names, each an existing course (``invalid_course``)."""
    wanted = wanted_ids(
        errors, "course_ids", ids, "invalid_course", _l("Choose courses from the list.")
    )
    if not wanted:
        return []
    found = list(db.session.scalars(sa.select(Course).where(Course.id.in_(wanted))))
    if len(found) != len(wanted):
        errors.add("invalid_course", "course_ids", _l("Choose existing courses only."))
        return []
    return in_order(found, wanted)


def _clean_texts(errors: RuleErrors, values: dict[str, Any]) -> None:
    """A title is required; title and summary keep within their lengths."""
    values["title"] = clean_text(values["title"])
    if not values["title"]:
        errors.add("required", "title", _l("Enter a title."))
    values["summary"] = clean_text(values["summary"])
    check_lengths(errors, values, ("title", "summary"))
    values["description"] = (values["description"] or "").strip()
    values["certificate_title"] = optional_text(values["certificate_title"])


def _clean_choices(errors: RuleErrors, values: dict[str, Any]) -> None:
    """Level (optional) and status are among their options; a programme starts as a draft."""
    values["level"] = (
        parse_enum(errors, CourseLevel, "level", values["level"]) if values["level"] else None
    )
    values["status"] = parse_enum(
        errors, PublicationStatus, "status", values["status"] or PublicationStatus.DRAFT
    )


def _course_count(programme: Programme | None, courses: list[Course] | None) -> int:
    """How many courses the programme will have: those sent, or those it has."""
    if courses is not None:
        return len(courses)
    if programme is not None and programme.id is not None:
        return len(programme.courses)
    return 0


def _required_course_count(errors: RuleErrors, value: Any, course_count: int) -> int | None:
    """How many of its courses complete the programme: empty (all), or 1..course_count."""
    if value in ("", None):
        return None
    try:
        count = int(value)
    except (TypeError, ValueError):
        count = 0
    if count <= 0:
        errors.add(
            "invalid_course_count",
            "required_course_count",
            _l("The number of required courses must be at least 1 (empty: all courses)."),
        )
    elif count > course_count:
        errors.add(
            "invalid_course_count",
            "required_course_count",
            _l(
                "The programme has %(n)d courses; it cannot require more.",
                n=course_count,
            ),
        )
    return count


def _required_hours(errors: RuleErrors, value: Any) -> float | None:
    """The class hours the programme requires: empty (no minimum), or more than 0."""
    if value in ("", None):
        return None
    try:
        hours = round_hours(float(value))
    except (TypeError, ValueError, ArithmeticError):
        hours = 0.0
    if not 0 < hours < 100000:
        errors.add(
            "invalid_required_hours",
            "required_hours",
            _l("The required class hours must be more than 0 (empty: no minimum)."),
        )
    return hours


def _validate(
    programme: Programme | None, data: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Course] | None]:
    """The cleaned values of a whole programme (current values merged with ``data``) and
    its courses (None: unchanged), or every rule it breaks."""
    errors = RuleErrors()
    values = merged_values(PROGRAMME_FIELDS, programme, data)
    _clean_texts(errors, values)
    _clean_choices(errors, values)
    courses = _courses(errors, data["course_ids"]) if "course_ids" in data else None
    course_count = _course_count(programme, courses)
    values["required_course_count"] = _required_course_count(
        errors, values["required_course_count"], course_count
    )
    values["required_hours"] = _required_hours(errors, values["required_hours"])
    if "status" in data and values["status"] == PublicationStatus.PUBLISHED and course_count == 0:
        errors.add(
            "no_courses", "status", _l("Add at least one course before publishing the programme.")
        )
    errors.raise_if_any()
    return values, courses


def _attach(programme: Programme, courses: list[Course]) -> None:
    """Make ``courses`` exactly the programme's courses."""
    wanted = {c.id for c in courses}
    for course in list(programme.courses):
        if course.id not in wanted:
            course.programme_id = None
    for course in courses:
        course.programme_id = programme.id
    db.session.flush()
    db.session.expire(programme, ["courses"])


def _check_courses_are_theirs(
    actor: User, programme: Programme | None, courses: list[Course] | None
) -> None:
    """A trainer may put into (or take out of) a programme only courses they teach."""
    if courses is None or actor.is_admin:
        return
    touched = {c.id: c for c in courses}
    if programme is not None:
        wanted = set(touched)
        touched.update({c.id: c for c in programme.courses if c.id not in wanted})
    if any(not can_manage_course(actor, course) for course in touched.values()):
        errors = RuleErrors()
        errors.add(
            "invalid_course",
            "course_ids",
            _l("You can only add or remove courses that you teach."),
        )
        errors.raise_if_any()


def create_programme(actor: User, data: Mapping[str, Any]) -> Programme:
    """A trainer or admin builds a programme; the trainer then manages it."""
    require_course_creator(actor)
    values, courses = _validate(None, data)
    _check_courses_are_theirs(actor, None, courses)
    programme = Programme(**values, created_by_id=actor.id)
    db.session.add(programme)
    db.session.flush()
    if courses:
        _attach(programme, courses)
    audit.record(
        actor,
        "programme.create",
        "programme",
        programme.id,
        title=programme.title,
        course_ids=[c.id for c in courses or ()],
    )
    return programme


def update_programme(actor: User, programme: Programme, changes: Mapping[str, Any]) -> Programme:
    """Change what ``changes`` names; ``status`` publishes or archives; ``course_ids``
    replaces the programme's courses."""
    require_programme_manager(actor, programme)
    values, courses = _validate(programme, changes)
    _check_courses_are_theirs(actor, programme, courses)
    changed = [
        name
        for name in PROGRAMME_FIELDS
        if name in changes and getattr(programme, name) != values[name]
    ]
    for name in changed:
        setattr(programme, name, values[name])
    if courses is not None and {c.id for c in courses} != {c.id for c in programme.courses}:
        _attach(programme, courses)
        changed.append("course_ids")
    db.session.flush()
    if changed:
        action = "programme.update"
        if "status" in changed:
            action = {
                PublicationStatus.PUBLISHED: "programme.publish",
                PublicationStatus.ARCHIVED: "programme.archive",
                PublicationStatus.DRAFT: "programme.unpublish",
            }[programme.status]
        audit.record(actor, action, "programme", programme.id, fields=sorted(changed))
    return programme


def set_status(actor: User, programme: Programme, status: PublicationStatus | str) -> Programme:
    return update_programme(actor, programme, {"status": status})


#: The programme fields a copy takes over as they are.
COPIED_FIELDS = (
    "summary",
    "description",
    "level",
    "required_course_count",
    "required_hours",
    "certificate_title",
)


def _run_shift(
    courses: list[Course],
    shift_by: timedelta | None,
    first_session_at: datetime | None,
    first_session_on: date | None,
) -> timedelta:
    """How far the new run moves: ``courses.clone_shift`` of all the courses' sessions."""
    if first_session_at is not None:
        refuse_outside_years("first_session_at", [first_session_at], timedelta(0))
    return course_service.clone_shift(
        [s.starts_at for course in courses for s in course.sessions],
        shift_by=shift_by,
        first_session_at=first_session_at,
        first_session_on=first_session_on,
    )


def _copy_title(title: str | None, programme: Programme) -> str:
    """The copy's title: the one given, or the programme's; ``too_long`` beyond its length."""
    new_title = clean_text(title) or programme.title
    errors = RuleErrors()
    check_lengths(errors, {"title": new_title}, ("title",))
    errors.raise_if_any()
    return new_title


def _clone_courses(
    actor: User, courses: list[Course], copy: Programme, shift: timedelta
) -> dict[int, Course]:
    """A clone of each course (by original id) in ``copy``, its prerequisites within the
    programme replaced by their clones."""
    clones = {
        course.id: course_service.clone_course(actor, course, shift_by=shift) for course in courses
    }
    for clone in clones.values():
        clone.programme_id = copy.id
        clone.prerequisites = [clones.get(p.id, p) for p in clone.prerequisites]
    db.session.flush()
    db.session.expire(copy, ["courses"])
    return clones


def clone_programme(
    actor: User,
    programme: Programme,
    *,
    shift_by: timedelta | None = None,
    first_session_at: datetime | None = None,
    first_session_on: date | None = None,
    title: str | None = None,
) -> Programme:
    """A draft copy of ``programme`` for a new run, with a draft clone of each of its
    courses (see ``courses.clone_course``) moved by ``shift_by`` — or by whatever moves
    the programme's first session to ``first_session_at`` (or to the date
    ``first_session_on`` at its time of day; ``courses.clone_shift``). A clone that
    required another course of the programme now requires that course's clone: the new
    run stands alone."""
    require_programme_manager(actor, programme)
    courses = sorted(programme.courses, key=lambda course: course.id)
    shift = _run_shift(courses, shift_by, first_session_at, first_session_on)
    copy = Programme(
        title=_copy_title(title, programme),
        **{name: getattr(programme, name) for name in COPIED_FIELDS},
        status=PublicationStatus.DRAFT,
        created_by_id=actor.id,
    )
    db.session.add(copy)
    db.session.flush()
    clones = _clone_courses(actor, courses, copy, shift)
    audit.record(
        actor,
        "programme.clone",
        "programme",
        copy.id,
        cloned_from_id=programme.id,
        course_ids={str(original): clone.id for original, clone in clones.items()},
    )
    return copy
