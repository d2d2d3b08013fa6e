"""The ``academy`` command: Flask's CLI (run, shell, routes, db …) plus our commands.

Our commands belong to ``commands`` (an ``AcademyGroup``): each runs in an application
context and with SQLite write intent, declared there once rather than in each command.

academy db upgrade
academy create-user --email E --password P --name N --role learner|trainer|admin
academy seed-demo [--year 2025] [--scale N]
academy stats recompute
academy run [--host H] [--port P]
academy demo
"""

from __future__ import annotations

import os
import sys
import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup

from courses.db import db, write_intent
from courses.errors import DomainError
from courses.models import Role


def _create_app() -> Flask:
    from academy import create_app
    from academy.config import ConfigError

    try:
        return create_app()
    except ConfigError as error:
        click.echo(f"Configuration error: {error}", err=True)
        sys.exit(2)


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
)
def main() -> None:
    """Academy: training management for the Social Work Academy."""


class WriteIntentCommand(click.Command):
    """A command whose transactions declare their write intent (``courses.db.write_intent``):
    on SQLite they take the write lock when they begin, as a request that may change data
    does, so a command never fails on a lock upgrade beside a running site."""

    def invoke(self, ctx: click.Context) -> object:
        with write_intent():
            return super().invoke(ctx)


class AcademyGroup(AppGroup):
    """Academy's own commands: each runs in an application context (Flask's ``AppGroup``)
    and with write intent (``WriteIntentCommand``)."""

    command_class = WriteIntentCommand


#: Every command of ours; ``init_app`` adds them to the app's CLI.
commands = AcademyGroup("academy")


def _format_domain_error(error: DomainError) -> str:
    details = "; ".join(
        f"{field}: {', '.join(str(m) for m in messages)}"
        for field, messages in error.fields.items()
    )
    return f"{error.message}" + (f" ({details})" if details else "")


@commands.command("create-user")
@click.option("--email", default=None, help="E-mail address (e-mail or phone is required).")
@click.option("--phone", default=None, help="Mainland mobile number.")
@click.option("--password", required=True, help="Initial password (8 characters or more).")
@click.option("--name", required=True, help="Full name.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    default=["learner"],
    show_default=True,
    type=click.Choice([r.value for r in Role]),
    help="May be given several times.",
)
@click.option("--organisation", default=None, help="Organisation name (created if new).")
def create_user_command(
    email: str | None,
    phone: str | None,
    password: str,
    name: str,
    roles: tuple[str, ...],
    organisation: str | None,
) -> None:
    """Create a user account."""
    import sqlalchemy as sa

    from courses.models import Organisation
    from courses.services import accounts, organisations

    try:
        organisation_id = None
        if organisation:
            found = db.session.scalar(
                sa.select(Organisation).where(Organisation.name == organisation)
            )
            found = found or organisations.create(None, name=organisation)
            organisation_id = found.id
        user = accounts.create_user(
            accounts.NewUser(
                name=name,
                password=password,
                email=email,
                phone=phone,
                organisation_id=organisation_id,
                roles=roles,
            )
        )
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(_format_domain_error(error)) from None
    click.echo(
        f"Created user {user.id}: {user.name} <{user.email or user.phone}> "
        f"roles={','.join(sorted(r.value for r in user.roles))}"
    )


@commands.command("seed-demo")
@click.option("--year", type=int, default=None, help="Year of the demo data (default: this year).")
@click.option(
    "--scale",
    type=click.IntRange(1, 1000),
    default=1,
    show_default=True,
    help="Multiply learners, courses and attendance (100 ≈ a large benchmark set).",
)
def seed_demo_command(year: int | None, scale: int) -> None:
    """Load realistic, deterministic demo data (refuses to load twice)."""
    from courses.services import demo_data

    started = time.perf_counter()
    try:
        summary = demo_data.seed(year=year, scale=scale)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(_format_domain_error(error)) from None
    db.session.commit()
    demo_data.refresh_statistics()
    db.session.commit()
    elapsed = time.perf_counter() - started
    click.echo(summary.describe())
    click.echo(f"Seeded in {elapsed:.1f} s.")


@commands.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo_command(host: str, port: int) -> None:
    """Migrate, load demo data if the database is empty, and serve the site."""
    from flask_migrate import upgrade

    from courses.services import demo_data

    upgrade()
    if demo_data.is_empty():
        click.echo("Loading demo data …")
        summary = demo_data.seed()
        db.session.commit()
        demo_data.refresh_statistics()
        db.session.commit()
        click.echo(summary.describe())
    click.echo(f"\nDemo accounts (password for all: {demo_data.DEMO_PASSWORD}):")
    for account in demo_data.DEMO_ACCOUNTS:
        click.echo(f"  {account.role:<8} {account.login:<28} {account.name}")
    click.echo(f"\nAcademy is running at http://{host}:{port}/  (Ctrl+C to stop)\n")
    from werkzeug.serving import run_simple

    from workers.inprocess import start_periodic_jobs

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not os.environ.get("ACADEMY_PUBLIC_URL"):  # certificates' QR codes lead here
        app.config["PUBLIC_URL"] = f"http://{host}:{port}"
    # Settles sessions as they end and drains the outbox (certificates) in this
    # process: no broker, no beat, no worker needed.
    start_periodic_jobs(app)
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


@commands.command("settle-courses")
def settle_courses_command() -> None:
    """Settle sessions that have ended and courses whose last session has ended (what
    the periodic task does): records are credited up to the end, learners who reached
    the threshold complete and those short of it become incomplete."""
    from courses.services import attendance

    settled = attendance.settle_finished_courses()
    db.session.commit()
    click.echo(f"Settled {settled.sessions} session(s) and {settled.courses} course(s).")


@commands.command("drain-outbox")
def drain_outbox_command() -> None:
    """Handle every due outbox event in this process, with the handlers the workers use
    (certificates issued and drawn): what the embedded relay does, once."""
    from workers import relay

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    db.session.commit()
    handled = relay.drain(app)
    click.echo(f"Handled {handled} outbox event(s).")


@commands.command("reconcile-certificates")
def reconcile_certificates_command() -> None:
    """Issue what should exist and does not: completions without a certificate,
    completed programmes without theirs, certificates without a PDF (beat's job)."""
    from workers.certificates import reconcile_once

    done = reconcile_once()
    click.echo(
        f"Issued {done['issued']} certificate(s), checked {done['programmes_checked']} "
        f"programme(s), drew {done['drawn']} PDF(s)."
    )


@commands.group("stats", cls=AcademyGroup)
def stats_commands() -> None:
    """Training statistics (the summary tables of 课时, 人次 and 人数)."""


@stats_commands.command("recompute")
def stats_recompute_command() -> None:
    """Rebuild every summary row from the raw records (what beat does nightly)."""
    from workers.stats import recompute_once

    started = time.perf_counter()
    rows = recompute_once()
    shown = ", ".join(f"{count} {table}" for table, count in rows.items())
    click.echo(f"Recomputed the statistics in {time.perf_counter() - started:.1f} s: {shown}.")


def init_app(app: Flask) -> None:
    for command in commands.commands.values():
        app.cli.add_command(command)
