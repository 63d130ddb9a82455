"""Daily reminder digests to responsible officers: agreements expiring, evaluations due."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.agreements.models import (
    EXPIRING_WITHIN_DAYS,
    Agreement,
    AgreementParty,
    AgreementStatus,
    ReminderSent,
)
from app.agreements.services import next_evaluation_due
from app.auth.models import User
from app.extensions import db
from app.mail.services import send_email

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


def _candidates(today: date) -> list[Agreement]:
    """Active, unexpired agreements of active officers that end soon or are evaluated."""
    expiring_by = today + timedelta(days=EXPIRING_WITHIN_DAYS)
    query = (
        select(Agreement)
        .join(User, Agreement.responsible_officer_id == User.id)
        .where(
            User.active.is_(True),
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


def _reminder_items(agreement: Agreement, today: date) -> list[ReminderItem]:
    """What this agreement's officer should hear about it today."""
    items = []
    expiring_by = today + timedelta(days=EXPIRING_WITHIN_DAYS)
    if agreement.ends_on is not None and agreement.ends_on <= expiring_by:
        items.append(ReminderItem(agreement, ReminderReason.EXPIRING, agreement.ends_on))
    due = next_evaluation_due(agreement)
    if due is not None and due <= today + timedelta(days=EVALUATION_DUE_WITHIN_DAYS):
        items.append(ReminderItem(agreement, ReminderReason.EVALUATION_DUE, due))
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
    """Each officer's digest for today, leaving out what they were told earlier today."""
    sent = _already_sent(today)
    digests: dict[int, Digest] = {}
    for agreement in _candidates(today):
        officer = agreement.responsible_officer
        for item in _reminder_items(agreement, today):
            if (officer.id, agreement.id, item.reason.value) in sent:
                continue
            digest = digests.setdefault(officer.id, Digest(officer))
            if item.reason is ReminderReason.EXPIRING:
                digest.expiring.append(item)
            else:
                digest.evaluations_due.append(item)
    for digest in digests.values():
        digest.evaluations_due.sort(key=lambda item: (item.on, item.agreement.id))
    return sorted(digests.values(), key=lambda digest: digest.officer.id)


def send_reminder_digests(today: date) -> int:
    """Email each responsible officer one digest in their language; return how many were sent.

    Every item sent is recorded, so running again the same day sends nothing new. The caller
    commits: the mail leaves only then.
    """
    digests = collect_digests(today)
    for digest in digests:
        officer = digest.officer
        send_email(
            officer.email,
            officer.language,
            REMINDER_TEMPLATE,
            officer=officer,
            today=today,
            expiring=digest.expiring,
            evaluations_due=digest.evaluations_due,
            expiring_within_days=EXPIRING_WITHIN_DAYS,
            evaluation_due_within_days=EVALUATION_DUE_WITHIN_DAYS,
        )
        for item in digest.items:
            db.session.add(
                ReminderSent(
                    user_id=officer.id,
                    agreement_id=item.agreement.id,
                    reason=item.reason.value,
                    sent_on=today,
                )
            )
    db.session.flush()
    return len(digests)
