"""The `flask kongres ...` command group; each domain adds its commands here."""

from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.exc import IntegrityError

from app.agreements.reminders import send_reminder_digests
from app.agreements.services import registry_today
from app.auth.cli import create_admin_command
from app.extensions import db

kongres_group = AppGroup("kongres", help="Kongres administration commands.")
kongres_group.add_command(create_admin_command)


@kongres_group.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load the WCPP 2026 demo data (safe to run again)."""
    from app.demo import DEMO_ACCOUNTS, load_demo

    load_demo()
    db.session.commit()
    click.echo("WCPP 2026 demo data loaded. Demo accounts (email / password):")
    for account in DEMO_ACCOUNTS:
        click.echo(f"  {account.email:<34} {account.password:<22} {', '.join(account.roles)}")


@kongres_group.command("reminders")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Act as if today were this day (YYYY-MM-DD), for tests and catching up.",
)
@with_appcontext
def reminders_command(today: datetime | None) -> None:
    """Email responsible officers their digest of expiring agreements and due evaluations."""
    day = today.date() if today else registry_today()
    # Links in the mail need a host name; outside a request there is none, so lend one.
    base_url = current_app.config["SERVER_BASE_URL"]
    with current_app.test_request_context(base_url=base_url):
        try:
            sent = send_reminder_digests(day)
            db.session.commit()
        except IntegrityError as error:
            # Another run recorded the same items first; its mail went, this run's must not.
            db.session.rollback()
            raise click.ClickException(
                "Another reminders run for this day is in progress; nothing sent."
            ) from error
    click.echo(f"{sent} reminder digest(s) sent for {day.isoformat()}.")
