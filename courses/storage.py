"""Where uploaded files live: a small storage interface and the local-disk backend.

Keys are chosen by the services (random, never derived from a user's file name); a
backend refuses any key that could leave its root. The local backend writes under
``<instance>/uploads/``, outside the web root, through a temporary file that is moved
into place only when complete, so a reader never sees half a file. Another backend (an
S3-compatible store) plugs in through ``get_storage`` and the ``STORAGE_BACKEND``
setting.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app

CHUNK_SIZE = 1024 * 1024
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)*$")


class StorageError(Exception):
    """The backend could not carry out an operation."""


class InvalidKey(StorageError, ValueError):
    """A key with path parts that could leave the storage root."""


class FileTooLarge(StorageError):
    """The stream was longer than the limit given to ``save``; nothing was kept."""

    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(f"the file is larger than {limit} bytes")


class Storage(Protocol):
    def save(self, stream: BinaryIO, key: str, max_bytes: int | None = None) -> int:
        """Store the stream under ``key`` whole or not at all; return its size in bytes."""
        ...

    def open(self, key: str) -> BinaryIO:
        """The stored bytes, for reading; FileNotFoundError when there are none."""
        ...

    def delete(self, key: str) -> None:
        """Remove the bytes; a key that holds nothing is not an error."""
        ...

    def exists(self, key: str) -> bool: ...


def check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.match(key) or ".." in key or len(key) > 255:
        raise InvalidKey(f"invalid storage key {key!r}")
    return key


def new_key(prefix: str) -> str:
    """A random key under ``prefix`` (e.g. ``materials``); nothing in it comes from users."""
    return check_key(f"{prefix}/{secrets.token_hex(16)}")


class LocalStorage:
    """Files in a folder of the local disk (the instance folder's ``uploads``)."""

    def __init__(self, root: Path | str):
        self.root = Path(root).resolve()

    def path_for(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if self.root not in path.parents:
            raise InvalidKey(f"invalid storage key {key!r}")
        return path

    def save(self, stream: BinaryIO, key: str, max_bytes: int | None = None) -> int:
        target = self.path_for(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
        size = 0
        try:
            with open(temporary, "xb") as handle:
                while chunk := stream.read(CHUNK_SIZE):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise FileTooLarge(max_bytes)
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return size

    def open(self, key: str) -> BinaryIO:
        return open(self.path_for(key), "rb")

    def delete(self, key: str) -> None:
        self.path_for(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()


def get_storage() -> Storage:
    """The backend the running application is configured with (``STORAGE_BACKEND``)."""
    backend = current_app.config.get("STORAGE_BACKEND") or "local"
    if backend == "local":
        root = current_app.config.get("UPLOAD_ROOT") or (
            Path(current_app.config["INSTANCE_PATH"]) / "uploads"
        )
        return LocalStorage(root)
    raise StorageError(f"unknown STORAGE_BACKEND {backend!r}; the only one built in is 'local'")
