"""The demo academy's people: the fixed accounts for trying the site, and the names and
mobile numbers of everyone else, drawn from fixed, weighted pools."""

from __future__ import annotations

import random
from dataclasses import dataclass

from courses.models import QualificationLevel

DEMO_PASSWORD = "academy2025"


@dataclass(frozen=True)
class DemoAccount:
    """A fixed account for trying the site; every one uses :data:`DEMO_PASSWORD`."""

    role: str
    login: str
    name: str
    phone: str
    qualification_level: QualificationLevel = QualificationLevel.NONE


_NONE, _ASSISTANT = QualificationLevel.NONE, QualificationLevel.ASSISTANT
_SOCIAL_WORKER, _SENIOR = QualificationLevel.SOCIAL_WORKER, QualificationLevel.SENIOR

DEMO_ACCOUNTS: list[DemoAccount] = [
    DemoAccount("admin", "admin@academy.example", "梁嘉欣", "13800138001"),
    DemoAccount("trainer", "trainer@academy.example", "何志明", "13800138002", _SENIOR),
    DemoAccount("trainer", "trainer2@academy.example", "黄丽芳", "13800138003", _SOCIAL_WORKER),
    DemoAccount("learner", "learner@academy.example", "李晓彤", "13800138004", _NONE),
    DemoAccount("learner", "learner2@academy.example", "陈伟强", "13800138005", _ASSISTANT),
]


_SURNAMES: list[tuple[str, int]] = [
    ("陈", 14), ("黄", 9), ("李", 9), ("梁", 8), ("张", 6), ("何", 6), ("罗", 5), ("冯", 5),
    ("邓", 5), ("王", 5), ("刘", 5), ("林", 5), ("吴", 4), ("周", 4), ("叶", 4), ("钟", 4),
    ("潘", 4), ("谭", 4), ("麦", 3), ("关", 3), ("杨", 3), ("郭", 3), ("曾", 3), ("谢", 3),
    ("卢", 3), ("区", 2), ("苏", 2), ("赵", 2), ("胡", 2), ("朱", 2), ("伍", 2), ("霍", 2),
    ("廖", 2), ("莫", 2), ("蔡", 2), ("江", 2), ("余", 2), ("欧阳", 1), ("岑", 1), ("邝", 1),
    ("简", 1), ("邵", 1),
]  # fmt: skip
_SURNAME_CHOICES = [surname for surname, _ in _SURNAMES]
_SURNAME_WEIGHTS = [weight for _, weight in _SURNAMES]
_GIVEN_FIRST = "嘉俊婉子晓雅志伟丽慧家佩文永建国美淑秀敏思诗咏锦少宇欣梓浩芷泳颖玉海明"
_GIVEN_SECOND = "怡婷欣琪仪华峰杰明辉敏玲珊霞莹彤桐琳诗晴涛军强林荣燕萍芳娟宁恒轩豪源"

_PHONE_PREFIXES = (
    [f"13{d}" for d in "0123456789"]
    + [f"15{d}" for d in "012356789"]
    + [f"18{d}" for d in "01235689"]
)


def new_name(rng: random.Random) -> str:
    surname = rng.choices(_SURNAME_CHOICES, _SURNAME_WEIGHTS)[0]
    given = rng.choice(_GIVEN_FIRST)
    if rng.random() < 0.82:
        given += rng.choice(_GIVEN_SECOND)
    return surname + given


def new_phone(rng: random.Random, used: set[str]) -> str:
    """A mobile number that is not in ``used``; it is added there."""
    while True:
        phone = rng.choice(_PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if phone not in used:
            used.add(phone)
            return phone
