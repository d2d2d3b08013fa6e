"""Enrolment rush: 1,000 learners enrol at once in one 50-seat course, ours against a
bare-SQL baseline, in the same run.

    python bench/enrol_rush.py [--learners 1000] [--capacity 50] [--clients 64] \
        [--workers 2] [--threads 0] [--repeat 3] [--tokens-used] [--database URL]

About a minute on two cores, most of it the application's rounds.

Builds its own PostgreSQL database (dropped and rebuilt on every run, so never point it
at one whose data you want): the schema from the migrations, one published course with
``--capacity`` seats, a session next month and an open enrolment window, and
``--learners`` learners with one API token each (issued by ``courses.services.tokens``).

Ours: the real application (``academy.wsgi:app``) served by gunicorn on a free loopback
port; ``--clients`` threads, each with its own ``http.client`` connection (the cheapest
client in Python, so that the client takes as little of the machine from the server as
it can: under 1 ms of CPU a request), wait at a barrier and then POST
``/api/v1/courses/<id>/enrolments`` with the learners' bearer tokens, every learner
once, as fast as the server answers.

Baseline: the same number of psycopg connections, each in a thread, doing for every
learner in one transaction what the enrolment must do at the least, and as correctly:
``UPDATE courses SET seats_taken = seats_taken + 1 WHERE id = … AND seats_taken <
capacity RETURNING seats_taken`` and the insert of an ``enrolled`` row; without a seat,
the course row locked ``FOR NO KEY UPDATE``, one more try for a seat, and a
``waitlisted`` row at position max + 1.

Every round starts from an empty roster. By default every token's ``last_used_at`` is
cleared too, so that each request is the learner's first in five minutes, as when a rush
opens: the application then also records the token's use, in the enrolment's
transaction (on PostgreSQL within the token lookup's statement). ``--tokens-used``
marks them used a moment ago instead (no such write).
Rounds alternate ours and baseline; the figures are the median round of each by rate.
After every round the database is checked: seats taken = learners enrolled ≤ capacity,
the others waitlisted at positions 1..N without gap or repeat, one enrolment per
learner; and every response must be a 201 whose status and waitlist place agree.

Gunicorn: sync workers by default (``--threads 0``), as for the catalogue benchmark. Most
of a request's time in a worker is Python on the CPU (about two thirds, profiled), the
rest waiting for PostgreSQL, so on two cores one process per core is the natural fit;
threads could overlap only the waits, and under the GIL a thread holding the course row
lock (everyone after the last seat queues on it for the waitlist) would also wait for
the other threads' Python. gthread workers (2×4 and 2×16 threads) and 4 sync workers
were measured too and did no better, within the noise of a shared machine. With sync
workers the server closes the connection after each response and the client reconnects;
the clients queue in gunicorn's listen backlog, hence latencies of hundreds of
milliseconds with two requests in flight.

Exits non-zero if anything was overbooked, any request failed, or the check found the
roster inconsistent. Results are also written to bench/results/.

Environment: ACADEMY_ENROL_BENCH_DATABASE_URL (default the academy_enrol_bench
database on 127.0.0.1); not ACADEMY_DATABASE_URL, which may name a database to keep.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/academy_enrol_bench"
SECRET_KEY = "bench-secret-key-0123456789"
INSTANCE_PATH = "/tmp/academy-enrol-bench"
COURSE_TITLE = "抢报压测：社区危机干预实务"

BASELINE_TAKE_SEAT = (
    "UPDATE courses SET seats_taken = seats_taken + 1 "
    "WHERE id = %s AND seats_taken < capacity RETURNING seats_taken"
)
BASELINE_LOCK = "SELECT seats_taken, capacity FROM courses WHERE id = %s FOR NO KEY UPDATE"
BASELINE_ENROLLED = (
    "INSERT INTO enrolments (course_id, user_id, status, credited_hours, created_at, "
    "updated_at) VALUES (%s, %s, 'enrolled', 0, now() AT TIME ZONE 'UTC', "
    "now() AT TIME ZONE 'UTC')"
)
BASELINE_WAITLISTED = (
    "INSERT INTO enrolments (course_id, user_id, status, waitlist_position, credited_hours, "
    "created_at, updated_at) "
    "SELECT %s, %s, 'waitlisted', coalesce(max(waitlist_position), 0) + 1, 0, "
    "now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC' FROM enrolments WHERE course_id = %s"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(base: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server exited while starting: see its log")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("the server did not come up")


def conninfo(url: str) -> dict[str, Any]:
    parsed = make_url(url)
    return {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": parsed.username or "postgres",
        "password": parsed.password,
        "dbname": parsed.database,
        "connect_timeout": 5,
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


# ---- the database ---------------------------------------------------------------------------


def rebuild_database(url: str) -> None:
    """Create the database if it is missing, and empty its schema."""
    info = conninfo(url)
    name = info.pop("dbname")
    with psycopg.connect(dbname="postgres", autocommit=True, **info) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(dbname=name, autocommit=True, **info) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")


def seed(env: dict[str, str], learners: int, capacity: int) -> tuple[int, list[str]]:
    """Migrate to head, then write the course and the learners with their tokens.

    Returns the course id and the learners' token secrets, in user id order.
    """
    os.environ.update(env)
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from academy import create_app
    from courses.db import db
    from courses.models import (
        Course,
        CourseLevel,
        CourseMode,
        CourseSession,
        PublicationStatus,
        Role,
        SessionMode,
        User,
        UserRole,
    )
    from courses.services import accounts, tokens

    app = create_app()
    with app.app_context():
        upgrade()
        now = datetime.now(UTC)
        starts = (now + timedelta(days=30)).replace(hour=1, minute=30, second=0, microsecond=0)
        course = Course(
            title=COURSE_TITLE,
            summary="一千名学员同时报名五十个名额。",
            description="",
            topic="危机干预",
            level=CourseLevel.INTERMEDIATE,
            mode=CourseMode.OFFLINE,
            capacity=capacity,
            enrol_opens_at=now - timedelta(hours=1),
            enrol_closes_at=now + timedelta(days=20),
            cancel_deadline=now + timedelta(days=25),
            status=PublicationStatus.PUBLISHED,
        )
        db.session.add(course)
        db.session.flush()
        db.session.add(
            CourseSession(
                course_id=course.id,
                title="第一讲",
                starts_at=starts,
                ends_at=starts + timedelta(hours=3),
                mode=SessionMode.OFFLINE,
                venue="学院本部",
                room="301",
                class_hours=4,
            )
        )
        password_hash = accounts.hash_password("academy2025")
        user_ids = db.session.scalars(
            sa.insert(User).returning(User.id, sort_by_parameter_order=True),
            [
                {
                    "name": f"学员{number:04d}",
                    "phone": f"139{number:08d}",
                    "password_hash": password_hash,
                }
                for number in range(1, learners + 1)
            ],
        ).all()
        db.session.execute(
            sa.insert(UserRole), [{"user_id": uid, "role": Role.LEARNER} for uid in user_ids]
        )
        users = db.session.scalars(sa.select(User).where(User.id.in_(user_ids)).order_by(User.id))
        secrets = [tokens.issue(user)[0] for user in users]
        course_id = course.id
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()
    return course_id, secrets


def reset(url: str, course_id: int, *, tokens_used: bool = False) -> None:
    """An empty roster, every seat free, every token unused for five minutes (or, with
    ``tokens_used``, used a moment ago)."""
    last_used = "now() AT TIME ZONE 'UTC'" if tokens_used else "NULL"
    with psycopg.connect(autocommit=True, **conninfo(url)) as conn:
        conn.execute("DELETE FROM enrolments WHERE course_id = %s", (course_id,))
        conn.execute("UPDATE courses SET seats_taken = 0 WHERE id = %s", (course_id,))
        conn.execute(f"UPDATE api_tokens SET last_used_at = {last_used}")
        conn.execute("VACUUM ANALYZE courses, enrolments, api_tokens")
        conn.execute("CHECKPOINT")


def check(url: str, course_id: int, capacity: int, learners: int) -> dict[str, Any]:
    """What the database holds after a round, and whether it is consistent."""
    with psycopg.connect(**conninfo(url)) as conn:
        seats_taken, stored_capacity = conn.execute(
            "SELECT seats_taken, capacity FROM courses WHERE id = %s", (course_id,)
        ).fetchone()  # type: ignore[misc]
        counts = dict(
            conn.execute(
                "SELECT status, count(*) FROM enrolments WHERE course_id = %s GROUP BY status",
                (course_id,),
            ).fetchall()
        )
        positions = [
            row[0]
            for row in conn.execute(
                "SELECT waitlist_position FROM enrolments "
                "WHERE course_id = %s AND status = 'waitlisted' ORDER BY waitlist_position",
                (course_id,),
            )
        ]
        distinct_learners = conn.execute(
            "SELECT count(DISTINCT user_id) FROM enrolments WHERE course_id = %s", (course_id,)
        ).fetchone()[0]  # type: ignore[index]
    enrolled = counts.get("enrolled", 0)
    waitlisted = counts.get("waitlisted", 0)
    problems = []
    if seats_taken != enrolled:
        problems.append(f"seats_taken {seats_taken} but {enrolled} enrolled")
    if positions != list(range(1, waitlisted + 1)):
        problems.append("waitlist positions are not 1..N without gap or repeat")
    if enrolled != min(stored_capacity, learners) or enrolled + waitlisted != learners:
        problems.append(f"expected {min(capacity, learners)} enrolled, the rest waitlisted")
    if distinct_learners != sum(counts.values()):
        problems.append("a learner holds two enrolments")
    other = {status: n for status, n in counts.items() if status not in ("enrolled", "waitlisted")}
    if other:
        problems.append(f"unexpected statuses {other}")
    return {
        "enrolled": enrolled,
        "waitlisted": waitlisted,
        "seats_taken": seats_taken,
        "overbooked": max(0, enrolled - stored_capacity, seats_taken - stored_capacity),
        "problems": problems,
    }


# ---- the two sides --------------------------------------------------------------------------


class Rush:
    """``clients`` threads, started together, share out ``jobs``; each job's latency kept."""

    def __init__(self, clients: int, jobs: int) -> None:
        self.clients = clients
        self.jobs = jobs
        self.next_job = 0
        self.lock = threading.Lock()
        self.barrier = threading.Barrier(clients + 1, timeout=120)
        self.latencies: list[float] = [0.0] * jobs
        self.outcomes: list[Any] = [None] * jobs

    def take(self) -> int | None:
        with self.lock:
            if self.next_job >= self.jobs:
                return None
            self.next_job += 1
            return self.next_job - 1

    def run(self, client: Any) -> float:
        """Start every client thread, release them at once; the seconds until all end."""
        threads = [threading.Thread(target=client, daemon=True) for _ in range(self.clients)]
        for thread in threads:
            thread.start()
        self.barrier.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        return time.perf_counter() - started


