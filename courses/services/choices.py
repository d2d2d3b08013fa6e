"""What the management forms offer to choose, a few at a time: trainers, courses and
programmes found by a few characters of text, and the labels of those already chosen.

These only help a person find an id; the services that save a choice
(``courses.update_course``, ``programmes.update_programme``) check it, whatever
was offered. The programmes found are those ``update_course`` accepts
(``programmes.offered_to``); the trainers, the active users with the trainer role
its ``trainer_ids`` accepts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.db import database_id, db
from courses.errors import PermissionDenied
from courses.models import (
    Course,
    CourseSession,
    Organisation,
    Programme,
    PublicationStatus,
    Role,
    User,
    UserRole,
)
from courses.services.permissions import can_choose_trainers
from courses.services.programmes import offered_to
from courses.services.search import LIKE_ESCAPE, contains_any, like_pattern, person_matches
from courses.settings import to_local

#: The most a search returns: enough to pick from on a phone, never the whole table.
MAX_RESULTS = 20
#: The most ids whose labels a form shows back (what a course could sensibly name).
MAX_CHOSEN = 200

STATUS_NAMES = {
    PublicationStatus.DRAFT: _l("Draft"),
    PublicationStatus.PUBLISHED: _l("Published"),
    PublicationStatus.ARCHIVED: _l("Archived"),
}


@dataclass(frozen=True)
class Choice:
    """One thing to choose: its id, its name and a line telling it from namesakes."""

    id: int
    label: str
    detail: str = ""

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "label": self.label, "detail": self.detail}


def _term(q: str | None) -> str:
    return (q or "").strip()[:60]


def _limit(limit: int | None) -> int:
    return min(max(int(limit or MAX_RESULTS), 1), MAX_RESULTS)


def ids(raw: Iterable[object]) -> list[int]:
    """The valid ids among ``raw`` (form values), in order and without repeats."""
    found = (database_id(value) for value in raw)
    return list(dict.fromkeys(i for i in found if i is not None))[:MAX_CHOSEN]


def _starts_first(column: sa.ColumnElement[str], term: str) -> sa.ColumnElement[int]:
    """0 for names beginning with ``term``, 1 for the others: the likely ones first."""
    prefix = like_pattern(term)[1:]  # "term%"
    return sa.case((column.ilike(prefix, escape=LIKE_ESCAPE), 0), else_=1)


# ---- trainers ---------------------------------------------------------------------------


def _trainer_choices(statement: sa.Select[tuple[User, str | None]]) -> list[Choice]:
    choices = []
    for user, organisation in db.session.execute(statement):
        detail = [organisation or ""]
        if not user.is_active:
            detail.append(str(_l("Deactivated")))
        choices.append(Choice(user.id, user.name, " · ".join(d for d in detail if d)))
    return choices


def _trainers() -> sa.Select[tuple[User, str | None]]:
    return (
        sa.select(User, Organisation.name)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(sa.exists().where(UserRole.user_id == User.id, UserRole.role == Role.TRAINER))
    )


def find_trainers(actor: User, q: str | None, limit: int | None = None) -> list[Choice]:
    """Active trainers whose name, phone or e-mail contains ``q``, by name: for those who
    choose a course's trainers (admins) only."""
    if not can_choose_trainers(actor):
        raise PermissionDenied(
            _l("Only an administrator can choose the trainers of a course."),
            code="trainer_choice_not_allowed",
        )
    term = _term(q)
    statement = _trainers().where(User.is_active.is_(True))
    if term:
        statement = statement.where(person_matches(term)).order_by(_starts_first(User.name, term))
    statement = statement.order_by(User.name, User.id).limit(_limit(limit))
    return _trainer_choices(statement)


def chosen_trainers(user_ids: Sequence[int]) -> list[Choice]:
    """The labels of the trainers ``user_ids`` names, in that order (unknown ids left out)."""
    if not user_ids:
        return []
    found = {c.id: c for c in _trainer_choices(_trainers().where(User.id.in_(user_ids)))}
    return [found[i] for i in user_ids if i in found]


# ---- courses ----------------------------------------------------------------------------


def _course_choices(statement: sa.Select[tuple[Course, object]]) -> list[Choice]:
    """A course's detail: when it starts and its status, to tell runs of one title apart."""
    choices = []
    for course, first_start in db.session.execute(statement):
        detail = [STATUS_NAMES[course.status]]
        if first_start is not None:
            detail.insert(0, to_local(first_start).strftime("%Y-%m-%d"))
        choices.append(Choice(course.id, course.title, " · ".join(str(d) for d in detail)))
    return choices


def _courses() -> sa.Select[tuple[Course, object]]:
    first_start = (
        sa.select(sa.func.min(CourseSession.starts_at))
        .where(CourseSession.course_id == Course.id)
        .correlate(Course)
        .scalar_subquery()
    )
    return sa.select(Course, first_start)


def find_courses(
    q: str | None,
    *,
    exclude_id: int | None = None,
    taught_by: User | None = None,
    limit: int | None = None,
) -> list[Choice]:
    """Courses whose title or topic contains ``q``, by title; ``taught_by`` keeps those
    that trainer teaches (what a trainer may put into a programme)."""
    term = _term(q)
    statement = _courses()
    if exclude_id is not None:
        statement = statement.where(Course.id != exclude_id)
    if taught_by is not None:
        statement = statement.where(Course.trainers.any(User.id == taught_by.id))
    if term:
        statement = statement.where(contains_any(term, Course.title, Course.topic)).order_by(
            _starts_first(Course.title, term)
        )
    statement = statement.order_by(Course.title, Course.created_at.desc(), Course.id.desc())
    return _course_choices(statement.limit(_limit(limit)))


def chosen_courses(course_ids: Sequence[int]) -> list[Choice]:
    if not course_ids:
        return []
    found = {c.id: c for c in _course_choices(_courses().where(Course.id.in_(course_ids)))}
    return [found[i] for i in course_ids if i in found]


# ---- programmes -------------------------------------------------------------------------


def _programme_choices(statement: sa.Select[tuple[Programme]]) -> list[Choice]:
    programmes = db.session.scalars(statement)
    return [Choice(p.id, p.title, str(STATUS_NAMES[p.status])) for p in programmes]


def find_programmes(actor: User, q: str | None, limit: int | None = None) -> list[Choice]:
    """Programmes ``actor`` may put a course into (they manage it, it is not archived)
    whose title contains ``q``, by title."""
    term = _term(q)
    statement = sa.select(Programme).where(offered_to(actor))
    if term:
        statement = statement.where(
            Programme.title.ilike(like_pattern(term), escape=LIKE_ESCAPE)
        ).order_by(_starts_first(Programme.title, term))
    statement = statement.order_by(Programme.title, Programme.id).limit(_limit(limit))
    return _programme_choices(statement)


def chosen_programme(actor: User, programme_id: int | None, current_id: int | None) -> list[Choice]:
    """The label of the chosen programme, if it is one ``actor`` could choose (offered to
    them, or the course's ``current_id``): a form shows back no other programme's title."""
    if programme_id is None:
        return []
    statement = sa.select(Programme).where(
        Programme.id == programme_id, sa.or_(offered_to(actor), Programme.id == current_id)
    )
    return _programme_choices(statement)
