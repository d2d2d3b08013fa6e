"""Who each participant of a report is, the way trainers tell: by e-mail or phone when
the report has them, else by a name the trainer chose before, else by name or nickname
among the course's enrolled learners (``张晓燕``, ``张晓燕8821`` — name and the phone's
last four digits —, ``小燕子(张晓燕)``), a masked phone's visible digits telling apart
learners of the same name. Hosts and the course's trainers are not learners."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from courses.db import db
from courses.models import CourseSession, Enrolment, MeetingAlias, User
from courses.services import attendance
from courses.services.contacts import mobile_number
from courses.services.meeting_reports.parse import ReportRow
from courses.services.meeting_reports.values import (
    name_forms,
    normalise_name,
    remembered_forms,
    split_tail_digits,
)

_ALIAS_CHUNK = 900

REASONS: dict[str, Any] = {
    "no_identifier": _l("No name, phone number or e-mail address."),
    "masked_phone": _l("The phone number is masked and there is no name or e-mail address."),
    "bad_time": _l("The time “%(value)s” cannot be read."),
    "bad_duration": _l("The duration “%(value)s” cannot be read."),
    "duration_too_long": _l("The duration “%(value)s” is longer than a day."),
    "negative": _l("The duration “%(value)s” is negative."),
    "left_before_joined": _l("The leave time is before the join time."),
    "no_duration": _l("Neither a duration nor both join and leave times."),
    "not_enrolled": _l("No learner enrolled in this course has this phone number or e-mail."),
    "unknown_name": _l("No learner enrolled in this course has this name: choose the learner."),
    "same_name": _l("Several enrolled learners have this name: choose the learner."),
    "phone_tail_differs": _l(
        "The name is an enrolled learner's, but the phone's last digits are not: choose the "
        "learner."
    ),
    "masked_phone_only": _l("Only the last digits of the phone are known: choose the learner."),
    "phone_and_email_differ": _l(
        "The phone number belongs to one enrolled learner and the e-mail to another."
    ),
    "several_learners": _l("More than one enrolled learner has these details."),
    "host": _l("The meeting's host: not counted."),
    "trainer": _l("A trainer of this course: not counted."),
}


#: How a matched row was matched, when not by phone or e-mail.
VIA_LABELS: dict[str, Any] = {
    "remembered": _l("as chosen before"),
    "name_phone": _l("by name and phone digits"),
    "name": _l("by name"),
    "chosen": _l("chosen by the trainer"),
}


def reason_message(row: dict[str, Any]) -> str | None:
    """The row's reason in the reader's language."""
    reason = row.get("reason")
    if not reason or reason not in REASONS:
        return None
    return str(REASONS[reason]) % {"value": row.get("value", "")}


@dataclass
class Person:
    rows: list[ReportRow]
    phones: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    refs: set[str] = field(default_factory=set)
    names: list[str] = field(default_factory=list)
    tails: set[str] = field(default_factory=set)
    user_ids: set[int] = field(default_factory=set)
    reason: str | None = None
    via: str | None = None  # contact, remembered, name_phone, name
    pickable: bool = False  # the trainer may choose the learner

    def add(self, row: ReportRow) -> None:
        self.rows.append(row)
        self.phones |= {row.phone} if row.phone else set()
        self.emails |= {row.email} if row.email else set()
        self.refs |= {row.user_ref} if row.user_ref else set()
        self.tails |= {row.phone_tail} if row.phone_tail else set()
        if row.name and row.name not in self.names:
            self.names.append(row.name)

    def absorb(self, other: Person) -> None:
        for row in other.rows:
            self.add(row)

    @property
    def host(self) -> bool:
        return any(row.host for row in self.rows)


def people(rows: list[ReportRow]) -> list[Person]:
    """Valid rows grouped into people: rows sharing a phone, an e-mail or a platform user
    id are one person; rows with none of those are one person per name."""
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[str, int] = {}
    for index, row in enumerate(rows):
        keys = [f"p:{row.phone}" if row.phone else "", f"e:{row.email}" if row.email else ""]
        keys.append(f"r:{row.user_ref}" if row.user_ref else "")
        if not any(keys):
            keys.append(f"n:{normalise_name(row.name)}:{row.phone_tail or ''}")
        for key in filter(None, keys):
            if key in first:
                parent[find(index)] = find(first[key])
            else:
                first[key] = index
    groups: dict[int, Person] = {}
    for index, row in enumerate(rows):
        groups.setdefault(find(index), Person(rows=[])).add(row)
    return list(groups.values())


def alias_keys(person: Person, layout: str) -> list[str]:
    """The keys a trainer's choice for this person is remembered under."""
    keys = [f"ref:{layout}:{ref}"[:200] for ref in sorted(person.refs)]
    forms = dict.fromkeys(form for name in person.names for form in remembered_forms(name))
    return keys + [f"name:{form}" for form in forms]


@dataclass(frozen=True)
class Learner:
    user_id: int
    name: str
    phone: str | None
    email: str | None