def rush_http(port: int, course_id: int, secrets: list[str], clients: int) -> dict[str, Any]:
    rush = Rush(clients, len(secrets))
    path = f"/api/v1/courses/{course_id}/enrolments"

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.connect()
        except OSError:
            conn.close()  # the first request connects again, and counts if that fails
        rush.barrier.wait()
        while (job := rush.take()) is not None:
            headers = {
                "Authorization": f"Bearer {secrets[job]}",
                "Content-Type": "application/json",
            }
            started = time.perf_counter()
            try:
                conn.request("POST", path, body=b"{}", headers=headers)
                response = conn.getresponse()
                body = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as error:
                conn.close()
                body, status = repr(error).encode(), 0
            rush.latencies[job] = time.perf_counter() - started
            rush.outcomes[job] = (status, body)
        conn.close()

    elapsed = rush.run(client)
    accepted = waitlisted = 0
    ranks: list[int] = []
    failures: list[str] = []
    problems: list[str] = []
    for status, body in (outcome or (0, b"no answer") for outcome in rush.outcomes):
        if status != 201:
            failures.append(f"{status} {body[:300].decode(errors='replace')}")
            continue
        answer = json.loads(body)
        if answer["status"] == "enrolled":
            accepted += 1
        elif answer["status"] == "waitlisted":
            waitlisted += 1
            ranks.append(answer["waitlist_position"])
        else:
            failures.append(f"201 with status {answer['status']}")
    if sorted(ranks) != list(range(1, len(ranks) + 1)):
        problems.append("the waitlist places answered are not 1..N")
    return summarise(rush, elapsed, accepted, waitlisted, failures) | {"problems": problems}


