"""flask kongres create-admin."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.auth.models import Role
from app.auth.services import AuthError, create_user
from app.extensions import db


@click.command("create-admin")
@click.option("--email", prompt=True, help="The administrator's email address.")
@click.option("--name", prompt=True, help="The administrator's full name.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="At least 12 characters.",
)
@click.option("--language", type=click.Choice(["id", "en"]), default="en", show_default=True)
@with_appcontext
def create_admin_command(email: str, name: str, password: str, language: str) -> None:
    """Create an administrator account."""
    try:
        user = create_user(email, name, password=password, roles=[Role.ADMIN], language=language)
    except AuthError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Administrator {user.email} created.")
