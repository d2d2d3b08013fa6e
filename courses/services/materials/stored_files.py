"""Stored files follow the database transaction that speaks of them.

A file stored for a new material is removed again if its transaction ends without a
commit; a deleted material's file is removed only once the deletion has committed (and
kept if it rolls back). The services note the files in the session's ``info``; two
session listeners act on them when the transaction ends. The listeners are registered
by :func:`register_file_listeners`, which ``academy.create_app`` calls: importing this
module registers nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session, SessionTransaction

from courses.db import db
from courses.storage import Storage

_NEW_FILES = "materials.new_files"
_DOOMED_FILES = "materials.doomed_files"


def remove_unless_committed(storage: Storage, key: str) -> None:
    """Remove the file at ``key`` if the current transaction does not commit."""
    db.session.info.setdefault(_NEW_FILES, []).append((storage, key))


def remove_after_commit(storage: Storage, key: str) -> None:
    """Remove the file at ``key`` once the current transaction has committed."""
    db.session.info.setdefault(_DOOMED_FILES, []).append((storage, key))


def _delete_quietly(storage: Storage, key: str) -> None:
    try:
        storage.delete(key)
    except Exception:  # a file left behind is logged; it must not undo the transaction
        if has_app_context():
            current_app.logger.exception("could not remove stored file %s", key)


def _after_commit(session: Session) -> None:
    session.info.pop(_NEW_FILES, None)
    for storage, key in session.info.pop(_DOOMED_FILES, []):
        _delete_quietly(storage, key)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    """A transaction that ends without a commit: its new files go, its deletions are off."""
    if transaction.parent is not None:
        return
    for storage, key in session.info.pop(_NEW_FILES, []):
        _delete_quietly(storage, key)
    session.info.pop(_DOOMED_FILES, None)


_LISTENERS = (("after_commit", _after_commit), ("after_transaction_end", _after_transaction_end))


def register_file_listeners() -> None:
    """Listen to every SQLAlchemy session's commits and transaction ends, so that stored
    files follow them. Called once by ``academy.create_app``; calling it again adds
    nothing."""
    for identifier, listener in _LISTENERS:
        if not sa.event.contains(Session, identifier, listener):
            sa.event.listen(Session, identifier, listener)


def file_listeners_registered() -> bool:
    """Whether :func:`register_file_listeners` has run in this process."""
    return all(sa.event.contains(Session, name, listener) for name, listener in _LISTENERS)
