"""The `flask kongres ...` command group; each domain adds its commands here."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

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
