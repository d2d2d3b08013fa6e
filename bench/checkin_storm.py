"""Check-in storm: 500 enrolled learners check in to one session within seconds, ours
against a bare-SQL baseline, in the same run.

    python bench/checkin_storm.py [--learners 500] [--clients 64] [--workers 2] \
        [--threads 0] [--repeat 3] [--tokens-used] [--database URL]

About a minute and a half on two cores, most of it the application's rounds.

Builds its own PostgreSQL database (dropped and rebuilt on every run, so never point it
at one whose data you want): the schema from the migrations, one published course with
``--sessions`` (default 4) weekly offline sessions, the first of which starts five
minutes after seeding (so its check-in window, by default from 30 minutes before the
start to 30 minutes after, is open, and checking in now is on time), a trainer of the
course, and ``--learners`` learners, each enrolled (status enrolled, the course's
seats taken accordingly) and holding one API token (issued by
``courses.services.tokens``). Check-in is opened by the trainer through
``courses.services.attendance.checkin.open_checkin``, which sets the session's 6-digit code.

Ours: the real application (``academy.wsgi:app``) served by gunicorn on a free loopback
port, with its real configuration (rate limiting on, in its default memory store; only
refused check-ins count against a learner, so the storm is not limited);
``--clients`` threads, each with its own ``http.client`` connection, wait at a barrier
and then POST ``/api/v1/checkin`` with ``{"session_id": …, "code": "<the code>"}`` and
the learners' bearer tokens, every learner once, as fast as the server answers. Each
answer must be a 201 with status ``present`` (on time). Every check-in also evaluates
the enrolment's completion (in the check-in's transaction); since the session has not
begun, nothing is credited yet and nothing completes (a course completes once its last
session has ended, ``academy settle-courses``).

Baseline: the same number of psycopg connections, each in a thread, inserting for every
learner in one transaction the attendance row the check-in ends with (``INSERT INTO
attendance_records … VALUES (…, 'present', 'code', <minutes>, <hours>, now, …) ON
CONFLICT (session_id, user_id) DO NOTHING``), timestamps naive UTC as the application
stores them.

Every round starts from no attendance: the session's records deleted, the enrolments
back to enrolled with no hours, the outbox and notices emptied. By default every token's
``last_used_at`` is cleared too, so that each request also records the token's use;
``--tokens-used`` marks them used a moment ago instead (no such write). Rounds alternate
ours and baseline; the figures are the median round of each by rate. After every round
the database is checked: exactly one attendance record per learner, every one present,
by code, with ``checked_in_at`` set; after ours also every enrolment's hours equal to its
record's, and one ``enrolment.completed`` event per completed enrolment.

Gunicorn: sync workers by default (``--threads 0``), as in ``bench/enrol_rush.py`` (see
there why); with sync workers the server closes the connection after each response and
the client reconnects.

Exits non-zero if any request failed or the check found the attendance inconsistent.
Results are also written to bench/results/.

Environment: ACADEMY_CHECKIN_BENCH_DATABASE_URL (default the academy_checkin_bench
database on 127.0.0.1); not ACADEMY_DATABASE_URL, which may name a database to keep.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: bench/ is on the path, not its parent
    sys.path.insert(0, str(ROOT))

from bench.enrol_rush import (  # noqa: E402
    Rush,
    add_rush_options,
    conninfo,
    free_port,
    percentile,
    rebuild_database,
    server_env,
    start_server,
    wait_until_up,
)

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/academy_checkin_bench"
INSTANCE_PATH = "/tmp/academy-checkin-bench"
COURSE_TITLE = "签到压测：社区危机干预实务"
SESSION_HOURS = 3
CLASS_HOURS = 4
STARTS_IN = timedelta(minutes=5)

BASELINE_INSERT = (
    "INSERT INTO attendance_records (session_id, user_id, enrolment_id, status, method, "
    "minutes, credited_hours, checked_in_at, online_minutes, imported_minutes, "
    "video_complete, manual, created_at, updated_at) "
    "VALUES (%s, %s, %s, 'present', 'code', %s, %s, now() AT TIME ZONE 'UTC', 0, 0, "
    "false, false, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC') "
    "ON CONFLICT (session_id, user_id) DO NOTHING"
)


# ---- the database ---------------------------------------------------------------------------


def seed(env: dict[str, str], learners: int, sessions: int = 4) -> dict[str, Any]:
    """Migrate to head, then write the course, its session, its trainer and the enrolled
    learners with their tokens, and open check-in.

    Returns the course and session ids, the check-in code, the session's minutes and
    credited hours, and the learners as (user id, enrolment id, token secret), in user
    id order.
    """
    os.environ.update(env)
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from academy import create_app
    from courses.db import db, utcnow
    from courses.models import (
        Course,
        CourseLevel,
        CourseMode,
        CourseSession,
        Enrolment,
        EnrolmentStatus,
        PublicationStatus,
        Role,
        SessionMode,
        User,
        UserRole,
    )
    from courses.services import accounts, attendance, tokens
    from courses.services.attendance import checkin

    app = create_app()
    with app.app_context():
        upgrade()
        now = datetime.now(UTC)
        starts = (now + STARTS_IN).replace(microsecond=0)
        password_hash = accounts.hash_password("academy2025")
        trainer = User(name="讲师", phone="13800000001", password_hash=password_hash)
        db.session.add(trainer)
        db.session.flush()
        db.session.add(UserRole(user_id=trainer.id, role=Role.TRAINER))
        course = Course(
            title=COURSE_TITLE,
            summary=f"{learners}名学员在同一讲开始前几秒内签到。",
            description="",
            topic="危机干预",
            level=CourseLevel.INTERMEDIATE,
            mode=CourseMode.OFFLINE,
            capacity=learners,
            seats_taken=learners,
            enrol_opens_at=now - timedelta(days=20),
            enrol_closes_at=now - timedelta(days=1),
            cancel_deadline=now - timedelta(days=1),
            status=PublicationStatus.PUBLISHED,
            trainers=[trainer],
        )
        db.session.add(course)
        db.session.flush()
        session = CourseSession(
            course_id=course.id,
            title="第一讲",
            starts_at=starts,
            ends_at=starts + timedelta(hours=SESSION_HOURS),
            mode=SessionMode.OFFLINE,
            venue="学院本部",
            room="301",
            class_hours=CLASS_HOURS,
        )
        db.session.add(session)
        for week in range(1, sessions):  # the course's later sessions, weekly
            later = starts + timedelta(weeks=week)
            db.session.add(
                CourseSession(
                    course_id=course.id,
                    title=f"第{week + 1}讲",
                    starts_at=later,
                    ends_at=later + timedelta(hours=SESSION_HOURS),
                    mode=SessionMode.OFFLINE,
                    venue="学院本部",
                    room="301",
                    class_hours=CLASS_HOURS,
                )
            )
        db.session.flush()
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
        enrolment_ids = db.session.scalars(
            sa.insert(Enrolment).returning(Enrolment.id, sort_by_parameter_order=True),
            [
                {
                    "course_id": course.id,
                    "user_id": uid,
                    "status": EnrolmentStatus.ENROLLED,
                    "credited_hours": 0,
                }
                for uid in user_ids
            ],
        ).all()
        users = db.session.scalars(sa.select(User).where(User.id.in_(user_ids)).order_by(User.id))
        secrets = [tokens.issue(user)[0] for user in users]
        checkin.open_checkin(trainer, session)
        # Checked in before the start, a record is credited nothing yet (its minutes
        # come as the session's time passes, and in full when it is settled).
        minutes = attendance.elapsed_minutes(session, utcnow())
        seeded = {
            "course_id": course.id,
            "session_id": session.id,
            "code": session.checkin_code,
            "starts_at": session.starts_at.isoformat(),
            "minutes": minutes,
            "hours": attendance.credited_hours(minutes, session.class_hours),
            "learners": list(zip(user_ids, enrolment_ids, secrets, strict=True)),
        }
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()
    return seeded


def reset(url: str, course_id: int, session_id: int, *, tokens_used: bool = False) -> None:
    """No attendance, every enrolment back to enrolled with no hours, no outbox events
    or notices, every token unused for five minutes (or, with ``tokens_used``, used a
    moment ago)."""
    last_used = "now() AT TIME ZONE 'UTC'" if tokens_used else "NULL"
    with psycopg.connect(autocommit=True, **conninfo(url)) as conn:
        conn.execute("DELETE FROM attendance_records WHERE session_id = %s", (session_id,))
        conn.execute(
            "UPDATE enrolments SET status = 'enrolled', credited_hours = 0, completed_at = NULL "
            "WHERE course_id = %s",
            (course_id,),
        )
        conn.execute("DELETE FROM outbox_events")
        conn.execute("DELETE FROM notices")
        conn.execute(f"UPDATE api_tokens SET last_used_at = {last_used}")
        conn.execute(
            "VACUUM ANALYZE attendance_records, enrolments, outbox_events, notices, api_tokens"
        )
        conn.execute("CHECKPOINT")


def check(url: str, seeded: dict[str, Any], side: str) -> dict[str, Any]:
    """What the database holds after a round, and whether it is consistent."""
    session_id, course_id = seeded["session_id"], seeded["course_id"]
    learners = len(seeded["learners"])
    with psycopg.connect(**conninfo(url)) as conn:
        records, distinct, present, stamped, by_code, enrolled_ids, strangers = conn.execute(
            "SELECT count(*), count(DISTINCT a.user_id), "
            "count(*) FILTER (WHERE a.status = 'present'), "
            "count(a.checked_in_at), count(*) FILTER (WHERE a.method = 'code'), "
            "count(*) FILTER (WHERE a.enrolment_id = e.id), "
            "count(*) FILTER (WHERE e.id IS NULL) "
            "FROM attendance_records a LEFT JOIN enrolments e "
            "ON e.user_id = a.user_id AND e.course_id = %s WHERE a.session_id = %s",
            (course_id, session_id),
        ).fetchone()  # type: ignore[misc]
        statuses = dict(
            conn.execute(
                "SELECT status, count(*) FROM enrolments WHERE course_id = %s GROUP BY status",
                (course_id,),
            ).fetchall()
        )
        hours_differ = conn.execute(
            "SELECT count(*) FROM enrolments e LEFT JOIN attendance_records a "
            "ON a.enrolment_id = e.id AND a.session_id = %s "
            "WHERE e.course_id = %s AND e.credited_hours <> coalesce(a.credited_hours, 0)",
            (session_id, course_id),
        ).fetchone()[0]  # type: ignore[index]
        completed_events = conn.execute(
            "SELECT count(*) FROM outbox_events WHERE topic = 'enrolment.completed'"
        ).fetchone()[0]  # type: ignore[index]
    completed = statuses.get("completed", 0)
    problems = []
    if records != learners or distinct != learners:
        problems.append(f"{records} records for {distinct} of {learners} learners")
    if present != records or stamped != records or by_code != records:
        problems.append(
            f"of {records} records {present} present, {stamped} with checked_in_at, "
            f"{by_code} by code"
        )
    if strangers or enrolled_ids != records:
        problems.append("a record without its learner's enrolment")
    if side == "ours":
        if hours_differ:
            problems.append(f"{hours_differ} enrolments' hours differ from their record's")
        if completed_events != completed:
            problems.append(f"{completed} completed but {completed_events} completion events")
    elif statuses.get("enrolled", 0) != learners:
        problems.append(f"the baseline changed enrolments: {statuses}")
    return {"checked_in": stamped, "completed": completed, "problems": problems}


# ---- the two sides --------------------------------------------------------------------------


def summarise(rush: Rush, elapsed: float, checked_in: int, failures: list[str]) -> dict[str, Any]:
    return {
        "rps": rush.jobs / elapsed,
        "seconds": elapsed,
        "p50_ms": percentile(rush.latencies, 0.50) * 1000,
        "p99_ms": percentile(rush.latencies, 0.99) * 1000,
        "answered_checked_in": checked_in,
        "errors": len(failures),
        "failures": failures[:5],
    }


def storm_http(
    port: int, session_id: int, code: str, secrets: list[str], clients: int
) -> dict[str, Any]:
    rush = Rush(clients, len(secrets))
    body = json.dumps({"session_id": session_id, "code": code}).encode()

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
                conn.request("POST", "/api/v1/checkin", body=body, headers=headers)
                response = conn.getresponse()
                answer = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as error:
                conn.close()
                answer, status = repr(error).encode(), 0
            rush.latencies[job] = time.perf_counter() - started
            rush.outcomes[job] = (status, answer)
        conn.close()

    elapsed = rush.run(client)
    checked_in = 0
    failures: list[str] = []
    for status, answer in (outcome or (0, b"no answer") for outcome in rush.outcomes):
        if status != 201:
            failures.append(f"{status} {answer[:300].decode(errors='replace')}")
            continue
        reply = json.loads(answer)
        expected = ("present", "code", "checkin", False)
        found = (reply["status"], reply["method"], reply["action"], reply["already"])
        if found != expected or not reply["checked_in_at"]:
            failures.append(f"201 with status, method, action, already {found}")
            continue
        checked_in += 1
    return summarise(rush, elapsed, checked_in, failures)


def storm_baseline(url: str, seeded: dict[str, Any], clients: int) -> dict[str, Any]:
    learners = seeded["learners"]
    rush = Rush(clients, len(learners))
    info = conninfo(url)
    session_id, minutes, hours = seeded["session_id"], seeded["minutes"], seeded["hours"]

    def client() -> None:
        with psycopg.connect(**info) as conn:
            rush.barrier.wait()
            while (job := rush.take()) is not None:
                user_id, enrolment_id, _ = learners[job]
                started = time.perf_counter()
                try:
                    with conn.transaction():
                        inserted = conn.execute(
                            BASELINE_INSERT, (session_id, user_id, enrolment_id, minutes, hours)
                        ).rowcount
                    outcome = "checked in" if inserted == 1 else "not inserted"
                except psycopg.Error as error:
                    outcome = f"error {error!r}"
                rush.latencies[job] = time.perf_counter() - started
                rush.outcomes[job] = outcome

    elapsed = rush.run(client)
    failures = [o for o in rush.outcomes if o != "checked in"]
    return summarise(rush, elapsed, rush.outcomes.count("checked in"), failures)


# ---- the run --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=500)
    parser.add_argument(
        "--sessions",
        type=int,
        default=4,
        help="sessions of the course; the storm is at the first",
    )
    add_rush_options(parser, "ACADEMY_CHECKIN_BENCH_DATABASE_URL", DEFAULT_DATABASE)
    args = parser.parse_args()
    began = time.perf_counter()
    env = server_env(args.database, INSTANCE_PATH)
    # The real configuration: rate limiting on, in its default memory store and limits.
    for name in (
        "ACADEMY_RATELIMIT_ENABLED",
        "ACADEMY_RATELIMIT_STORAGE_URL",
        "ACADEMY_CHECKIN_RATE_LIMIT",
    ):
        env.pop(name, None)
    print(f"building {args.database} …", flush=True)
    rebuild_database(args.database)
    seeded = seed(env, args.learners, args.sessions)
    session_id, code = seeded["session_id"], seeded["code"]
    secrets = [secret for _, _, secret in seeded["learners"]]
    print(
        f"seeded in {time.perf_counter() - began:.1f} s; session {session_id} starts "
        f"{seeded['starts_at']}, check-in code {code}",
        flush=True,
    )

    def clear() -> None:
        reset(args.database, seeded["course_id"], session_id, tokens_used=args.tokens_used)

    port = free_port()
    log = Path(env["ACADEMY_INSTANCE_PATH"]) / "gunicorn.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    server = start_server(env, port, args.workers, args.threads, log)
    rounds: dict[str, list[dict[str, Any]]] = {"ours": [], "baseline": []}
    warm = args.clients * 2
    try:
        wait_until_up(f"http://127.0.0.1:{port}", server)
        # Warm both up (imports, connection pools, prepared statements), then measure.
        clear()
        storm_http(port, session_id, code, secrets[:warm], args.clients)
        clear()
        storm_baseline(
            args.database, seeded | {"learners": seeded["learners"][:warm]}, args.clients
        )
        for number in range(1, args.repeat + 1):
            for side in ("ours", "baseline"):
                clear()
                if side == "ours":
                    measured = storm_http(port, session_id, code, secrets, args.clients)
                else:
                    measured = storm_baseline(args.database, seeded, args.clients)
                measured.update(check(args.database, seeded, side))
                rounds[side].append(measured)
                trouble = "; ".join(measured["problems"])
                print(
                    f"round {number} {side:>8}: {measured['rps']:7.1f} req/s  "
                    f"p50 {measured['p50_ms']:6.1f} ms  p99 {measured['p99_ms']:7.1f} ms  "
                    f"checked in {measured['checked_in']}  errors {measured['errors']}"
                    + (f"  problems: {trouble}" if trouble else ""),
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
    problems = sorted({p for runs in rounds.values() for r in runs for p in r["problems"]})
    failures = [
        f"{side}: {f}" for side, runs in rounds.items() for r in runs for f in r["failures"]
    ]

    server_kind = f"{args.threads} threads (gthread)" if args.threads else "sync"
    print(
        f"\ncheck-in storm: {args.learners} learners, first of {args.sessions} sessions, "
        f"{args.clients} clients, "
        f"gunicorn {args.workers} workers × {server_kind}, tokens "
        f"{'used a moment ago' if args.tokens_used else 'first used'}, "
        f"median of {args.repeat} rounds, database {args.database}"
    )
    header = (
        f"{'':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'checked in':>11} "
        f"{'errors':>7} {'completed':>10}"
    )
    print(header)
    print("-" * len(header))
    for side in ("ours", "baseline"):
        figures = median[side]
        print(
            f"{side:>9} {figures['rps']:>8.1f} {figures['p50_ms']:>8.1f} "
            f"{figures['p99_ms']:>8.1f} {figures['checked_in']:>11} {figures['errors']:>7} "
            f"{figures['completed']:>10}"
        )
    print(f"{'ratio':>9} {ratio:>8.2f}   (ours / baseline)")
    verdict = "met" if not errors else "NOT met"
    print(
        f"targets over all rounds: 0 errors {verdict} ({errors}); "
        f"attendance {'consistent' if not problems else 'INCONSISTENT: ' + '; '.join(problems)}"
    )
    for failure in failures[:5]:
        print(f"  failed, {failure}")
    if failures:
        print(f"  server log: {log}")
    print(f"took {time.perf_counter() - began:.0f} s")

    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"checkin_storm-{stamp}.json").write_text(
        json.dumps(
            {
                "args": vars(args),
                "session": {k: v for k, v in seeded.items() if k != "learners"},
                "rounds": rounds,
                "ratio": ratio,
            },
            indent=2,
        )
    )
    if errors or problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
