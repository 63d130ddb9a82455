"""Bank transfer: the delegate announces one and gets the instructions with a reference to
quote; an organiser records the money when it arrives, which confirms the registrations.

A transfer must bring exactly the amount due: a different amount is refused with an
explanation (the organisers sort it out with the delegate) rather than recorded as partial,
so a registration is never confirmed on part of its fee.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.events.models import Event
from app.extensions import db
from app.i18n.formatting import format_day, format_money
from app.mail.services import send_email
from app.payments import checkout, receipts
from app.payments.models import (
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
)

# The card path's lock order (payments, then registrations) keeps the two from deadlocking.
from app.payments.services import (
    PaymentError,
    _lock_registrations,
    amount_due,
    check_payable,
    close_open_card_payments,
    lock_open_card_payments,
    new_payment_reference,
)
from app.payments.settings import bank_transfer_available, payment_settings_for
from app.registration.models import Registration, RegistrationStatus
from app.registration.services import (
    check_may_manage,
    email_link,
    event_today,
    mark_paid,
    utc_now,
)
from app.validation import check_date_in_range, clean_text

MAX_BANK_REFERENCE_LENGTH = 100


@dataclass
class TransferOutcome:
    """What recording a transfer did: the registrations it confirmed, and those it could not
    (no longer awaiting payment: cancelled meanwhile, or already paid by card)."""

    payment: Payment
    confirmed: list[Registration] = field(default_factory=list)
    not_awaiting: list[Registration] = field(default_factory=list)


# --- the delegate ---------------------------------------------------------------------------


def _open_transfers(registration_ids: list[int]) -> list[Payment]:
    """Bank transfers announced for any of these registrations and not yet received."""
    return list(
        db.session.scalars(
            select(Payment)
            .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
            .where(
                PaymentAllocation.registration_id.in_(registration_ids),
                Payment.method == PaymentMethod.BANK_TRANSFER.value,
                Payment.status == PaymentStatus.PENDING.value,
            )
            .distinct()
            .order_by(Payment.id)
        )
    )


def pending_transfers_for(registrations: list[Registration]) -> list[Payment]:
    """The transfers announced for these registrations that have not arrived yet."""
    return _open_transfers([registration.id for registration in registrations])


def still_awaited(payment: Payment) -> bool:
    """Whether an announced transfer is still wanted: pending, and some registration it pays
    for still awaits payment (not paid by card meanwhile, nor cancelled)."""
    return payment.status == PaymentStatus.PENDING.value and any(
        allocation.registration.status == RegistrationStatus.AWAITING_PAYMENT.value
        for allocation in payment.allocations
    )


def _send_instructions(payment: Payment, registrations: list[Registration]) -> None:
    """Email the payer the bank details, the amount and the reference to quote."""
    payer = payment.payer
    address = payer.email if payer else registrations[0].email
    language = payer.language if payer else registrations[0].language
    send_email(
        address,
        language,
        "mail/bank_transfer_instructions.txt",
        payment=payment,
        registrations=registrations,
        settings=payment_settings_for(payment.event),
        event=payment.event,
        instructions_link=email_link(
            "payments.bank_transfer_instructions", reference=payment.reference
        ),
    )


def _card_payment_in_progress() -> PaymentError:
    """The refusal while a card payment for the registrations is being charged."""
    return PaymentError(
        _l(
            "A card payment for this registration is being processed. Please wait for its "
            "outcome before choosing bank transfer."
        ),
        "payment_in_progress",
    )


def choose_bank_transfer(
    registrations: list[Registration], *, payer: User, now: datetime | None = None
) -> Payment:
    """Announce a bank transfer for these registrations: a pending payment with a reference.

    Choosing again for the same registrations and amount hands back the same payment (a
    double click announces nothing new); a changed choice withdraws the earlier one.
    """
    now = now or utc_now()
    ids = [registration.id for registration in registrations]
    # Lock order: payments before registrations, as the card path and the webhook do.
    lock_open_card_payments(ids, along_with=_open_transfers(ids))
    registrations = _lock_registrations(ids)
    # Read again under the registrations' locks: a second click that waited for them sees the
    # transfer the first click announced.
    open_transfers = _open_transfers(ids)
    currency = check_payable(registrations, payer)
    if checkout.payment_under_way(registrations) is not None:
        raise _card_payment_in_progress()
    event = registrations[0].event
    if not bank_transfer_available(payment_settings_for(event)):
        raise PaymentError(
            _l(
                "Payment by bank transfer is not available yet. Please pay by card or write to "
                "the organisers."
            ),
            "bank_transfer_unavailable",
        )
    today = event_today(now)
    amounts = {registration.id: amount_due([registration], today) for registration in registrations}
    total = sum(amounts.values())
    if total <= 0:
        raise PaymentError(_l("Nothing is left to pay for these registrations."), "nothing_due")
    # An open card form must not charge as well once the delegate pays by transfer.
    if close_open_card_payments(ids, now=now):
        raise _card_payment_in_progress()
    for transfer in open_transfers:
        allocated = {a.registration_id: a.amount_minor for a in transfer.allocations}
        if allocated == amounts and transfer.currency == currency and transfer.payer_id == payer.id:
            return transfer
        transfer.status = PaymentStatus.CANCELED.value
    payment = Payment(
        reference=new_payment_reference(),
        event_id=event.id,
        event=event,
        payer=payer,
        method=PaymentMethod.BANK_TRANSFER.value,
        status=PaymentStatus.PENDING.value,
        currency=currency,
        amount_minor=total,
        refunded_minor=0,
        allocations=[
            PaymentAllocation(registration=registration, amount_minor=amounts[registration.id])
            for registration in registrations
        ],
    )
    db.session.add(payment)
    db.session.flush()
    _send_instructions(payment, registrations)
    return payment


def cancel_pending_transfers(registration: Registration) -> int:
    """Withdraw announced transfers of a registration whose amount due changed (a voucher
    was applied); the delegate chooses again and is told the new amount. Returns how many."""
    transfers = _open_transfers([registration.id])
    for transfer in transfers:
        transfer.status = PaymentStatus.CANCELED.value
    db.session.flush()
    return len(transfers)


# --- organisers -----------------------------------------------------------------------------


def transfers_query(event: Event, *, recorded: bool = False) -> Select[Any]:
    """Announced transfers still awaited, oldest first; or recorded ones, latest first."""
    query = (
        select(Payment)
        .where(
            Payment.event_id == event.id,
            Payment.method == PaymentMethod.BANK_TRANSFER.value,
        )
        .options(
            selectinload(Payment.payer),
            selectinload(Payment.recorded_by),
            selectinload(Payment.allocations).selectinload(PaymentAllocation.registration),
        )
    )
    if recorded:
        return query.where(Payment.received_on.is_not(None)).order_by(
            Payment.received_on.desc(), Payment.id.desc()
        )
    return query.where(Payment.status == PaymentStatus.PENDING.value).order_by(
        Payment.created_at, Payment.id
    )


def pending_totals(event: Event) -> list[tuple[str, int, int]]:
    """Money announced by transfer and not yet received: (currency, count, total) rows."""
    return [
        (currency, count, total)
        for currency, count, total in db.session.execute(
            select(Payment.currency, func.count(), func.sum(Payment.amount_minor))
            .where(
                Payment.event_id == event.id,
                Payment.method == PaymentMethod.BANK_TRANSFER.value,
                Payment.status == PaymentStatus.PENDING.value,
            )
            .group_by(Payment.currency)
            .order_by(Payment.currency)
        )
    ]


def _check_still_pending(payment: Payment) -> None:
    """Refuse to record or withdraw a transfer that is no longer awaited."""
    if payment.method != PaymentMethod.BANK_TRANSFER.value:
        raise PaymentError(_l("This payment is not a bank transfer."), "not_bank_transfer")
    if payment.received_on is not None:
        raise PaymentError(
            _l(
                "This transfer was already recorded as received on %(day)s.",
                day=format_day(payment.received_on),
            ),
            "already_recorded",
        )
    if payment.status != PaymentStatus.PENDING.value:
        raise PaymentError(
            _l("This transfer was withdrawn and can no longer be recorded."), "not_pending"
        )


def record_bank_transfer(
    payment: Payment,
    amount_minor: int | None,
    received_on: date | None,
    bank_reference: str | None,
    *,
    actor: User | None,
    now: datetime | None = None,
) -> TransferOutcome:
    """Record the arrival of an announced transfer: the payment succeeds, the registrations
    awaiting it are confirmed and the payer gets a receipt.

    Refused when the amount differs from the one due (say so to the delegate instead),
    when the day is in the future, or when the transfer was already recorded.
    """
    check_may_manage(actor)
    now = now or utc_now()
    registration_ids = [allocation.registration_id for allocation in payment.allocations]
    # The transfer and the card payments still open for its registrations, in id order.
    lock_open_card_payments(registration_ids, along_with=[payment])
    payment = receipts.lock_payment(payment)
    _check_still_pending(payment)
    if amount_minor is None or amount_minor != payment.amount_minor:
        raise PaymentError(
            _l(
                "%(received)s is not the amount due, %(due)s. Record the transfer only once the "
                "full amount has arrived; ask the delegate to transfer the difference, or to "
                "have an overpayment refunded.",
                received=format_money(amount_minor or 0, payment.currency),
                due=format_money(payment.amount_minor, payment.currency),
            ),
            "amount_mismatch",
            field="amount",
        )
    check_date_in_range(received_on, field="received_on", error=PaymentError)
    if received_on is None or received_on > event_today(now):
        raise PaymentError(
            _l("Give the day the money arrived: today or earlier."),
            "received_in_future",
            field="received_on",
        )
    payment.bank_reference = clean_text(
        bank_reference,
        field="bank_reference",
        max_length=MAX_BANK_REFERENCE_LENGTH,
        required=_l("Enter the bank's reference of the transfer."),
        error=PaymentError,
    )
    # The money is here: an open card form must not charge as well (a card payment that
    # got there first leaves the registration confirmed, and this transfer to be refunded).
    close_open_card_payments(registration_ids, now=now)
    payment.received_on = received_on
    payment.recorded_by_id = actor.id if actor is not None else None
    payment.status = PaymentStatus.SUCCEEDED.value
    payment.succeeded_at = now
    outcome = TransferOutcome(payment=payment)
    db.session.flush()
    for registration in _lock_registrations(a.registration_id for a in payment.allocations):
        if registration.status == RegistrationStatus.AWAITING_PAYMENT.value:
            mark_paid(registration, actor=actor, now=now)
            outcome.confirmed.append(registration)
        else:
            # Cancelled meanwhile, or already paid by card: the money arrived all the same and
            # is recorded; the organisers refund it (reconciliation lists such payments).
            outcome.not_awaiting.append(registration)
    receipts.issue_receipt(payment, now=now)
    return outcome


def cancel_bank_transfer(payment: Payment, *, actor: User | None) -> None:
    """Withdraw an announced transfer that will not come."""
    check_may_manage(actor)
    payment = receipts.lock_payment(payment)
    _check_still_pending(payment)
    payment.status = PaymentStatus.CANCELED.value
    db.session.flush()
