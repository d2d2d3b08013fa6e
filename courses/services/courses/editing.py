"""Creating and changing a course: its texts, choices, capacity, enrolment window,
completion rule, trainers, prerequisites and programme, and its publication.

The whole course (its current values merged with the change) goes through one check per
rule before any row changes; the rules of the rows it refers to are in ``relations``.
A change of capacity locks the course row first (as every enrolment change does), so
the seats it checks are current; a raised or lifted capacity fills the new seats from
the head of the waitlist. A changed completion rule re-evaluates the course's learners.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from courses.db import db
from courses.models import Course, CourseLevel, CourseMode, PublicationStatus, User
from courses.services import attendance, audit, enrolments
from courses.services.courses import relations, rules
from courses.services.courses.queries import session_count
from courses.services.courses.relations import require_trainer_choice
from courses.services.courses.rules import RuleErrors
from courses.services.permissions import require_course_creator, require_course_manager

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
WINDOW_FIELDS = ("enrol_opens_at", "enrol_closes_at", "cancel_deadline")
DEFAULT_THRESHOLD = 0.8
#: The audit action of a change that moves a course into each state.
STATUS_ACTIONS = {
    PublicationStatus.PUBLISHED: "course.publish",
    PublicationStatus.ARCHIVED: "course.archive",
    PublicationStatus.DRAFT: "course.unpublish",
}


# --- one check per rule --------------------------------------------------------------------


def _clean_texts(errors: RuleErrors, values: dict[str, Any]) -> None:
    """A title and a topic are required; the texts keep within their lengths."""
    for name in ("title", "topic"):
        values[name] = rules.clean_text(values[name])
        if not values[name]:
            errors.add(
                "required",
                name,
                _l("Enter a title.") if name == "title" else _l("Enter a topic."),
            )
    values["summary"] = rules.clean_text(values["summary"])
    values["description"] = (values["description"] or "").strip()
    rules.check_lengths(errors, values, ("title", "summary", "topic"))


def _clean_choices(errors: RuleErrors, values: dict[str, Any]) -> None:
    """Level, mode and status are among their options; a course starts as a draft."""
    values["level"] = rules.parse_enum(errors, CourseLevel, "level", values["level"])
    values["mode"] = rules.parse_enum(errors, CourseMode, "mode", values["mode"])
    values["status"] = rules.parse_enum(
        errors, PublicationStatus, "status", values["status"] or PublicationStatus.DRAFT
    )


def _capacity(errors: RuleErrors, course: Course | None, value: Any) -> int | None:
    """At least 1 (empty: no limit), and never below the seats already taken."""
    capacity = rules.capacity_or_none(errors, value)
    if capacity is not None and course is not None and capacity < (course.seats_taken or 0):
        errors.add(
            "capacity_below_enrolled",
            "capacity",
            _l(
                "%(n)d learners are already enrolled; the capacity cannot be lower.",
                n=course.seats_taken,
            ),
        )
    return capacity


def _clean_enrolment_window(errors: RuleErrors, values: dict[str, Any]) -> None:
    """The window's dates lie in the planned years; enrolment closes after it opens."""
    for name in WINDOW_FIELDS:
        values[name] = rules.aware(rules.in_years(errors, name, values[name]))
    opens, closes = values["enrol_opens_at"], values["enrol_closes_at"]
    if opens is not None and closes is not None and closes <= opens:
        errors.add(
            "enrol_window_order",
            "enrol_closes_at",
            _l("Enrolment must close after it opens."),
        )


def _threshold(errors: RuleErrors, value: Any) -> float:
    """The share of class hours that completes the course: in (0, 1], 0.8 when empty."""
    threshold = DEFAULT_THRESHOLD if value is None or value == "" else value
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
    return threshold


def _trainers(
    errors: RuleErrors, actor: User, course: Course | None, data: Mapping[str, Any]
) -> list[User] | None:
    """The trainers ``data`` names (None: unchanged); a trainer always keeps teaching
    the course they edit, and one they create."""
    chosen = relations.trainers(errors, data["trainer_ids"]) if "trainer_ids" in data else None
    if course is None and chosen is None:
        chosen = []
    if chosen is not None and not actor.is_admin and actor not in chosen:
        chosen.append(actor)
    return chosen


def _check_publishable(
    errors: RuleErrors, course: Course | None, data: Mapping[str, Any], status: Any
) -> None:
    """Publishing needs at least one session."""
    publishing = "status" in data and status == PublicationStatus.PUBLISHED
    if publishing and (course is None or session_count(course) == 0):
        errors.add(
            "no_sessions",
            "status",
            _l("Add at least one session before publishing the course."),
        )


def _validate_course(
    actor: User, course: Course | None, data: Mapping[str, Any]
) -> tuple[dict[str, Any], list[User] | None, list[Course] | None]:
    """The cleaned values of a whole course (current values merged with ``data``), its
    trainers and its prerequisites (None: unchanged), or every rule it breaks."""
    errors = RuleErrors()
    values = {
        name: data[name] if name in data else getattr(course, name, None) for name in COURSE_FIELDS
    }
    _clean_texts(errors, values)
    _clean_choices(errors, values)
    values["capacity"] = _capacity(errors, course, values["capacity"])
    _clean_enrolment_window(errors, values)
    values["completion_threshold"] = _threshold(errors, values["completion_threshold"])
    values["feedback_required"] = bool(values["feedback_required"])
    values["approval_required"] = bool(values["approval_required"])
    values["programme_id"] = relations.programme_id(errors, actor, course, values["programme_id"])
    trainers = _trainers(errors, actor, course, data)
    prerequisites = (
        relations.prerequisites(errors, course, data["prerequisite_ids"])
        if "prerequisite_ids" in data
        else None
    )
    _check_publishable(errors, course, data, values["status"])
    errors.raise_if_any()
    return values, trainers, prerequisites


# --- changes ---------------------------------------------------------------------------------


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


def _apply(
    course: Course,
    changes: Mapping[str, Any],
    values: dict[str, Any],
    trainers: list[User] | None,
    prerequisites: list[Course] | None,
) -> list[str]:
    """Set what differs from the course; the names of the fields that changed."""
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
    return changed


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
    changed = _apply(course, changes, values, trainers, prerequisites)
    db.session.flush()
    if "capacity" in changed and (
        course.capacity is None
        or (capacity_before is not None and course.capacity > capacity_before)
    ):
        enrolments.fill_free_seats(actor, course)  # new seats go to the waitlist's head
    if {"completion_threshold", "feedback_required"} & set(changed):
        attendance.evaluate_course(course)  # the completion rule changed
    if changed:
        action = STATUS_ACTIONS[course.status] if "status" in changed else "course.update"
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
