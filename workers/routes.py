"""Which task consumes which outbox topic, on which queue (queues by purpose, so that
a long job of one kind never delays another kind).

Each consumer module (``workers.certificates``, …) declares its routes with ``route``;
the relays read ``ROUTES`` to know what to claim and where to send it, and the
in-process relay calls the same handler the task calls.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from courses.services.outbox import Handler
from workers import QUEUES


@dataclass(frozen=True)
class Route:
    topic: str
    task: str
    queue: str
    handler: Handler


ROUTES: dict[str, Route] = {}
#: The modules whose tasks consume outbox topics.
CONSUMERS = ("workers.certificates", "workers.stats")


def consumed_topics() -> dict[str, Route]:
    """Every route, once every consumer module has declared its own."""
    for module in CONSUMERS:
        importlib.import_module(module)
    return ROUTES


def route(topic: str, queue: str, handler: Handler) -> Callable[[Any], Any]:
    """Declare that the decorated task consumes ``topic`` on ``queue`` with ``handler``."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")

    def declare(task: Any) -> Any:
        ROUTES[topic] = Route(topic, task.name, queue, handler)
        return task

    return declare
