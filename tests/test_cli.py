"""The ``academy`` command: creating users and migrating a fresh database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
import pytest
import sqlalchemy as sa

from courses.db import db
from courses.models import AuditLogEntry, Organisation, Role, User
from tests.factories import bearer, make_organisation, make_user

PASSWORD = "s3cret-pass"


@pytest.fixture
def cli(app, app_ctx):  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(args=list(args))

    return run


def user_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0


def test_create_user_makes_an_account_that_can_use_the_api(cli, client):
    result = cli(
        "create-user",
        "--email", "Chen@Example.org",
        "--phone", "+86 137 0000 0001",
        "--password", PASSWORD,
        "--name", "陈老师",
        "--role", "trainer",
        "--role", "admin",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User))
    assert f"Created user {user.id}" in result.output
    assert (user.name, user.email, user.phone) == ("陈老师", "chen@example.org", "13700000001")
    assert user.roles == {Role.TRAINER, Role.ADMIN}
    assert user.password_hash.startswith("$argon2")
    entry = db.session.scalar(sa.select(AuditLogEntry).where(AuditLogEntry.action == "user.create"))
    assert entry.object_id == user.id

    token = client.post("/api/v1/tokens", json={"login": "13700000001", "password": PASSWORD})
    assert token.status_code == 201
    me = client.get("/api/v1/me", headers=bearer(token.get_json()["token"]))
    assert me.status_code == 200
    assert me.get_json()["roles"] == ["admin", "trainer"]


def test_create_user_makes_a_learner_by_default(cli):
    result = cli("create-user", "--phone", "13800138000", "--password", PASSWORD, "--name", "王")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(User)).roles == {Role.LEARNER}


def test_create_user_joins_an_existing_organisation_or_creates_it(cli):
    existing = make_organisation("桂城社工服务中心")
    first = cli(
        "create-user", "--email", "a@example.org", "--password", PASSWORD, "--name", "甲",
        "--organisation", "桂城社工服务中心",
    )  # fmt: skip
    second = cli(
        "create-user", "--email", "b@example.org", "--password", PASSWORD, "--name", "乙",
        "--organisation", "南海社工协会",
    )  # fmt: skip

    assert (first.exit_code, second.exit_code) == (0, 0), first.output + second.output
    by_email = {u.email: u for u in db.session.scalars(sa.select(User))}
    assert by_email["a@example.org"].organisation_id == existing.id
    created = db.session.scalar(sa.select(Organisation).where(Organisation.name == "南海社工协会"))
    assert by_email["b@example.org"].organisation_id == created.id


def test_a_duplicate_user_is_refused_with_a_message_and_a_failing_exit(cli):
    make_user(email="chen@example.org")
    result = cli(
        "create-user", "--email", "CHEN@example.org", "--password", PASSWORD, "--name", "陈"
    )
    assert result.exit_code == 1
    assert "Error:" in result.output
    assert "email:" in result.output
    assert "Traceback" not in result.output
    assert user_count() == 1


def test_invalid_details_are_refused_naming_the_field(cli):
    result = cli("create-user", "--phone", "12345", "--password", "short", "--name", "王")
    assert result.exit_code == 1
    assert "phone:" in result.output
    assert "password:" in result.output
    assert user_count() == 0


def test_an_unknown_role_is_refused_before_anything_happens(cli):
    result = cli(
        "create-user", "--email", "x@example.org", "--password", PASSWORD, "--name", "王",
        "--role", "wizard",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "wizard" in result.output
    assert "learner" in result.output and "admin" in result.output
    assert user_count() == 0


def test_a_password_and_a_name_are_required(cli):
    result = cli("create-user", "--email", "x@example.org")
    assert result.exit_code == 2
    assert "--password" in result.output
    assert user_count() == 0


def test_the_command_lists_its_own_commands(cli):
    result = cli("--help")
    assert result.exit_code == 0
    for command in ("create-user", "seed-demo", "demo", "db"):
        assert command in result.output


def _last_analyze(table: str) -> object:
    """When ``table`` was last analysed by hand (PostgreSQL), read on a fresh connection."""
    with db.engine.connect() as conn:
        return conn.scalar(
            sa.text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = :t"),
            {"t": table},
        )


def test_seed_demo_commits_the_load_then_analyses_every_table(cli):
    postgres = db.engine.dialect.name == "postgresql"
    before = _last_analyze("courses") if postgres else None

    result = cli("seed-demo", "--year", "2025")

    assert result.exit_code == 0, result.output
    assert "Seeded in" in result.output
    db.session.remove()
    with db.engine.connect() as conn:  # committed: another connection sees the load
        assert conn.scalar(sa.text("SELECT count(*) FROM courses")) >= 42
    if postgres:
        after = _last_analyze("courses")
        assert after is not None and (before is None or after > before)
        return
    with db.engine.begin() as conn:
        analysed = conn.scalar(sa.text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'courses'"))
        conn.execute(sa.text("DELETE FROM sqlite_stat1"))  # later tests plan on empty tables
    assert analysed > 0


def academy(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = str(Path(sys.executable).with_name("academy"))
    return subprocess.run(
        [command, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_db_upgrade_creates_every_table_in_a_fresh_sqlite_file(tmp_path):
    database = tmp_path / "fresh.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACADEMY_")}
    env.update(
        ACADEMY_DATABASE_URL=f"sqlite:///{database}",
        ACADEMY_INSTANCE_PATH=str(tmp_path / "instance"),
    )

    upgraded = academy("db", "upgrade", env=env, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr

    with sqlite3.connect(database) as connection:
        tables = {
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        (version,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert set(db.metadata.tables) | {"alembic_version"} <= tables
    assert version

    # The new database is usable at once.
    created = academy(
        "create-user", "--email", "admin@example.org", "--password", PASSWORD,
        "--name", "管理员", "--role", "admin", env=env, cwd=tmp_path,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT role FROM user_roles").fetchall() == [("admin",)]


# --- write intent: declared once, by the command group -------------------------------------------


def test_every_command_of_ours_runs_with_write_intent(app, cli, monkeypatch):
    from academy.cli import WriteIntentCommand, commands
    from courses.db import _sqlite_write_intent
    from courses.services import attendance

    seen: list[bool] = []

    def settle() -> attendance.Settlement:
        seen.append(_sqlite_write_intent.get())
        return attendance.Settlement(sessions=0, courses=0)

    monkeypatch.setattr(attendance, "settle_finished_courses", settle)
    result = cli("settle-courses")

    assert result.exit_code == 0, result.output
    assert seen == [True]
    assert _sqlite_write_intent.get() is False  # only for the command's duration
    assert set(commands.commands) == {
        "create-user",
        "seed-demo",
        "demo",
        "settle-courses",
        "drain-outbox",
        "reconcile-certificates",
        "stats",
    }
    for name, command in commands.commands.items():
        if isinstance(command, click.Group):
            assert all(isinstance(c, WriteIntentCommand) for c in command.commands.values())
        else:
            assert isinstance(app.cli.commands[name], WriteIntentCommand), name


def test_a_command_of_the_group_gets_write_intent_without_asking(app, app_ctx):
    from academy.cli import AcademyGroup
    from courses.db import _sqlite_write_intent

    group = AcademyGroup("probe")

    @group.command("probe")
    def probe() -> None:
        click.echo(f"write intent: {_sqlite_write_intent.get()}")

    result = app.test_cli_runner().invoke(cli=group, args=["probe"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "write intent: True"


def test_drain_outbox_issues_and_draws_the_certificates_of_completions(cli):
    from tests.certificate_helpers import all_certificates, completed_course

    completed_course(learners=2)
    result = cli("drain-outbox")
    assert result.exit_code == 0, result.output
    # Two completions (each drawing follows its issue) and the course's figures.
    assert "Handled " in result.output and "Handled 0 " not in result.output
    assert [c.pdf_key is not None for c in all_certificates()] == [True, True]
    again = cli("reconcile-certificates")
    assert again.exit_code == 0 and "Issued 0 certificate(s)" in again.output
