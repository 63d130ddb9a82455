"""The `flask kongres ...` command group; each domain adds its commands here."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from flask_babel import gettext as _
from flask_babel import ngettext

from app import backup
from app.agreements.reminders import send_reminder_digests
from app.agreements.services import registry_today
from app.audit.services import check_chain
from app.auth.cli import create_admin_command
from app.checkin.certificates import send_certificate_notices
from app.checkin.services import CheckinError
from app.events.services import current_event
from app.extensions import db
from app.payments.stripe_dev import register_webhook, wait_until_up
from app.registration.personal_data import purge_passport_data
from app.registration.services import event_today, expire_offers
from app.web import absolute_url

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
    # url_for builds a route's path only inside a request; absolute_url puts the public
    # origin (SERVER_BASE_URL) in front, so this stand-in request lends no host name.
    with current_app.test_request_context():
        run = send_reminder_digests(day)
    click.echo(f"{run.sent} reminder digest(s) sent for {day.isoformat()}.")
    if run.failed:
        raise click.ClickException(
            f"{run.failed} reminder digest(s) could not be delivered (see the log); "
            "run the command again to send them."
        )


@kongres_group.command("waitlist-offers")
@click.option(
    "--now",
    "moment",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]),
    default=None,
    help="Act as if it were this moment in UTC (YYYY-MM-DDTHH:MM:SS), for tests and catching up.",
)
@with_appcontext
def waitlist_offers_command(moment: datetime | None) -> None:
    """Close waiting-list offers that ran out and offer those places to the next (for cron)."""
    now = moment.replace(tzinfo=UTC) if moment else datetime.now(UTC)
    expired = expire_offers(now)
    db.session.commit()
    click.echo(f"{expired} expired offer(s) passed on.")


@kongres_group.command("purge-personal-data")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Act as if today were this day (YYYY-MM-DD), for tests and catching up.",
)
@with_appcontext
def purge_personal_data_command(today: datetime | None) -> None:
    """Remove passport data once each event's retention period after the congress is over."""
    day = today.date() if today else event_today()
    purged = purge_passport_data(day)
    db.session.commit()
    click.echo(f"Passport data removed from {purged} registration(s) as of {day.isoformat()}.")


@kongres_group.command("send-certificates")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Act as if today were this day (YYYY-MM-DD), for tests and catching up.",
)
@with_appcontext
def send_certificates_command(today: datetime | None) -> None:
    """Tell every attending delegate, once, that their certificate of attendance is ready."""
    day = today.date() if today else event_today()
    event = current_event()
    if event is None:
        raise click.ClickException("There is no event: nothing to send.")
    # As for the reminders: a stand-in request lets url_for build the link's path.
    with current_app.test_request_context():
        try:
            run = send_certificate_notices(event, today=day)
        except CheckinError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"{run.sent} certificate notice(s) sent for {event.short_name}.")
    if run.failed:
        raise click.ClickException(
            f"{run.failed} certificate notice(s) could not be delivered (see the log); "
            "run the command again to send them."
        )


audit_group = AppGroup("audit", help="The audit log.")
kongres_group.add_command(audit_group)


@audit_group.command("verify")
@with_appcontext
def audit_verify_command() -> None:
    """Check the audit log's hash chain; exit 1 naming the first broken entry."""
    status = check_chain()
    broken = status.broken_at
    if broken is not None:
        # Commands speak CLI_LANGUAGE; the reason is the same text the admin page shows.
        if broken.entry_id is None:
            message = _(
                "Audit chain broken at entry %(position)s: %(reason)s.",
                position=broken.position,
                reason=broken.reason_label,
            )
        else:
            message = _(
                "Audit chain broken at entry %(position)s (row id %(entry_id)s): %(reason)s.",
                position=broken.position,
                entry_id=broken.entry_id,
                reason=broken.reason_label,
            )
        raise click.ClickException(message)
    click.echo(
        ngettext("%(num)d entry, chain intact.", "%(num)d entries, chain intact.", status.entries)
    )


@kongres_group.command("stripe-dev-setup")
@click.option(
    "--webhook-url",
    default=None,
    help="Where localstripe sends events (default: SERVER_BASE_URL/payments/stripe/webhook).",
)
@with_appcontext
def stripe_dev_setup_command(webhook_url: str | None) -> None:
    """Point localstripe's webhooks at this Kongres (development; `make run` does it)."""
    config = current_app.config
    api_base = config["STRIPE_API_BASE"]
    if not api_base or not config["STRIPE_WEBHOOK_SECRET"]:
        raise click.ClickException(
            "STRIPE_API_BASE must point at localstripe (e.g. http://127.0.0.1:8420), and "
            "a webhook secret be set (it defaults to the stand-in's in development)."
        )
    if webhook_url is None:
        with current_app.test_request_context():
            webhook_url = absolute_url("payments.stripe_webhook")
    try:
        wait_until_up(api_base)
        register_webhook(api_base, webhook_url, config["STRIPE_WEBHOOK_SECRET"])
    except (OSError, RuntimeError) as error:
        raise click.ClickException(f"localstripe at {api_base} did not answer: {error}") from error
    click.echo(f"localstripe at {api_base} sends its events to {webhook_url}.")


def _echo_manifest(manifest: backup.Manifest) -> None:
    """Print what a backup holds (in CLI_LANGUAGE): its schema revision, rows per table and
    files per folder."""
    click.echo(
        _(
            "Schema revision %(revision)s, made %(made)s from %(database)s.",
            revision=manifest.schema_revision,
            made=manifest.created_at,
            database=manifest.database,
        )
    )
    for name, rows in sorted(manifest.counts.items()):
        unit = ngettext("row", "rows", rows)
        click.echo(f"  {name:<34} {rows:>8} {unit}")
    for name, count in sorted(manifest.files.items()):
        unit = ngettext("file", "files", count)
        click.echo(f"  files/{name:<28} {count:>8} {unit}")


@kongres_group.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write the database and the stored files into a new tar.gz (for cron; keep it safe)."""
    try:
        manifest = backup.create_backup(path)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(_("Backup written to %(path)s.", path=path))
    _echo_manifest(manifest)


@kongres_group.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--force", is_flag=True, help="Replace a database that holds rows (everything in it is lost)."
)
@with_appcontext
def restore_command(path: Path, force: bool) -> None:
    """Put a backup's database and stored files back (into an empty database unless --force)."""
    try:
        manifest = backup.restore_backup(path, force=force)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(_("Restored %(path)s; every table holds the rows the backup lists:", path=path))
    _echo_manifest(manifest)
    if backup.needs_upgrade(manifest):
        click.echo(_("This backup predates the code's schema: run `flask db upgrade` now."))
