"""Programmes (培育计划 / 项目): named groups of courses with their own completion rule.

Only admins create and change programmes. The completion rule: a learner completes
``required_course_count`` of the programme's courses (all when empty) and, when set,
earns ``required_hours`` credited hours. Codes of refused changes:

``required`` (no title), ``invalid_choice`` (level/status), ``invalid_course``
(unknown course ids), ``invalid_course_count`` (not above 0, or more than the
programme has courses), ``invalid_required_hours`` (not above 0), ``no_courses``
(publishing a programme without courses).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from courses.db import database_id, db
from courses.errors import NotFound
from courses.models import Course, CourseLevel, Programme, PublicationStatus, User
from courses.services import audit
from courses.services import courses as course_service
from courses.services.class_hours import round_hours
from courses.services.courses import RuleErrors, clean_text, parse_enum
from courses.services.pagination import Page, paginate
from courses.services.permissions import (
    can_manage_course,
    require_course_creator,
    require_programme_manager,
)
from courses.settings import within_years, years_message

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
    wanted: list[int] = []
    for raw in ids or ():
        if database_id(raw) is None:
            errors.add("invalid_course", "course_ids", _l("Choose courses from the list."))
            return []
        wanted.append(int(raw))
    wanted = list(dict.fromkeys(wanted))
    if not wanted:
        return []
    found = list(db.session.scalars(sa.select(Course).where(Course.id.in_(wanted))))
    if len(found) != len(wanted):
        errors.add("invalid_course", "course_ids", _l("Choose existing courses only."))
        return []
    by_id = {c.id: c for c in found}
    return [by_id[i] for i in wanted]


def _validate(
    programme: Programme | None, data: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Course] | None]:
    errors = RuleErrors()
    values: dict[str, Any] = {}
    for name in PROGRAMME_FIELDS:
        values[name] = data[name] if name in data else getattr(programme, name, None)
    values["title"] = clean_text(values["title"])
    if not values["title"]:
        errors.add("required", "title", _l("Enter a title."))
    elif len(values["title"]) > 120:
        errors.add("too_long", "title", _l("Too long (%(n)d characters at most).", n=120))
    values["summary"] = clean_text(values["summary"])
    if len(values["summary"]) > 500:
        errors.add("too_long", "summary", _l("Too long (%(n)d characters at most).", n=500))
    values["description"] = (values["description"] or "").strip()
    values["certificate_title"] = clean_text(values["certificate_title"]) or None
    values["level"] = (
        parse_enum(errors, CourseLevel, "level", values["level"]) if values["level"] else None
    )
    values["status"] = parse_enum(
        errors, PublicationStatus, "status", values["status"] or PublicationStatus.DRAFT
    )

    courses = _courses(errors, data["course_ids"]) if "course_ids" in data else None
    if courses is not None:
        course_count = len(courses)
    elif programme is not None and programme.id is not None:
        course_count = len(programme.courses)
    else:
        course_count = 0

    count = values["required_course_count"]
    if count in ("", None):
        count = None
    else:
        try:
            count = int(count)
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
    values["required_course_count"] = count

    hours = values["required_hours"]
    if hours in ("", None):
        hours = None
    else:
        try:
            hours = round_hours(float(hours))
        except (TypeError, ValueError, ArithmeticError):
            hours = 0.0
        if not 0 < hours < 100000:
            errors.add(
                "invalid_required_hours",
                "required_hours",
                _l("The required class hours must be more than 0 (empty: no minimum)."),
            )
    values["required_hours"] = hours

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
    if first_session_at is not None and not within_years(first_session_at):
        errors = RuleErrors()
        errors.add("date_out_of_range", "first_session_at", years_message())
        errors.raise_if_any()
    shift_by = course_service.clone_shift(
        [s.starts_at for course in courses for s in course.sessions],
        shift_by=shift_by,
        first_session_at=first_session_at,
        first_session_on=first_session_on,
    )
    new_title = clean_text(title) or programme.title
    if len(new_title) > 120:
        errors = RuleErrors()
        errors.add("too_long", "title", _l("Too long (%(n)d characters at most).", n=120))
        errors.raise_if_any()
    copy = Programme(
        title=new_title,
        summary=programme.summary,
        description=programme.description,
        level=programme.level,
        required_course_count=programme.required_course_count,
        required_hours=programme.required_hours,
        certificate_title=programme.certificate_title,
        status=PublicationStatus.DRAFT,
        created_by_id=actor.id,
    )
    db.session.add(copy)
    db.session.flush()
    clones = {
        course.id: course_service.clone_course(actor, course, shift_by=shift_by)
        for course in courses
    }
    for clone in clones.values():
        clone.programme_id = copy.id
        clone.prerequisites = [clones.get(p.id, p) for p in clone.prerequisites]
    db.session.flush()
    db.session.expire(copy, ["courses"])
    audit.record(
        actor,
        "programme.clone",
        "programme",
        copy.id,
        cloned_from_id=programme.id,
        course_ids={str(original): clone.id for original, clone in clones.items()},
    )
    return copy
