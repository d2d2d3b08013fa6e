"""Certificates through a real worker, against drawing the same PDFs in one process.

    python -m bench.certificates [--n 1000] [--latency 20] [--concurrency 2] [--database URL]

About a minute and a half on two cores for the defaults.

Builds its own PostgreSQL database (dropped and rebuilt on every run, so never point it
at one whose data you want) from the migrations, starts its own redis-server on a free
loopback port (killed at the end) and a real worker, ``celery -A workers worker
--pool=prefork --concurrency 2``. The data: ``--n`` completed enrolments (courses of 100
learners, each marked present at both sessions by the roll-call service and settled),
each with its ``enrolment.completed`` outbox row pending, written by an app with no broker
so that nothing is sent early.

Throughput: the relay's ``send_due`` sends every row at once; the worker issues each
certificate (``academy.certificates.issue``) and, right after that commit, draws and
stores its PDF in the same task (the ``certificate.issued`` row is a follow-up leased by
its writer: ``academy.certificates.render`` runs only if the worker died in between).
Timed from the first send to the moment every certificate has its ``pdf_key`` (polled
every 50 ms).

Baseline, in the same run: the same certificates' PDFs (their stored facts) drawn one after
another in this process with ``courses.services.certificates.pdf.render``, into memory,
nothing else; and ``bench/certificate_baseline.py``'s bare reportlab drawing when that
module exists (skipped when it does not). The ratio compares rates per core: the worker's
certificates/s divided by its ``--concurrency``, against the baseline's (one core).
Target ≥ 0.7.

Latency: with the worker idle, ``--latency`` single completions one at a time (a roll-call
through the service and a commit in an app configured with the broker, so that the
commit wakes the app's relay thread as in a web process), each timed from just before
the completing commit until its certificate's ``pdf_key`` is set. Target: median < 2 s.

Results are also written to bench/results/certificates.json (not with ``--no-results``).
Measured on two shared cores (PostgreSQL, Redis, the worker and this script on the same
two): 40.7 certificates/s through the worker (20.3 per process) against 141 drawn by
``pdf.render`` alone and 132 by bare reportlab, a ratio per core of 0.14, far from the
target. Each certificate is two short transactions of about 20 statements in all (the
outbox row locked and marked, the enrolment locked, the serial counter, the snapshot's
reads, the insert, the stored file), and PostgreSQL's share of the two cores is not free.
Commit → PDF: median 0.05 s.

Environment: ACADEMY_CERT_BENCH_DATABASE_URL (default the academy_bench_certs database on
127.0.0.1); not ACADEMY_DATABASE_URL, which may name a database to keep.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/academy_bench_certs"
INSTANCE_PATH = "/tmp/academy-cert-bench"
SECRET_KEY = "bench-secret-key-0123456789"
PER_COURSE = 100
TARGET_RATIO = 0.7
TARGET_LATENCY_S = 2.0


def rebuild_database(url: str) -> None:
    parsed = make_url(url)
    info = {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": parsed.username or "postgres",
        "password": parsed.password,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **info) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (parsed.database,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}"')
        conn.execute(f'CREATE DATABASE "{parsed.database}"')
    with psycopg.connect(dbname=parsed.database, autocommit=True, **info) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")


def environment(database: str, broker: str | None) -> dict[str, str]:
    return {
        "ACADEMY_DATABASE_URL": database,
        "ACADEMY_INSTANCE_PATH": INSTANCE_PATH,
        "ACADEMY_SECRET_KEY": SECRET_KEY,
        "ACADEMY_BROKER_URL": broker or "",
        "ACADEMY_RATELIMIT_STORAGE_URL": "memory://",
    }


def build_app(database: str, broker: str | None):  # type: ignore[no-untyped-def]
    from academy import create_app

    return create_app({**environment(database, broker), "RATELIMIT_ENABLED": False})


def seed(app, n: int, latency: int) -> list[int]:  # type: ignore[no-untyped-def]
    """``n`` completions pending certificates; a course whose ``latency`` learners were
    present at its first session (the second, marked later, completes each)."""
    from flask_migrate import upgrade

    from courses.db import db
    from courses.services import accounts, attendance
    from tests.attendance_helpers import OVER, PAST
    from tests.certificate_helpers import completed_course
    from tests.factories import make_course, make_enrolment, make_trainer, make_user

    accounts.use_fast_hashing_for_tests()
    with app.app_context():
        upgrade()
        for start in range(0, n, PER_COURSE):
            size = min(PER_COURSE, n - start)
            completed_course(size, title=f"社区营造实务{start // PER_COURSE + 1}", capacity=size)
        trainer = make_trainer(name="延迟老师")
        course = make_course(
            "单次结业", trainers=[trainer], sessions=2, first_session_at=PAST, capacity=latency
        )
        users = [make_user(name=f"延迟学员{i}") for i in range(latency)]
        for user in users:
            make_enrolment(course, user)
        marks = [{"user_id": user.id, "status": "present"} for user in users]
        attendance.mark(trainer, course.sessions[0], marks, now=OVER)
        db.session.commit()
        ids = [user.id for user in users]
        db.session.remove()
    return ids


def start_worker(database: str, broker: str, concurrency: int) -> subprocess.Popen[bytes]:
    log = open(Path(INSTANCE_PATH) / "worker.log", "wb")  # noqa: SIM115 (the child keeps it)
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "workers",
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "--loglevel=WARNING",
            "--hostname=bench-certs@%h",
            "--without-mingle",
            "--without-gossip",
        ],
        env={**os.environ, **environment(database, broker)},
        cwd=str(ROOT),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    return worker


def wait_for_worker(app, worker: subprocess.Popen[bytes], timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    control = app.extensions["celery"].control
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited: see {INSTANCE_PATH}/worker.log")
        if control.ping(timeout=1.0):
            return
    raise SystemExit("the worker did not answer")


def drawn_count(app) -> int:  # type: ignore[no-untyped-def]
    from courses.db import db
    from courses.models import Certificate

    with app.app_context():
        try:
            return int(
                db.session.scalar(
                    sa.select(sa.func.count())
                    .select_from(Certificate)
                    .where(Certificate.pdf_key.is_not(None))
                )
                or 0
            )
        finally:
            db.session.remove()


def throughput(app, n: int, timeout: float) -> float:  # type: ignore[no-untyped-def]
    """Seconds from the first send to the last PDF stored, for ``n`` certificates."""
    from courses.db import db
    from workers import job_context
    from workers.relay import send_due

    started = time.perf_counter()
    with job_context(app):
        sent = send_due(limit=10 * n)  # the completions' rows and the figures' rows
        db.session.remove()
    if sent < n:
        raise SystemExit(f"sent {sent} outbox rows for {n} completions")
    while drawn_count(app) < n:
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"only {drawn_count(app)} of {n} PDFs after {timeout} s")
        time.sleep(0.05)
    return time.perf_counter() - started


def latencies(app, user_ids: list[int], before: int, timeout: float = 30) -> list[float]:  # type: ignore[no-untyped-def]
    """From the completing commit to a downloadable PDF, one completion at a time."""
    from courses.db import db
    from courses.models import Course, CourseSession
    from courses.services import attendance

    seconds = []
    for number, user_id in enumerate(user_ids, start=1):
        with app.app_context():
            course = db.session.scalar(sa.select(Course).where(Course.title == "单次结业"))
            session = db.session.scalars(
                sa.select(CourseSession)
                .where(CourseSession.course_id == course.id)
                .order_by(CourseSession.starts_at)
            ).all()[1]
            trainer = course.trainers[0]
            attendance.mark(trainer, session, [{"user_id": user_id, "status": "present"}])
            db.session.flush()
            started = time.perf_counter()
            db.session.commit()  # wakes this process's relay thread
            db.session.remove()
        while drawn_count(app) < before + number:
            if time.perf_counter() - started > timeout:
                raise SystemExit(f"completion {number}: no PDF after {timeout} s")
            time.sleep(0.01)
        seconds.append(time.perf_counter() - started)
    return seconds


def stored_facts(app) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    from courses.db import db
    from courses.models import Certificate

    with app.app_context():
        rows = db.session.scalars(sa.select(Certificate.facts).order_by(Certificate.id)).all()
        db.session.remove()
    return [dict(facts) for facts in rows]


def draw_in_process(app, facts: list[dict[str, Any]]) -> float:  # type: ignore[no-untyped-def]
    """Seconds to draw every certificate's PDF in memory with ``pdf.render``."""
    from courses.services.certificates import pdf

    with app.app_context():  # the fonts' settings
        pdf.render(facts[0], io.BytesIO())  # fonts loaded and cached, as in a warm worker
        started = time.perf_counter()
        for one in facts:
            out = io.BytesIO()
            pdf.render(one, out, seal=None, signatory=one.get("signatory"))
        return time.perf_counter() - started


