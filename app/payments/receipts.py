"""Numbered receipts for payments and credit notes for refunds.

Each event numbers its receipts ("WCPP2026/R/0001") and its credit notes ("WCPP2026/CN/0001")
in two separate series without gaps. A payment has one receipt and a refund one credit note:
issuing again hands back the one already issued, so a repeated webhook or a double click
issues nothing new. The payment's row is locked while issuing, and two payments numbered in the
same instant are kept apart by the unique constraint on (event, kind, sequence): the loser
retries inside a savepoint with the next number, as visa letters do.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from app.auth.models import User
from app.errors import DomainError
from app.events.models import Event
from app.extensions import db
from app.mail.services import send_email
from app.payments.models import (
    Payment,
    PaymentAllocation,
    PaymentStatus,
    Receipt,
    Refund,
)
from app.registration.models import Registration
from app.registration.services import ORGANISER_ROLES, email_link

RECEIPT_LANGUAGES = ("en", "id")
NUMBER_PREFIX_MAX = 24
# Each round of simultaneous issues lets at least one through, so this covers that many
# payments confirmed in the same instant.
ISSUE_ATTEMPTS = 20
# Payments that took money (a receipt is due), whatever has been refunded since.
PAID_STATES = (
    PaymentStatus.SUCCEEDED,
    PaymentStatus.PARTIALLY_REFUNDED,
    PaymentStatus.REFUNDED,
)
# A receipt is downloaded by its number with dashes for slashes, or by its payment reference.
_KEY_PATTERN = re.compile(r"[A-Z0-9]{1,24}-(R|CN)-\d{4,9}|[A-Z0-9]{4,20}")


class ReceiptKind(StrEnum):
    """A receipt acknowledges a payment; a credit note a refund."""

    RECEIPT = "receipt"
    CREDIT_NOTE = "credit_note"


NUMBER_CODES = {ReceiptKind.RECEIPT: "R", ReceiptKind.CREDIT_NOTE: "CN"}
RECEIPT_KIND_LABELS = {
    ReceiptKind.RECEIPT: _l("Receipt"),
    ReceiptKind.CREDIT_NOTE: _l("Credit note"),
}


class ReceiptError(DomainError):
    """A receipt or credit note cannot be issued."""


def receipt_number(event: Event, kind: ReceiptKind, sequence: int) -> str:
    """A document's printed number, e.g. WCPP2026/R/0001 or WCPP2026/CN/0001."""
    # The same event prefix as visa letters (WCPP2026/VISA/0001).
    prefix = re.sub(r"[^A-Z0-9]", "", event.slug.upper())[:NUMBER_PREFIX_MAX]
    return f"{prefix}/{NUMBER_CODES[kind]}/{sequence:04d}"


def receipt_key(receipt: Receipt) -> str:
    """The receipt's number as it appears in its download address (slashes become dashes)."""
    return receipt.number.replace("/", "-")


