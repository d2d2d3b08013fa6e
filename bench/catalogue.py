"""Catalogue benchmark: ours against a one-query baseline, in the same run.

    academy seed-demo --scale 100          # once, into the database below
    python bench/catalogue.py [--duration 20] [--connections 16]

Serves ``bench.app`` (the real application plus baseline routes) with gunicorn
(2 workers) on PostgreSQL, then drives each route with wrk for ``--duration`` seconds
at ``--connections`` concurrent connections: requests/s, p50 and p99 latency, errors
and timeouts as wrk counts them (a request gets ``--timeout``, 30 s by default), and
the ratio ours / baseline. Results are also written to bench/results/.

Environment: ACADEMY_DATABASE_URL (default the academy_bench database on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/academy_bench"

PAIRS = [
    ("GET /courses", "/courses", "/bench/baseline/courses"),
    (
        "GET /courses?q=心理&level=中级",
        f"/courses?q={quote('心理')}&level={quote('中级')}",
        f"/bench/baseline/courses?q={quote('心理')}&level={quote('中级')}",
    ),
    ("GET /api/v1/courses", "/api/v1/courses", "/bench/baseline/api/courses"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("the server did not come up")


#: wrk gives up on a request after this long (its own default, 2 s, is shorter than a
#: cold first request against a large database) and counts it as a timeout.
WRK_TIMEOUT = "30s"
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def to_ms(value: str) -> float | None:
    """wrk's "812.00us", "1.52ms", "2.00s", "1.50m" in milliseconds; None if unreadable."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value.strip())
    if not match:
        return None
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> dict[str, float | int | None]:
    """The figures of one wrk run with ``--latency``.

    Requests that failed are counted, not fatal: non-2xx/3xx answers and socket errors
    (connect, read, write, timeout) as wrk reports them. A latency wrk did not print
    (no request finished) is None.
    """
    # wrk pads a value with one unit letter ("1.52s ") with a trailing space.
    latency = dict(re.findall(r"^\s*(50|99)(?:\.0+)?%\s+(\S+)\s*$", output, re.MULTILINE))
    figures: dict[str, float | int | None] = {
        "rps": None,
        "p50_ms": to_ms(latency["50"]) if "50" in latency else None,
        "p99_ms": to_ms(latency["99"]) if "99" in latency else None,
        "requests": 0,
        "non_2xx": 0,
        "connect_errors": 0,
        "read_errors": 0,
        "write_errors": 0,
        "timeouts": 0,
    }
    if match := re.search(r"Requests/sec:\s+([\d.]+)", output):
        figures["rps"] = float(match.group(1))
    if match := re.search(r"(\d+) requests in", output):
        figures["requests"] = int(match.group(1))
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        figures["non_2xx"] = int(match.group(1))
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        for name, count in zip(
            ("connect_errors", "read_errors", "write_errors", "timeouts"),
            match.groups(),
            strict=True,
        ):
            figures[name] = int(count)
    figures["errors"] = sum(
        int(figures[name] or 0)
        for name in ("non_2xx", "connect_errors", "read_errors", "write_errors", "timeouts")
    )
    return figures


def run_wrk(url: str, duration: int, connections: int, timeout: str = WRK_TIMEOUT) -> dict:
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        timeout,
        "--latency",
        url,
    ]
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"wrk failed on {url}: {run.stderr.strip() or run.stdout.strip()}")
    return parse_wrk(run.stdout)


def ratio(ours: dict, baseline: dict) -> float | None:
    if not ours["rps"] or not baseline["rps"]:
        return None
    return ours["rps"] / baseline["rps"]


def shown(value: float | int | None, width: int, digits: int = 1) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


def same_rows(base: str, ours: str, baseline: str) -> bool:
    """The baseline must answer with the same courses, or the comparison means nothing."""

    def ids(path: str) -> list[str]:
        with urllib.request.urlopen(base + path, timeout=30) as response:
            body = response.read().decode()
        if path.startswith(("/api/", "/bench/baseline/api/")):
            return [str(item["id"]) for item in json.loads(body)["items"]]
        return re.findall(r'href="/courses/(\d+)"', body)

    return ids(ours) == ids(baseline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds per route")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--timeout", default=WRK_TIMEOUT, help="wrk's timeout for one request, e.g. 30s"
    )
    parser.add_argument(
        "--port", type=int, default=0, help="the server's port (default: a free one)"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")

    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "ACADEMY_DATABASE_URL": os.environ.get("ACADEMY_DATABASE_URL", DEFAULT_DATABASE),
        "ACADEMY_SECRET_KEY": os.environ.get("ACADEMY_SECRET_KEY", "bench-secret-key-0123456789"),
        "ACADEMY_INSTANCE_PATH": os.environ.get("ACADEMY_INSTANCE_PATH", "/tmp/academy-bench"),
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [
            str(gunicorn),
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "bench.app:app",
        ],
        cwd=ROOT,
        env=env,
    )
    results = []
    try:
        wait_until_up(base)
        for name, ours, baseline in PAIRS:
            if not same_rows(base, ours, baseline):
                raise SystemExit(f"{name}: the baseline does not return the same courses")
            for path in (ours, baseline):  # warm both up: caches, pools, query plans
                warm = run_wrk(base + path, 3, args.connections, args.timeout)
                if warm["errors"]:
                    print(
                        f"warm-up of {path}: {warm['errors']} errors "
                        f"({warm['timeouts']} timeouts, {warm['non_2xx']} non-2xx)",
                        file=sys.stderr,
                    )
            measured = {
                "route": name,
                "ours": run_wrk(base + ours, args.duration, args.connections, args.timeout),
                "baseline": run_wrk(base + baseline, args.duration, args.connections, args.timeout),
            }
            measured["ratio"] = ratio(measured["ours"], measured["baseline"])
            results.append(measured)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    print(
        f"\ncatalogue benchmark: gunicorn {args.workers} workers, {args.connections} "
        f"connections, {args.duration} s per route, wrk timeout {args.timeout}, "
        f"database {env['ACADEMY_DATABASE_URL']}"
    )
    header = (
        f"{'route':<32} {'':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'errors':>7} {'timeouts':>8}"
    )
    print(header)
    print("-" * len(header))
    for measured in results:
        for label in ("ours", "baseline"):
            figures = measured[label]
            route = measured["route"] if label == "ours" else ""
            print(
                f"{route:<32} {label:>9} {shown(figures['rps'], 8)} "
                f"{shown(figures['p50_ms'], 8)} {shown(figures['p99_ms'], 8)} "
                f"{figures['errors']:>7} {figures['timeouts']:>8}"
            )
        print(
            f"{'':<32} {'ratio':>9} {shown(measured['ratio'], 8, 2)}   "
            "(ours / baseline, target ≥ 0.6)"
        )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"catalogue-{stamp}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
