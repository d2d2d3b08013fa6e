"""A real Celery worker (``celery -A workers worker``) in a subprocess, for tests, and
the embedded default's in-process relay in a subprocess of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

from flask import Flask

from tests.conftest import DATABASE_URL

ROOT = Path(__file__).resolve().parent.parent


def _log_file() -> tuple[Path, object]:
    handle = tempfile.NamedTemporaryFile(prefix="academy-worker-", suffix=".log", delete=False)  # noqa: SIM115
    return Path(handle.name), handle


def _spawn(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start ``command`` in a process group of its own, its output in a file (a pipe
    nobody reads would fill up and stop it)."""
    path, handle = _log_file()
    process = subprocess.Popen(
        command,
        env=env,
        cwd=str(ROOT),
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    handle.close()  # type: ignore[attr-defined]
    process.log_path = path  # type: ignore[attr-defined]
    return process


def app_environment(app: Flask, **extra: str) -> dict[str, str]:
    """The environment a process needs to run against the test database and the test
    app's instance folder (its stored files), plus ``extra`` ACADEMY_… settings."""
    return {
        **os.environ,
        "ACADEMY_DATABASE_URL": DATABASE_URL,
        "ACADEMY_SECRET_KEY": "test-secret-key-not-for-production",
        "ACADEMY_INSTANCE_PATH": str(Path(app.instance_path)),
        **extra,
    }


@contextmanager
def real_worker(
    app: Flask,
    broker_url: str,
    name: str,
    env: Mapping[str, str] | None = None,
    pool: str = "solo",
    concurrency: int | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a worker (solo pool unless told) on ``broker_url`` against the test
    database, named ``name@host``, with ``env`` added to its environment; stop it (and
    close its output) when the block ends."""
    command = [
        str(Path(sys.executable).with_name("celery")),
        "-A",
        "workers",
        "worker",
        f"--pool={pool}",
        "--loglevel=WARNING",
        f"--hostname={name}@%h",
        "--without-mingle",
        "--without-gossip",
    ]
    if concurrency is not None:
        command.append(f"--concurrency={concurrency}")
    worker = _spawn(command, app_environment(app, ACADEMY_BROKER_URL=broker_url, **dict(env or {})))
    try:
        yield worker
    finally:
        stop(worker)


def kill_hard(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and every child of it (a prefork pool's), as a crash would."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=15)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            kill_hard(process)


@contextmanager
def embedded_relay(
    app: Flask, env: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run the embedded default's in-process relay (no broker) in a subprocess
    (``python -m tests.embedded_relay``) against the test database; stopped when the block ends."""
    process = _spawn(
        [sys.executable, "-m", "tests.embedded_relay"],
        app_environment(app, ACADEMY_BROKER_URL="", **dict(env or {})),
    )
    try:
        yield process
    finally:
        stop(process)


def output(worker: subprocess.Popen[bytes]) -> str:
    """What a worker (or relay) printed so far."""
    path = getattr(worker, "log_path", None)
    return path.read_text(errors="replace") if path and path.exists() else ""
