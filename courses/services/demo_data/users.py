"""The academy's people: its organisations, the demo accounts, and each intake's
trainers and learners, with the one demo password hashed once for all."""

from __future__ import annotations

import random
import secrets
from datetime import date, timedelta

import sqlalchemy as sa

from courses.db import db
from courses.models import Organisation, QualificationLevel, Role, User, UserRole
from courses.services.demo_data.catalogue import ORGANISATIONS
from courses.services.demo_data.intake import Intake, Learner
from courses.services.demo_data.parts import LoaderPart, LoadRun
from courses.services.demo_data.people import DEMO_ACCOUNTS, new_name, new_phone

LEARNERS_PER_INTAKE = 300
TRAINERS_PER_INTAKE = 10


class UserLoader(LoaderPart):
    """Organisations once, then the people of every intake; phone numbers never repeat."""

    def __init__(self, run: LoadRun, *, password_hash: str) -> None:
        super().__init__(run)
        self.password_hash = password_hash
        self.used_phones = {account.phone for account in DEMO_ACCOUNTS}
        self.organisation_ids: list[int] = []
        self.organisation_weights: list[int] = []
        self.learner_number = 0
        self.trainer_number = 0

    def load_organisations(self) -> None:
        existing = dict(db.session.execute(sa.select(Organisation.name, Organisation.id)).all())
        table = Organisation.__table__
        created = self.year_start - timedelta(days=400)
        rng = random.Random(f"academy-demo:{self.year}:organisations")
        for name, kind, weight in ORGANISATIONS:
            contact = new_name(rng)
            phone = new_phone(rng, self.used_phones)
            if name in existing:
                organisation_id = existing[name]
            else:
                organisation_id = self.writer.new_id(table)
                self.writer.add(
                    table,
                    {
                        "id": organisation_id,
                        "name": name,
                        "kind": kind.value,
                        "contact_name": contact,
                        "contact_phone": phone,
                        "is_active": True,
                        "created_at": created,
                        "updated_at": created,
                    },
                )
            self.organisation_ids.append(organisation_id)
            self.organisation_weights.append(weight)
        self.summary.organisations = len(ORGANISATIONS)

    def add_user(
        self,
        rng: random.Random,
        *,
        name: str,
        email: str,
        phone: str,
        role: Role,
        qualification: QualificationLevel,
        organisation_id: int | None,
        active: bool = True,
    ) -> int:
        table = User.__table__
        user_id = self.writer.new_id(table)
        created = self.past(self.year_start - timedelta(days=rng.randint(20, 700)))
        cycle_start = None
        if qualification != QualificationLevel.NONE:
            cycle_start = date(self.year - rng.randint(0, 2), rng.choice((1, 4, 7, 10)), 1)
        last_login = None
        if rng.random() < 0.75:
            last_login = self.past(self.year_start + timedelta(minutes=rng.randint(0, 525_000)))
        self.writer.add(
            table,
            {
                "id": user_id,
                "name": name,
                "email": email,
                "phone": phone,
                "password_hash": self.password_hash,
                "organisation_id": organisation_id,
                "qualification_level": qualification.value,
                "cycle_starts_on": cycle_start,
                "locale": None,
                "is_active": active,
                "session_nonce": secrets.token_hex(16),
                "calendar_token": None,
                "last_login_at": last_login,
                "created_at": created,
                "updated_at": created,
            },
        )
        self.writer.add(UserRole.__table__, {"user_id": user_id, "role": role.value})
        return user_id

    def random_organisation(self, rng: random.Random) -> int:
        return rng.choices(self.organisation_ids, self.organisation_weights)[0]

    def load_people(self, intake: Intake) -> None:
        """The intake's demo accounts (the first intake only), trainers and learners."""
        rng = intake.rng
        if intake.number == 1:
            self.load_demo_accounts(intake, rng)
        self.load_trainers(intake, rng)
        self.load_learners(intake, rng)
        self.summary.trainers += len(intake.trainer_ids)
        self.summary.learners += len(intake.learners)

    def load_demo_accounts(self, intake: Intake, rng: random.Random) -> None:
        for account in DEMO_ACCOUNTS:
            role = Role(account.role)
            organisation_id = None if role == Role.ADMIN else self.organisation_ids[0]
            user_id = self.add_user(
                rng,
                name=account.name,
                email=account.login,
                phone=account.phone,
                role=role,
                qualification=account.qualification_level,
                organisation_id=organisation_id,
            )
            if role == Role.ADMIN:
                intake.admin_id = user_id
            elif role == Role.TRAINER:
                intake.trainer_ids.append(user_id)
                intake.demo_trainers[account.login] = user_id
            else:
                learner = Learner(user_id, account.qualification_level, 1.0, is_demo=True)
                intake.learners.append(learner)
                intake.demo_learners[account.login] = learner

    def load_trainers(self, intake: Intake, rng: random.Random) -> None:
        while len(intake.trainer_ids) < TRAINERS_PER_INTAKE:
            self.trainer_number += 1
            qualification = rng.choice(
                (QualificationLevel.SENIOR, QualificationLevel.SOCIAL_WORKER)
            )
            external = rng.random() < 0.3  # university lecturers and invited experts
            intake.trainer_ids.append(
                self.add_user(
                    rng,
                    name=new_name(rng),
                    email=f"trainer{self.trainer_number:05d}@academy.example",
                    phone=new_phone(rng, self.used_phones),
                    role=Role.TRAINER,
                    qualification=qualification,
                    organisation_id=None if external else self.random_organisation(rng),
                )
            )

    def load_learners(self, intake: Intake, rng: random.Random) -> None:
        levels = list(QualificationLevel)
        level_weights = (45, 35, 17, 3)
        while len(intake.learners) < LEARNERS_PER_INTAKE:
            self.learner_number += 1
            qualification = rng.choices(levels, level_weights)[0]
            user_id = self.add_user(
                rng,
                name=new_name(rng),
                email=f"learner{self.learner_number:06d}@academy.example",
                phone=new_phone(rng, self.used_phones),
                role=Role.LEARNER,
                qualification=qualification,
                organisation_id=self.random_organisation(rng),
                active=rng.random() >= 0.01,
            )
            activity = rng.choice((0.4, 0.7, 1.0, 1.0, 1.3, 1.6, 2.2))
            intake.learners.append(Learner(user_id, qualification, activity))