def bare_reportlab(facts: list[dict[str, Any]]) -> float | None:
    """``bench/certificate_baseline.py``'s drawing, when that module exists."""
    if importlib.util.find_spec("bench.certificate_baseline") is None:
        return None
    from bench import certificate_baseline
    from courses.services.certificates import fonts

    font = fonts.font_paths()[0]

    def draw(one: dict[str, Any]) -> None:
        certificate_baseline.draw_bare_certificate(
            io.BytesIO(),
            one["holder_name"],
            one["course_title"],
            one["serial"],
            one["verify_url"],
            font,
        )

    draw(facts[0])  # the font loaded, as in a warm process
    started = time.perf_counter()
    for one in facts:
        draw(one)
    return time.perf_counter() - started


def report(figures: dict[str, Any]) -> None:
    rows = [
        (
            "worker, certificates/s",
            f"{figures['worker_rate']:.1f}",
            f"{figures['worker_rate_per_core']:.1f} per core ({figures['concurrency']} processes)",
        ),
        (
            "pdf.render in one process, certificates/s",
            f"{figures['baseline_rate']:.1f}",
            "one core",
        ),
    ]
    if figures.get("bare_rate") is not None:
        rows.append(("bare reportlab, certificates/s", f"{figures['bare_rate']:.1f}", "one core"))
    rows += [
        (
            "ratio per core (worker / pdf.render)",
            f"{figures['ratio_per_core']:.2f}",
            f"target ≥ {TARGET_RATIO}",
        ),
        (
            "commit → PDF, median s",
            f"{figures['latency_median_s']:.3f}",
            f"max {figures['latency_max_s']:.3f}; target < {TARGET_LATENCY_S}",
        ),
    ]
    width = max(len(row[0]) for row in rows)
    print(f"\n{figures['n']} completions → certificates ({figures['latency_n']} for latency)")
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:>8}  {note}")
    if figures.get("bare_rate") is None:
        print("  (bench/certificate_baseline.py absent: the bare reportlab baseline is skipped)")


