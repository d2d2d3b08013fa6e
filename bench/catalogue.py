"""Catalogue benchmark: ours against a one-query baseline, in the same run.

    academy seed-demo --scale 100          # once, into the database below
    python bench/catalogue.py [--duration 20] [--connections 16]

Serves ``bench.app`` (the real application plus baseline routes) with gunicorn
(2 workers) on PostgreSQL, then drives each route with wrk for ``--duration`` seconds
at ``--connections`` concurrent connections: requests/s, p50 and p99 latency, errors,
and the ratio ours / baseline. Results are also written to bench/results/.

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


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, duration: int, connections: int) -> dict[str, float]:
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.MULTILINE))
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(match.group(1))
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(n) for n in match.groups())
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "p50_ms": to_ms(latency["50"]),
        "p99_ms": to_ms(latency["99"]),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),  # type: ignore[union-attr]
        "errors": errors,
    }


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
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")

    port = free_port()
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
                run_wrk(base + path, 3, args.connections)
            measured = {
                "route": name,
                "ours": run_wrk(base + ours, args.duration, args.connections),
                "baseline": run_wrk(base + baseline, args.duration, args.connections),
            }
            measured["ratio"] = measured["ours"]["rps"] / measured["baseline"]["rps"]
            results.append(measured)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    print(
        f"\ncatalogue benchmark: gunicorn {args.workers} workers, {args.connections} "
        f"connections, {args.duration} s per route, database {env['ACADEMY_DATABASE_URL']}"
    )
    header = f"{'route':<32} {'':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
    print(header)
    print("-" * len(header))
    for measured in results:
        for label in ("ours", "baseline"):
            figures = measured[label]
            route = measured["route"] if label == "ours" else ""
            print(
                f"{route:<32} {label:>9} {figures['rps']:>8.1f} {figures['p50_ms']:>8.1f} "
                f"{figures['p99_ms']:>8.1f} {figures['errors']:>7}"
            )
        print(f"{'':<32} {'ratio':>9} {measured['ratio']:>8.2f}   (ours / baseline, target ≥ 0.6)")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"catalogue-{stamp}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