def rush_baseline(url: str, course_id: int, user_ids: list[int], clients: int) -> dict[str, Any]:
    rush = Rush(clients, len(user_ids))
    info = conninfo(url)

    def enrol(conn: psycopg.Connection[Any], user_id: int) -> str:
        with conn.transaction():
            if conn.execute(BASELINE_TAKE_SEAT, (course_id,)).fetchone() is None:
                conn.execute(BASELINE_LOCK, (course_id,))
                # A seat may have been freed between the first try and the lock.
                if conn.execute(BASELINE_TAKE_SEAT, (course_id,)).fetchone() is None:
                    conn.execute(BASELINE_WAITLISTED, (course_id, user_id, course_id))
                    return "waitlisted"
            conn.execute(BASELINE_ENROLLED, (course_id, user_id))
            return "enrolled"

    def client() -> None:
        with psycopg.connect(**info) as conn:
            rush.barrier.wait()
            while (job := rush.take()) is not None:
                started = time.perf_counter()
                try:
                    outcome = enrol(conn, user_ids[job])
                except psycopg.Error as error:
                    outcome = f"error {error!r}"
                rush.latencies[job] = time.perf_counter() - started
                rush.outcomes[job] = outcome

    elapsed = rush.run(client)
    accepted = rush.outcomes.count("enrolled")
    waitlisted = rush.outcomes.count("waitlisted")
    failures = [o for o in rush.outcomes if o not in ("enrolled", "waitlisted")]
    return summarise(rush, elapsed, accepted, waitlisted, failures) | {"problems": []}


