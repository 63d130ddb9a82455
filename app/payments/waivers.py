"""Applying a voucher on the pay page, and confirming a registration whose fee it waived.

When a voucher leaves nothing to pay (a full waiver, or a discount as large as the fee), the
registration is confirmed at once, and a payment of 0 by the "waiver" method records it so
that lists, reconciliation and the receipt say how the fee was settled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from app.auth.models import User
from app.extensions import db
from app.payments import bank_transfer, checkout, receipts, vouchers
from app.payments.models import (
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
    VoucherRedemption,
)
from app.payments.services import (
    _lock_registrations,
    amount_due,
    check_payable,
    close_open_card_payments,
    lock_open_card_payments,
    new_payment_reference,
)
from app.registration.models import Registration
from app.registration.services import event_today, mark_paid, utc_now


@dataclass
class VoucherOutcome:
    """What applying a voucher did: the redemption, what is left to pay, and the waiver
    payment when nothing is left (the registration is then confirmed)."""

    redemption: VoucherRedemption
    amount_due: int
    waiver: Payment | None = None


def confirm_without_payment(
    registration: Registration, *, payer: User | None, now: datetime
) -> Payment:
    """Record a waived fee as a succeeded payment of 0, confirm the registration and issue
    the receipt that says the fee was waived."""
    # Locked like the card path does before confirming, so a card success arriving at the
    # same moment confirms (and emails) once.
    (registration,) = _lock_registrations([registration.id])
    payment = Payment(
        reference=new_payment_reference(),
        event_id=registration.event_id,
        payer_id=payer.id if payer is not None else registration.user_id,
        method=PaymentMethod.WAIVER.value,
        status=PaymentStatus.SUCCEEDED.value,
        currency=registration.currency,
        amount_minor=0,
        refunded_minor=0,
        succeeded_at=now,
        allocations=[PaymentAllocation(registration_id=registration.id, amount_minor=0)],
    )
    db.session.add(payment)
    db.session.flush()
    mark_paid(registration, actor=payer, now=now)
    receipts.issue_receipt(payment, now=now)
    return payment


def _payment_in_progress() -> vouchers.VoucherError:
    """The refusal while a card is being charged for the amount as it stands: it must not
    change meanwhile."""
    return vouchers.VoucherError(
        _l(
            "A payment for this registration is being processed, so a voucher can no longer "
            "be applied. Please wait for its outcome."
        ),
        "payment_in_progress",
        field="code",
    )


def apply_voucher(
    registration: Registration,
    code: str | None,
    *,
    payer: User,
    now: datetime | None = None,
) -> VoucherOutcome:
    """Apply a voucher code to a registration the payer may pay for.

    An announced bank transfer or an open card payment for the old amount is withdrawn (the
    payer is shown the new amount); if nothing is left to pay, the registration is confirmed
    without payment.
    """
    now = now or utc_now()
    check_payable([registration], payer)
    if checkout.payment_under_way([registration]) is not None:
        raise _payment_in_progress()
    # Card payments before the registration, the lock order of every payment path.
    lock_open_card_payments([registration.id])
    redemption = vouchers.redeem_voucher(registration, code, now=now)
    # An open card form must not charge the old amount.
    if close_open_card_payments([registration.id], now=now):
        raise _payment_in_progress()
    bank_transfer.cancel_pending_transfers(registration)
    due = amount_due([registration], event_today(now))
    outcome = VoucherOutcome(redemption=redemption, amount_due=due)
    if due == 0:
        outcome.waiver = confirm_without_payment(registration, payer=payer, now=now)
    return outcome
