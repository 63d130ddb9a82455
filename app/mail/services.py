"""One mail service: queue during the request, deliver after commit (nothing on rollback).

Messages are rendered during the request, kept on the session, and handed to the jobs seam
only once the transaction has committed: a rolled-back change never reaches a queue, so
nothing has to be taken back. With RQ each message becomes one plain RQ job on the "email"
queue carrying the rendered text (no Job row: nobody follows an email on a page), which RQ
retries with growing pauses while the mail server refuses it; with the thread backend a thread
of this process delivers; with JOBS_SYNC or MAIL_SYNC they leave inline, in the committing
process (tests). A crash in the instant between the commit and the hand-over loses those
messages: the price of not keeping an outbox table that a poller would drain.
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db
from app.jobs.services import run_tasks

_OUTBOX_KEY = "kongres_outbox"
# Seconds an RQ worker waits before trying an undelivered message again (about eight hours
# in all), so that a mail server outage delays mail instead of losing it.
MAIL_RETRY_INTERVALS = (30, 120, 600, 1800, 3600, 7200, 14400)
# Seconds RQ keeps a message that failed for good (a day, to read why), not RQ's default year:
# a rendered body holds its links, invitation and password-reset tokens included.
MAIL_FAILURE_TTL = 24 * 3600


@dataclass(frozen=True)
class OutgoingMail:
    """A rendered message waiting for its transaction to commit."""

    to: str
    subject: str
    body: str
    language: str


def render_email(template: str, language: str, **context: Any) -> tuple[str, str]:
    """Render a mail template in a language; its first line is the subject."""
    with force_locale(language):
        text = render_template(template, **context)
    subject, _, body = text.strip().partition("\n")
    return subject.removeprefix("Subject:").strip(), body.strip() + "\n"


def _rendered_mail(to: str, language: str, template: str, **context: Any) -> OutgoingMail:
    """A templated message rendered in the recipient's language, ready to deliver."""
    subject, body = render_email(template, language, **context)
    return OutgoingMail(to=to, subject=subject, body=body, language=language)


def send_email(to: str, language: str, template: str, **context: Any) -> OutgoingMail:
    """Queue a templated message; it leaves only if the current transaction commits."""
    mail = _rendered_mail(to, language, template, **context)
    # Begin the transaction now so that a rollback (which discards the outbox) always follows.
    db.session.connection()
    db.session.info.setdefault(_OUTBOX_KEY, []).append(mail)
    return mail


def _build_message(mail: OutgoingMail) -> EmailMessage:
    """The MIME message for a rendered mail, stamped at delivery time."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="kongres.local")
    message.set_content(mail.body)
    # set_content() replaces the Content-* headers, so the language goes on afterwards.
    message["Content-Language"] = mail.language
    return message


def deliver(mails: list[OutgoingMail]) -> None:
    """Hand messages to the SMTP server, or write them to instance/mail/ without one."""
    if not mails:
        return
    messages = [_build_message(mail) for mail in mails]
    config = current_app.config
    if not config["MAIL_SERVER"]:
        outbox = Path(config["MAIL_OUTBOX_DIR"])
        outbox.mkdir(parents=True, exist_ok=True)
        for message in messages:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            (outbox / f"{stamp}-{uuid.uuid4().hex[:8]}.eml").write_bytes(bytes(message))
        return
    smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    with smtp_class(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        for message in messages:
            smtp.send_message(message)


def deliver_now(to: str, language: str, template: str, **context: Any) -> OutgoingMail:
    """Render a templated message and send it at once, whatever the transaction does.

    For batch jobs that must know a message left before recording it: an SMTP failure
    raises (OSError or smtplib.SMTPException) instead of being logged and forgotten.
    """
    mail = _rendered_mail(to, language, template, **context)
    deliver([mail])
    return mail


def deliver_mail_task(fields: dict[str, str]) -> None:
    """Deliver one rendered message (a background task: an SMTP error raises, so RQ retries)."""
    deliver([OutgoingMail(**fields)])


@event.listens_for(Session, "after_commit")
def _deliver_after_commit(session: Session) -> None:
    """Hand the committed transaction's messages to the jobs seam (or send them inline)."""
    mails = session.info.pop(_OUTBOX_KEY, None)
    if not mails:
        return
    try:
        if current_app.config.get("MAIL_SYNC"):
            deliver(mails)
        else:
            run_tasks(
                deliver_mail_task,
                [(asdict(mail),) for mail in mails],
                queue="email",
                retry_intervals=MAIL_RETRY_INTERVALS,
                failure_ttl=MAIL_FAILURE_TTL,
            )
    except (OSError, smtplib.SMTPException):
        # The data is committed; a mail server outage must not turn it into an error page.
        current_app.logger.exception("could not deliver %d message(s)", len(mails))


@event.listens_for(Session, "after_soft_rollback")
def _discard_after_rollback(session: Session, previous_transaction: Any) -> None:
    """Forget the messages of a rolled-back transaction: they never leave."""
    if previous_transaction.parent is None:
        session.info.pop(_OUTBOX_KEY, None)