def summarise(
    rush: Rush, elapsed: float, accepted: int, waitlisted: int, failures: list[str]
) -> dict[str, Any]:
    return {
        "rps": rush.jobs / elapsed,
        "seconds": elapsed,
        "p50_ms": percentile(rush.latencies, 0.50) * 1000,
        "p99_ms": percentile(rush.latencies, 0.99) * 1000,
        "accepted": accepted,
        "waitlisted": waitlisted,
        "errors": len(failures),
        "failures": failures[:5],
    }


# ---- the run --------------------------------------------------------------------------------


def add_rush_options(parser: argparse.ArgumentParser, database_env: str, database: str) -> None:
    """The options every rush benchmark takes: clients, server, rounds, database."""
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--threads", type=int, default=0, help="gthread workers with N threads (0: sync)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds of each; the median")
    parser.add_argument(
        "--tokens-used",
        action="store_true",
        help="tokens used a moment ago: no last_used_at write in the requests",
    )
    parser.add_argument(
        "--database",
        default=os.environ.get(database_env, database),
        help="PostgreSQL URL, dropped and rebuilt (default %(default)s)",
    )


def server_env(database: str, instance_path: str) -> dict[str, str]:
    """The environment of the application under test: its database and instance."""
    return {
        **os.environ,
        "ACADEMY_DATABASE_URL": database,
        "ACADEMY_SECRET_KEY": os.environ.get("ACADEMY_SECRET_KEY", SECRET_KEY),
        "ACADEMY_INSTANCE_PATH": os.environ.get("ACADEMY_INSTANCE_PATH", instance_path),
    }