def run(args: argparse.Namespace) -> dict[str, Any]:
    from tests.redis_server import RedisServer

    shutil.rmtree(INSTANCE_PATH, ignore_errors=True)
    Path(INSTANCE_PATH).mkdir(parents=True)
    rebuild_database(args.database)
    user_ids = seed(build_app(args.database, None), args.n, args.latency)
    broker = RedisServer()
    broker.start()
    worker = start_worker(args.database, broker.url, args.concurrency)
    try:
        app = build_app(args.database, broker.url)
        wait_for_worker(app, worker)
        elapsed = throughput(app, args.n, timeout=max(120.0, args.n * 0.5))
        time.sleep(1.0)  # the worker idle again before the single completions
        waits = latencies(app, user_ids, before=args.n)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, 9)
        broker.close()
    facts = stored_facts(app)[: args.n]
    baseline = draw_in_process(app, facts)
    bare = bare_reportlab(facts)
    worker_rate = args.n / elapsed
    return {
        "n": args.n,
        "concurrency": args.concurrency,
        "worker_seconds": elapsed,
        "worker_rate": worker_rate,
        "worker_rate_per_core": worker_rate / args.concurrency,
        "baseline_rate": len(facts) / baseline,
        "bare_rate": len(facts) / bare if bare else None,
        "ratio_per_core": (worker_rate / args.concurrency) / (len(facts) / baseline),
        "latency_n": len(waits),
        "latency_median_s": statistics.median(waits),
        "latency_max_s": max(waits),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="completions for the throughput")
    parser.add_argument("--latency", type=int, default=20, help="single completions timed")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument(
        "--database",
        default=os.environ.get("ACADEMY_CERT_BENCH_DATABASE_URL") or DEFAULT_DATABASE,
    )
    parser.add_argument("--no-results", action="store_true", help="write no results file")
    args = parser.parse_args(argv)
    figures = run(args)
    report(figures)
    if args.no_results:
        return 0
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "certificates.json").write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