@dataclass
class Directory:
    """The course's enrolled learners, its trainers and the remembered aliases."""

    learners: dict[int, Learner]
    aliases: dict[str, int]
    trainer_contacts: set[str]
    trainer_names: set[str]
    by_phone: dict[str, set[int]] = field(default_factory=dict)
    by_email: dict[str, set[int]] = field(default_factory=dict)
    by_name: dict[str, set[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for learner in self.learners.values():
            if learner.phone:
                self.by_phone.setdefault(learner.phone, set()).add(learner.user_id)
            if learner.email:
                self.by_email.setdefault(learner.email, set()).add(learner.user_id)
            self.by_name.setdefault(normalise_name(learner.name), set()).add(learner.user_id)

    def ends_with(self, user_ids: Iterable[int], tails: set[str]) -> set[int]:
        return {uid for uid in user_ids if (self.learners[uid].phone or "")[-4:] in tails and tails}


def enrolled_learners(course_id: int) -> dict[int, Learner]:
    """The learners with an attending enrolment in the course, in one statement."""
    rows = db.session.execute(
        sa.select(User.id, User.name, User.phone, User.email)
        .join(Enrolment, Enrolment.user_id == User.id)
        .where(
            Enrolment.course_id == course_id,
            Enrolment.status.in_(attendance.ATTENDING_STATUSES),
        )
        .distinct()
    )
    return {
        r.id: Learner(r.id, r.name, mobile_number(r.phone), (r.email or "").lower() or None)
        for r in rows
    }


def remembered(course_id: int, keys: list[str], learners: dict[int, Learner]) -> dict[str, int]:
    """Alias → learner for the keys: the course's own choice, else one made elsewhere;
    only learners enrolled in the course count."""
    found: dict[str, int] = {}
    wanted = sorted(set(keys))
    for start in range(0, len(wanted), _ALIAS_CHUNK):
        rows = db.session.execute(
            sa.select(MeetingAlias.alias, MeetingAlias.user_id, MeetingAlias.course_id)
            .where(
                MeetingAlias.alias.in_(wanted[start : start + _ALIAS_CHUNK]),
                sa.or_(MeetingAlias.course_id == course_id, MeetingAlias.course_id.is_(None)),
            )
            .order_by(MeetingAlias.course_id.is_(None))
        )
        for row in rows:
            if row.user_id in learners:
                found.setdefault(row.alias, row.user_id)
    return found


def directory(session: CourseSession, keys: list[str]) -> Directory:
    learners = enrolled_learners(session.course_id)
    trainers = list(session.course.trainers)
    contacts = {mobile_number(t.phone) or "" for t in trainers}
    contacts |= {(t.email or "").lower() for t in trainers}
    return Directory(
        learners=learners,
        aliases=remembered(session.course_id, keys, learners),
        trainer_contacts=contacts - {""},
        trainer_names={normalise_name(t.name) for t in trainers},
    )


def _by_contact(person: Person, found: Directory) -> bool:
    via_phone = set().union(*(found.by_phone.get(p, set()) for p in person.phones))
    via_email = set().union(*(found.by_email.get(e, set()) for e in person.emails))
    person.user_ids = via_phone | via_email
    if len(person.user_ids) > 1:
        differ = via_phone and via_email and not (via_phone & via_email)
        person.reason = "phone_and_email_differ" if differ else "several_learners"
        person.pickable = True
    person.via = "contact" if person.user_ids else None
    return bool(person.user_ids)


def _by_name(person: Person, found: Directory) -> None:
    named: set[int] = set()
    tails = set(person.tails)  # a masked phone's, or a nickname's (张晓燕8821)
    for name in person.names:
        for form in name_forms(name):
            named |= found.by_name.get(form, set())
            split = split_tail_digits(form)
            if split is not None and split[0] in found.by_name:
                named |= found.by_name[split[0]]
                tails.add(split[1])
    strong = found.ends_with(named, tails)
    if len(strong) == 1:
        person.user_ids, person.via = strong, "name_phone"
    elif len(named) == 1 and not tails:
        person.user_ids, person.via = named, "name"
    elif named:
        person.user_ids = strong or named
        person.reason = "phone_tail_differs" if len(named) == 1 else "same_name"
    elif person.tails:
        person.user_ids = found.ends_with(found.learners, person.tails)
        person.reason = "masked_phone_only"
    else:
        person.reason = "not_enrolled" if person.phones or person.emails else "unknown_name"


def resolve(person: Person, found: Directory, layout: str, host_email: str | None) -> None:
    """Set who the person is: ``user_ids`` (one: matched; several: candidates), the
    reason when not one, whether the trainer may choose, and by what it matched."""
    if person.host or (host_email and host_email in person.emails):
        person.reason = "host"
        return
    if _by_contact(person, found):
        return
    forms = {form for name in person.names for form in name_forms(name)}
    is_trainer = (person.phones | person.emails) & found.trainer_contacts or (
        forms & found.trainer_names and not any(f in found.by_name for f in forms)
    )
    if is_trainer:
        person.reason = "trainer"
        return
    chosen = {found.aliases[key] for key in alias_keys(person, layout) if key in found.aliases}
    if len(chosen) == 1:
        person.user_ids, person.via = chosen, "remembered"
        return
    _by_name(person, found)
    # Several candidates, none, or one with a doubt: the trainer chooses.
    person.pickable = len(person.user_ids) != 1 or person.reason is not None


def merge_same_learner(found: list[Person]) -> list[Person]:
    """People matched to the same learner (two devices, a row by phone and one by name)
    are one."""
    merged: list[Person] = []
    by_user: dict[int, Person] = {}
    for person in found:
        if len(person.user_ids) == 1 and person.reason is None:
            (user_id,) = person.user_ids
            if user_id in by_user:
                by_user[user_id].absorb(person)
                continue
            by_user[user_id] = person
        merged.append(person)
    return merged
