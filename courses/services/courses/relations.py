"""The rows a course refers to, checked before a course is saved: who teaches it
(``trainer_ids``), what it requires first (``prerequisite_ids``) and which programme
holds it (``programme_id``).

Rules: only admins choose trainers (a trainer may send back the course's own); a
trainer is an active user with the trainer role; a prerequisite exists and never makes
the course (indirectly) its own prerequisite; a course moves into or out of only a
programme its editor manages, never into an archived one, and never out of one whose
required number of courses would then be out of reach.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.db import database_id, db
from courses.errors import PermissionDenied
from courses.models import (
    Course,
    Programme,
    PublicationStatus,
    Role,
    User,
    UserRole,
    course_prerequisites,
)
from courses.services.courses.rules import RuleErrors, in_order, wanted_ids
from courses.services.permissions import can_choose_trainers, can_manage_programme

# --- trainers -----------------------------------------------------------------------------


def trainers(errors: RuleErrors, ids: Iterable[Any]) -> list[User]:
    """The users ``ids`` names, each an active trainer (``invalid_trainer``)."""
    wanted = wanted_ids(
        errors, "trainer_ids", ids, "invalid_trainer", _l("Choose trainers from the list.")
    )
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
    return in_order(found, wanted)


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


# --- prerequisites ------------------------------------------------------------------------


def prerequisites(errors: RuleErrors, course: Course | None, ids: Iterable[Any]) -> list[Course]:
    """The courses ``ids`` names (``invalid_prerequisite``), none of them ``course``
    itself or requiring it (``prerequisite_cycle``)."""
    wanted = wanted_ids(
        errors,
        "prerequisite_ids",
        ids,
        "invalid_prerequisite",
        _l("Choose courses from the list."),
    )
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
    return in_order(found, wanted)


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


# --- the programme ------------------------------------------------------------------------


def programme_id(errors: RuleErrors, actor: User, course: Course | None, value: Any) -> int | None:
    """The id of the programme ``value`` names (none when empty), after the rules of
    moving ``course`` into or out of a programme."""
    programme = _programme(errors, value)
    chosen = programme.id if programme is not None else None
    current = course.programme_id if course is not None else None
    if current != chosen:
        _check_programme_move(errors, actor, course, programme)
    if course is not None and course.programme_id not in (None, chosen):
        _check_leaving_programme(errors, course)
    return chosen


def _programme(errors: RuleErrors, value: Any) -> Programme | None:
    if value in (None, "", 0, "0"):
        return None
    programme_id = database_id(value)
    programme = db.session.get(Programme, programme_id) if programme_id is not None else None
    if programme is None:
        errors.add("invalid_programme", "programme_id", _l("Choose an existing programme."))
    return programme


def _check_programme_move(
    errors: RuleErrors, actor: User, course: Course | None, programme: Programme | None
) -> None:
    """Moving a course into or out of a programme changes that programme: only those who
    manage it may (the same rule as editing the programme's course list)."""
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
