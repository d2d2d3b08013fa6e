from __future__ import annotations

from typing import Any

from courses.db import db
from courses.models import AuditLogEntry, User


def record(
    actor: User | None, action: str, object_type: str, object_id: int | None, **data: Any
) -> AuditLogEntry:
    """Write one audit entry in the caller's transaction."""
    entry = AuditLogEntry(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        data=data,
    )
    db.session.add(entry)
    return entry
