"""A real Celery worker (``celery -A workers worker``) in a subprocess, for tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask

from tests.conftest import DATABASE_URL


@contextmanager
def real_worker(app: Flask, broker_url: str, name: str) -> Iterator[subprocess.Popen[bytes]]:
    """Start a solo-pool worker on ``broker_url`` against the test database, named
    ``name@host``; stop it (and close its output) when the block ends."""
    env = {
        **os.environ,
        "ACADEMY_BROKER_URL": broker_url,
        "ACADEMY_DATABASE_URL": DATABASE_URL,
        "ACADEMY_SECRET_KEY": "test-secret-key-not-for-production",
        "ACADEMY_INSTANCE_PATH": str(Path(app.instance_path)),
    }
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "workers",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            f"--hostname={name}@%h",
            "--without-mingle",
            "--without-gossip",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        if worker.stdout:
            worker.stdout.close()


def output(worker: subprocess.Popen[bytes]) -> str:
    """What a worker that stopped printed."""
    return worker.stdout.read().decode() if worker.stdout else ""
