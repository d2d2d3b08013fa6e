"""The certificate benchmark runs end to end with tiny numbers (about 20 s): its own
PostgreSQL database, its own redis-server, a real prefork worker, and the table."""

from __future__ import annotations

import subprocess
import sys

SMOKE_DATABASE = "postgresql://postgres@127.0.0.1:5432/academy_bench_certs_smoke"


def test_the_certificate_bench_runs_with_tiny_numbers():
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.certificates",
            "--n",
            "20",
            "--latency",
            "3",
            "--database",
            SMOKE_DATABASE,
            "--no-results",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "20 completions → certificates (3 for latency)" in done.stdout
    assert "ratio per core" in done.stdout and "commit → PDF, median s" in done.stdout