def start_server(env: dict[str, str], port: int, workers: int, threads: int, log: Path) -> Any:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "--workers", str(workers), "--bind", f"127.0.0.1:{port}"]
    if threads > 0:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    command += ["--backlog", "2048", "--log-level", "warning", "academy.wsgi:app"]
    handle = log.open("w")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=handle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--capacity", type=int, default=50)
    add_rush_options(parser, "ACADEMY_ENROL_BENCH_DATABASE_URL", DEFAULT_DATABASE)
    args = parser.parse_args()
    began = time.perf_counter()
    env = server_env(args.database, INSTANCE_PATH)
    print(f"building {args.database} …", flush=True)
    rebuild_database(args.database)
    course_id, secrets = seed(env, args.learners, args.capacity)
    with psycopg.connect(**conninfo(args.database)) as conn:
        user_ids = [
            row[0]
            for row in conn.execute("SELECT user_id FROM api_tokens ORDER BY user_id").fetchall()
        ]
    print(f"seeded in {time.perf_counter() - began:.1f} s", flush=True)

    port = free_port()
    log = Path(env["ACADEMY_INSTANCE_PATH"]) / "gunicorn.log"
    server = start_server(env, port, args.workers, args.threads, log)
    rounds: dict[str, list[dict[str, Any]]] = {"ours": [], "baseline": []}
    try:
        wait_until_up(f"http://127.0.0.1:{port}", server)
        # Warm both up (imports, connection pools, prepared statements), then measure.
        reset(args.database, course_id)
        rush_http(port, course_id, secrets[: args.clients * 2], args.clients)
        reset(args.database, course_id)
        rush_baseline(args.database, course_id, user_ids[: args.clients * 2], args.clients)
        for number in range(1, args.repeat + 1):
            for side in ("ours", "baseline"):
                reset(args.database, course_id, tokens_used=args.tokens_used)
                if side == "ours":
                    measured = rush_http(port, course_id, secrets, args.clients)
                else:
                    measured = rush_baseline(args.database, course_id, user_ids, args.clients)
                found = check(args.database, course_id, args.capacity, args.learners)
                found["problems"] += measured["problems"]
                measured.update(found)
                rounds[side].append(measured)
                print(
                    f"round {number} {side:>8}: {measured['rps']:7.1f} req/s  "
                    f"p50 {measured['p50_ms']:6.1f} ms  p99 {measured['p99_ms']:7.1f} ms  "
                    f"errors {measured['errors']}  overbooked {measured['overbooked']}",
                    flush=True,
                )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    median = {
        side: sorted(runs, key=lambda r: r["rps"])[len(runs) // 2] for side, runs in rounds.items()
    }
    ratio = median["ours"]["rps"] / median["baseline"]["rps"]
    errors = sum(r["errors"] for runs in rounds.values() for r in runs)
    overbooked = max(r["overbooked"] for runs in rounds.values() for r in runs)
    problems = sorted({p for runs in rounds.values() for r in runs for p in r["problems"]})
    failures = [
        f"{side}: {f}" for side, runs in rounds.items() for r in runs for f in r["failures"]
    ]

    server_kind = f"{args.threads} threads (gthread)" if args.threads else "sync"
    print(
        f"\nenrol rush: {args.learners} learners, {args.capacity} seats, {args.clients} clients, "
        f"gunicorn {args.workers} workers × {server_kind}, tokens "
        f"{'used a moment ago' if args.tokens_used else 'first used'}, "
        f"median of {args.repeat} rounds, database {args.database}"
    )
    header = (
        f"{'':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'accepted':>9} "
        f"{'waitlisted':>11} {'errors':>7} {'overbooked':>11}"
    )
    print(header)
    print("-" * len(header))
    for side in ("ours", "baseline"):
        figures = median[side]
        print(
            f"{side:>9} {figures['rps']:>8.1f} {figures['p50_ms']:>8.1f} "
            f"{figures['p99_ms']:>8.1f} {figures['accepted']:>9} {figures['waitlisted']:>11} "
            f"{figures['errors']:>7} {figures['overbooked']:>11}"
        )
    print(f"{'ratio':>9} {ratio:>8.2f}   (ours / baseline)")
    # Each round of ours and the baseline round after it ran under the same conditions;
    # on a shared machine their ratios show how much the ratio above moves with them.
    paired = [o["rps"] / b["rps"] for o, b in zip(rounds["ours"], rounds["baseline"], strict=True)]
    print(
        f"{'rounds':>9} {' '.join(f'{r:.2f}' for r in paired)}   (ours / baseline in each "
        f"round; median {sorted(paired)[len(paired) // 2]:.2f})"
    )

    def verdict(met: bool) -> str:
        return "met" if met else "NOT met"

    print(
        f"targets over all rounds: rate ≥ 0.5 × baseline {verdict(ratio >= 0.5)}; "
        f"0 overbooked {verdict(not overbooked)} ({overbooked}); "
        f"0 errors {verdict(not errors)} ({errors}); "
        f"roster {'consistent' if not problems else 'INCONSISTENT: ' + '; '.join(problems)}"
    )
    for failure in failures[:5]:
        print(f"  failed, {failure}")
    if failures:
        print(f"  server log: {log}")
    print(f"took {time.perf_counter() - began:.0f} s")

    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"enrol_rush-{stamp}.json").write_text(
        json.dumps(
            {"args": vars(args), "rounds": rounds, "ratio": ratio, "round_ratios": paired},
            indent=2,
        )
    )
    if errors or overbooked or problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
