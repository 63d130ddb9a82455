"""Daily reminder digests to responsible officers: agreements expiring, evaluations due.

An agreement without a responsible officer (none named, or the account deactivated) is not
forgotten: every registry officer and admin hears about it until someone is assigned.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from app.agreements.models import (
    EXPIRING_WITHIN_DAYS,
    Agreement,
    AgreementParty,
    AgreementStatus,
    ReminderSent,
)
from app.agreements.services import next_evaluation_due, responsible_officer_candidates
from app.auth.models import User
from app.extensions import db
from app.mail.services import deliver_now

EVALUATION_DUE_WITHIN_DAYS = 30
REMINDER_TEMPLATE = "mail/agreement_reminders.txt"


class ReminderReason(StrEnum):
    """Why an agreement is in a digest (stored in ReminderSent.reason)."""

    EXPIRING = "expiring"
    EVALUATION_DUE = "evaluation_due"


@dataclass(frozen=True)
class ReminderItem:
    """One agreement in a digest, with the day that matters (end date or evaluation due)."""

    agreement: Agreement
    reason: ReminderReason
    on: date
    # No active responsible officer: sent to every registry officer instead.
    unassigned: bool = False

    def days_from(self, today: date) -> int:
        """Days from today to that day; negative when it has passed."""
        return (self.on - today).days


@dataclass
class Digest:
    """What one officer is told today."""

    officer: User
    expiring: list[ReminderItem] = field(default_factory=list)
    evaluations_due: list[ReminderItem] = field(default_factory=list)

    @property
    def items(self) -> list[ReminderItem]:
        """Every item of the digest."""
        return [*self.expiring, *self.evaluations_due]

    @property
    def has_unassigned(self) -> bool:
        """Whether the digest lists agreements that have no responsible officer."""
        return any(item.unassigned for item in self.items)


@dataclass
class ReminderRun:
    """How a day's run went: digests delivered and recorded, digests that could not be sent."""

    sent: int = 0
    failed: int = 0


def _candidates(today: date) -> list[Agreement]:
    """Active, unexpired agreements that end soon or are evaluated, with or without officer."""
    expiring_by = today + timedelta(days=EXPIRING_WITHIN_DAYS)
    query = (
        select(Agreement)
        .where(
            Agreement.status == AgreementStatus.ACTIVE.value,
            or_(Agreement.ends_on.is_(None), Agreement.ends_on >= today),
            or_(
                Agreement.ends_on <= expiring_by,
                Agreement.evaluation_interval_months.is_not(None),
            ),
        )
        .options(
            joinedload(Agreement.responsible_officer),
            selectinload(Agreement.parties).joinedload(AgreementParty.partner),
            selectinload(Agreement.evaluations),
        )
        .order_by(Agreement.ends_on, Agreement.id)
    )
    return list(db.session.scalars(query))


def _reminder_items(agreement: Agreement, today: date, *, unassigned: bool) -> list[ReminderItem]:
    """What this agreement's officer should hear about it today."""
    items = []
    expiring_by = today + timedelta(days=EXPIRING_WITHIN_DAYS)
    if agreement.ends_on is not None and agreement.ends_on <= expiring_by:
        items.append(
            ReminderItem(agreement, ReminderReason.EXPIRING, agreement.ends_on, unassigned)
        )
    due = next_evaluation_due(agreement)
    if due is not None and due <= today + timedelta(days=EVALUATION_DUE_WITHIN_DAYS):
        items.append(ReminderItem(agreement, ReminderReason.EVALUATION_DUE, due, unassigned))
    return items


def _already_sent(today: date) -> set[tuple[int, int, str]]:
    """(officer, agreement, reason) reminded today already."""
    rows = db.session.execute(
        select(ReminderSent.user_id, ReminderSent.agreement_id, ReminderSent.reason).where(
            ReminderSent.sent_on == today
        )
    )
    return {(user_id, agreement_id, reason) for user_id, agreement_id, reason in rows}


def collect_digests(today: date) -> list[Digest]:
    """Each officer's digest for today, leaving out what they were told earlier today.

    An agreement's active responsible officer hears about it; one without goes to every
    active registry officer and admin, marked as having no responsible officer.
    """
    sent = _already_sent(today)
    digests: dict[int, Digest] = {}
    registry_officers: list[User] | None = None
    for agreement in _candidates(today):
        officer = agreement.responsible_officer
        unassigned = officer is None or not officer.active
        items = _reminder_items(agreement, today, unassigned=unassigned)
        if not items:
            continue
        if unassigned:
            # Looked up once, and only when some agreement needs it.
            if registry_officers is None:
                registry_officers = responsible_officer_candidates()
            recipients = registry_officers
        else:
            recipients = [officer]
        for recipient in recipients:
            for item in items:
                if (recipient.id, agreement.id, item.reason.value) in sent:
                    continue
                digest = digests.setdefault(recipient.id, Digest(recipient))
                if item.reason is ReminderReason.EXPIRING:
                    digest.expiring.append(item)
                else:
                    digest.evaluations_due.append(item)
    if registry_officers == []:
        current_app.logger.warning(
            "agreements without a responsible officer, and no registry officer to remind"
        )
    for digest in digests.values():
        digest.evaluations_due.sort(key=lambda item: (item.on, item.agreement.id))
    return sorted(digests.values(), key=lambda digest: digest.officer.id)


def _deliver(digest: Digest, today: date) -> None:
    """Send one officer's digest now, in their language; raises when the mail server fails."""
    officer = digest.officer
    deliver_now(
        officer.email,
        officer.language,
        REMINDER_TEMPLATE,
        officer=officer,
        today=today,
        expiring=digest.expiring,
        evaluations_due=digest.evaluations_due,
        has_unassigned=digest.has_unassigned,
        expiring_within_days=EXPIRING_WITHIN_DAYS,
        evaluation_due_within_days=EVALUATION_DUE_WITHIN_DAYS,
    )


def _record_sent(digest: Digest, today: date) -> None:
    """Note every item of a delivered digest, so that a rerun today leaves it out."""
    for item in digest.items:
        db.session.add(
            ReminderSent(
                user_id=digest.officer.id,
                agreement_id=item.agreement.id,
                reason=item.reason.value,
                sent_on=today,
            )
        )


def send_reminder_digests(today: date) -> ReminderRun:
    """Email each officer one digest in their language, and record what each one told.

    A batch job, so each digest is its own unit of work: delivered first, then recorded and
    committed. A digest the mail server refused is logged and left unrecorded, so the next
    run sends it; the other officers still get theirs.
    """
    run = ReminderRun()
    for digest in collect_digests(today):
        officer_id = digest.officer.id
        try:
            _deliver(digest, today)
        except (OSError, smtplib.SMTPException):
            current_app.logger.exception("reminder digest to user %s not delivered", officer_id)
            run.failed += 1
            continue
        _record_sent(digest, today)
        try:
            db.session.commit()
        except IntegrityError:
            # A run started at the same time recorded these items first (and sent them too).
            db.session.rollback()
            current_app.logger.warning(
                "reminder digest to user %s was also sent by another run", officer_id
            )
            continue
        run.sent += 1
    return run