def lock_payment(payment: Payment) -> Payment:
    """Lock the payment's row (PostgreSQL) and reload it, so that two requests changing it at
    once take turns and the second sees what the first did."""
    return db.session.scalars(
        select(Payment)
        .where(Payment.id == payment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def receipt_for(payment: Payment) -> Receipt | None:
    """The payment's receipt, if it has been issued."""
    return db.session.scalar(
        select(Receipt).where(
            Receipt.payment_id == payment.id, Receipt.kind == ReceiptKind.RECEIPT.value
        )
    )


def credit_note_for(refund: Refund) -> Receipt | None:
    """The refund's credit note, if it has been issued."""
    return db.session.scalar(
        select(Receipt).where(
            Receipt.refund_id == refund.id, Receipt.kind == ReceiptKind.CREDIT_NOTE.value
        )
    )


def payer_language(payment: Payment) -> str:
    """The language the payer reads: their account's, else their registration's."""
    candidates = [payment.payer.language if payment.payer else None]
    candidates += [allocation.registration.language for allocation in payment.allocations]
    return next((code for code in candidates if code in RECEIPT_LANGUAGES), "en")


def payer_address(payment: Payment) -> str | None:
    """Where the payer's emails go: their account, else the first registration paid for."""
    if payment.payer is not None:
        return payment.payer.email
    registrations = [allocation.registration for allocation in payment.allocations]
    return next((r.email for r in registrations if r.erased_at is None), None)


def _issue(
    payment: Payment,
    kind: ReceiptKind,
    amount_minor: int,
    *,
    refund: Refund | None = None,
    now: datetime | None = None,
) -> Receipt:
    """Number and store a document: max + 1 of its series, retried on a simultaneous issue."""
    for _attempt in range(ISSUE_ATTEMPTS):
        sequence = db.session.scalar(
            select(func.coalesce(func.max(Receipt.sequence), 0) + 1).where(
                Receipt.event_id == payment.event_id, Receipt.kind == kind.value
            )
        )
        # By ids, not relationships: the backref would add the row outside the savepoint.
        receipt = Receipt(
            event_id=payment.event_id,
            payment_id=payment.id,
            refund_id=refund.id if refund is not None else None,
            kind=kind.value,
            sequence=sequence,
            number=receipt_number(payment.event, kind, sequence),
            amount_minor=amount_minor,
            currency=payment.currency,
            language=payer_language(payment),
        )
        if now is not None:
            receipt.issued_at = now
        try:
            with db.session.begin_nested():
                db.session.add(receipt)
        except IntegrityError:
            continue
        db.session.expire(payment, ["receipts"])
        return receipt
    raise ReceiptError(
        _l("Many receipts are being issued right now. Please try again."), "receipt_number_busy"
    )


def _notify(payment: Payment, receipt: Receipt, template: str, **context: object) -> None:
    """Email the payer a link to the document (nothing attached), in the document's language."""
    address = payer_address(payment)
    if address is None:
        return
    send_email(
        address,
        receipt.language,
        template,
        payment=payment,
        receipt=receipt,
        registrations=[allocation.registration for allocation in payment.allocations],
        link=email_link("payments.download_receipt", key=receipt_key(receipt)),
        **context,
    )


def issue_receipt(payment: Payment, *, notify: bool = True, now: datetime | None = None) -> Receipt:
    """The payment's receipt, issued with the event's next number and emailed to the payer
    the first time; afterwards the same receipt is handed back and nothing is sent."""
    payment = lock_payment(payment)
    existing = receipt_for(payment)
    if existing is not None:
        return existing
    if payment.status not in PAID_STATES:
        raise ReceiptError(
            _l("A receipt is issued once the payment has been received."), "payment_not_received"
        )
    receipt = _issue(payment, ReceiptKind.RECEIPT, payment.amount_minor, now=now)
    if notify:
        _notify(payment, receipt, "mail/payment_received.txt")
    db.session.flush()
    return receipt


def issue_credit_note(
    refund: Refund, *, notify: bool = True, now: datetime | None = None
) -> Receipt:
    """The refund's credit note, numbered in the event's credit-note series and emailed to the
    payer the first time; afterwards the same note is handed back."""
    payment = lock_payment(refund.payment)
    existing = credit_note_for(refund)
    if existing is not None:
        return existing
    if refund.status != "succeeded":
        raise ReceiptError(
            _l("A credit note is issued once the refund has been made."), "refund_not_made"
        )
    note = _issue(payment, ReceiptKind.CREDIT_NOTE, refund.amount_minor, refund=refund, now=now)
    if notify:
        _notify(payment, note, "mail/payment_refunded.txt", refund=refund)
    db.session.flush()
    return note


def _document_options() -> tuple:
    """What a receipt's PDF and its access check read, loaded with it."""
    return (
        joinedload(Receipt.payment).joinedload(Payment.payer),
        joinedload(Receipt.payment).joinedload(Payment.event),
        joinedload(Receipt.payment)
        .selectinload(Payment.allocations)
        .joinedload(PaymentAllocation.registration)
        .joinedload(Registration.registration_type),
    )


def find_receipt(key: str | None) -> Receipt | None:
    """The document a download address names: a number with dashes ("WCPP2026-R-0001",
    receipts and credit notes) or a payment's reference (its receipt)."""
    text = (key or "").strip().upper()
    if not _KEY_PATTERN.fullmatch(text):
        return None
    if "-" in text:
        condition = Receipt.number == text.replace("-", "/")
    else:
        condition = (Receipt.kind == ReceiptKind.RECEIPT.value) & Receipt.payment.has(
            Payment.reference == text
        )
    return db.session.scalar(select(Receipt).where(condition).options(*_document_options()))


def may_download(receipt: Receipt, user: User) -> bool:
    """Organisers see every receipt; a delegate only those of payments they made."""
    return user.has_role(*ORGANISER_ROLES) or receipt.payment.payer_id == user.id


def receipts_of_payer(user: User) -> list[Receipt]:
    """The receipts and credit notes of the payments a user made, newest first (their page)."""
    return list(
        db.session.scalars(
            select(Receipt)
            .join(Payment, Receipt.payment_id == Payment.id)
            .where(Payment.payer_id == user.id)
            .options(selectinload(Receipt.payment))
            .order_by(Receipt.issued_at.desc(), Receipt.id.desc())
        )
    )
