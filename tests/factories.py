"""Factory functions with sensible defaults: ``make_user(roles=["trainer"])``.

Each flushes and commits so that the row is visible to the test client's requests.
"""

from __future__ import annotations

import itertools
from typing import Any

from courses.db import db
from courses.models import Organisation, Role, User
from courses.services import accounts, tokens

DEFAULT_PASSWORD = "correct-horse-9"
_counter = itertools.count(1)


def make_organisation(name: str | None = None, **kwargs: Any) -> Organisation:
    organisation = Organisation(name=name or f"测试机构{next(_counter)}", **kwargs)
    db.session.add(organisation)
    db.session.commit()
    return organisation


def make_user(
    name: str | None = None,
    *,
    roles: tuple[Role | str, ...] | list[Role | str] = (Role.LEARNER,),
    email: str | None = None,
    phone: str | None = None,
    password: str = DEFAULT_PASSWORD,
    organisation: Organisation | None = None,
    **kwargs: Any,
) -> User:
    n = next(_counter)
    if email is None and phone is None:
        email = f"user{n}@example.org"
        phone = f"139{n:08d}"
    user = accounts.create_user(
        accounts.NewUser(
            name=name or f"学员{n}",
            password=password,
            email=email,
            phone=phone,
            organisation_id=organisation.id if organisation else None,
            roles=roles,
            **kwargs,
        )
    )
    db.session.commit()
    return user


def make_admin(**kwargs: Any) -> User:
    return make_user(roles=(Role.ADMIN,), **kwargs)


def make_trainer(**kwargs: Any) -> User:
    return make_user(roles=(Role.TRAINER,), **kwargs)


def make_token(user: User) -> str:
    secret, _token = tokens.issue(user)
    db.session.commit()
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
