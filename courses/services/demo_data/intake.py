"""What the loader keeps in hand while it writes one intake: people, ids and sessions."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

from courses.models import QualificationLevel, SessionMode


@dataclass
class Learner:
    id: int
    qualification: QualificationLevel
    activity: float
    is_demo: bool = False


@dataclass
class Intake:
    """One intake (期): its trainers, learners and what they achieved, course by course."""

    number: int
    rng: random.Random
    admin_id: int | None
    trainer_ids: list[int] = field(default_factory=list)
    demo_trainers: dict[str, int] = field(default_factory=dict)
    learners: list[Learner] = field(default_factory=list)
    demo_learners: dict[str, Learner] = field(default_factory=dict)
    programme_ids: dict[str, int] = field(default_factory=dict)
    course_ids: dict[int, int] = field(default_factory=dict)
    completed_by_course: dict[int, set[int]] = field(default_factory=dict)


@dataclass
class SessionPlan:
    id: int
    starts_at: datetime
    ends_at: datetime
    mode: SessionMode
    class_hours: float
