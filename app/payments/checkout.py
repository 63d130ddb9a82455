"""The delegate's side of paying: what they may pay for (their own registration, or as head the
members of their delegation), their payments, and charging the card Stripe.js collected.

The amount always comes from payments.services (fee after early bird and voucher); Stripe is
reached only through gateway.py. Like every service this takes an explicit user and never
commits: the view does, once.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.events.models import Event
from app.extensions import db
from app.payments import gateway, services
from app.payments.models import (
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
    Receipt,
)
from app.payments.receipts import (
    RECEIPT_KIND_LABELS,
    lock_payment,
    receipt_key,
    receipts_of_payer,
)
from app.registration.models import Registration, RegistrationStatus
from app.registration.services import event_today, utc_now

log = logging.getLogger(__name__)

# What the return page shows for services.payment_status_for_page's codes. "failed" only once
# Stripe has said the card needs replacing or the intent is cancelled, never while the bank may
# still say yes; a payment not charged yet (pending) is still followed as processing.
PAGE_STATES = {
    "pending": "processing",
    "processing": "processing",
    "paid": "paid",
    "refunded": "refunded",
    "failed": "failed",
    "canceled": "failed",
}
# A card payment that may be charged with a (new) card: not charged yet, or declined.
CHARGEABLE_STATES = (PaymentStatus.PENDING.value, PaymentStatus.FAILED.value)


@dataclass(frozen=True)
class PayableLine:
    """A registration the payer may pay for, with the amount due for it today."""

    registration: Registration
    amount: int


@dataclass(frozen=True)
class Total:
    """The sum of several amounts in one currency."""

    currency: str
    amount: int


@dataclass(frozen=True)
class CardStart:
    """A card payment ready for Stripe.js: the payment and the secret that collects the card."""

    payment: Payment
    setup_client_secret: str | None


@dataclass(frozen=True)
class CardCharge:
    """The outcome of charging the collected card: Stripe's intent status, and the client
    secret Stripe.js needs when the bank asks for authentication."""

    status: str
    client_secret: str | None


# --- what a delegate may pay for ---------------------------------------------------------------


def own_registration(reference: str | None, user: User) -> Registration | None:
    """The user's own registration with this reference (None for anybody else's)."""
    text = (reference or "").strip().upper()
    if not text or len(text) > 32:
        return None
    return db.session.scalar(
        select(Registration).where(Registration.reference == text, Registration.user_id == user.id)
    )


def is_payable(registration: Registration) -> bool:
    """Whether the registration's fee is still to be paid."""
    return registration.status == RegistrationStatus.AWAITING_PAYMENT.value


def headed_delegation_registration(user: User, event: Event | None) -> Registration | None:
    """The user's registration as head of a delegation at this event, if they head one."""
    if event is None:
        return None
    return db.session.scalar(
        select(Registration).where(
            Registration.event_id == event.id,
            Registration.user_id == user.id,
            Registration.is_delegation_head.is_(True),
            Registration.delegation_id.is_not(None),
        )
    )


def delegation_payables(head: Registration) -> list[Registration]:
    """The registrations of the head's delegation awaiting payment (the head's own included),
    the head first, then by name."""
    registrations = db.session.scalars(
        select(Registration)
        .where(
            Registration.delegation_id == head.delegation_id,
            Registration.event_id == head.event_id,
            Registration.status == RegistrationStatus.AWAITING_PAYMENT.value,
        )
        .options(selectinload(Registration.registration_type))
    ).all()
    return sorted(
        registrations,
        key=lambda item: (not item.is_delegation_head, item.given_name.lower(), item.id),
    )


def payable_lines(registrations: list[Registration], today=None) -> list[PayableLine]:
    """Each registration with its amount due today."""
    today = today or event_today()
    return [
        PayableLine(registration, services.amount_due([registration], today))
        for registration in registrations
    ]


def totals(lines: list[PayableLine]) -> list[Total]:
    """The lines' sums, one per currency."""
    sums: dict[str, int] = defaultdict(int)
    for line in lines:
        sums[line.registration.currency or ""] += line.amount
    return [Total(currency, amount) for currency, amount in sorted(sums.items())]


# --- the delegate's payments ---------------------------------------------------------------------


def own_payment(reference: str | None, user: User) -> Payment | None:
    """A payment the user made, by its reference (None for anybody else's)."""
    text = (reference or "").strip().upper()
    if not text or len(text) > 20:
        return None
    return db.session.scalar(
        select(Payment)
        .where(Payment.reference == text, Payment.payer_id == user.id)
        .options(selectinload(Payment.allocations).joinedload(PaymentAllocation.registration))
    )


def payment_under_way(registrations: list[Registration]) -> Payment | None:
    """A card payment for any of these registrations that the bank has not answered yet:
    paying again meanwhile could charge twice."""
    ids = [registration.id for registration in registrations]
    if not ids:
        return None
    return db.session.scalar(
        select(Payment)
        .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
        .where(
            PaymentAllocation.registration_id.in_(ids),
            Payment.method == PaymentMethod.CARD.value,
            Payment.status == PaymentStatus.PROCESSING.value,
        )
        .order_by(Payment.id.desc())
        .limit(1)
    )


def page_state(payment: Payment) -> str:
    """ "processing", "paid", "refunded" or "failed", as the return page shows the payment."""
    return PAGE_STATES[services.payment_status_for_page(payment)]


def follow_payment(payment: Payment) -> str:
    """The payment's page state, asking Stripe itself while the webhook has not told us yet
    (when Stripe cannot be reached, what is known already)."""
    return PAGE_STATES[services.refresh_from_stripe(payment)]


def is_chargeable(payment: Payment) -> bool:
    """Whether the payment still waits for a card (a second click finds it so)."""
    return payment.method == PaymentMethod.CARD.value and payment.status in CHARGEABLE_STATES


# --- card payments ---------------------------------------------------------------------------


def start_card(registrations: list[Registration], *, payer: User, now: datetime) -> CardStart:
    """Prepare a card payment for these registrations (the amount computed on the server) and
    a SetupIntent through which Stripe.js collects the card. When the payer's earlier payment
    for them is already being charged or paid, that payment comes back without a secret."""
    payment = services.start_card_payment(registrations, payer=payer, now=now)
    if not is_chargeable(payment):
        return CardStart(payment, None)
    # A fresh key per attempt: a new card after a decline needs a new SetupIntent, while
    # stripe-python's own retry of this very call reuses the key.
    secret = gateway.create_setup_intent(
        idempotency_key=f"kongres-setup-{payment.reference}-{uuid.uuid4().hex}",
        metadata={"payment": payment.reference},
    )
    return CardStart(payment, secret)


def charge_card(
    payment: Payment, setup_intent_id: str, *, now: datetime | None = None
) -> CardCharge:
    """Charge the card a SetupIntent collected on the payment's PaymentIntent, then record
    what Stripe answered (a decline raises GatewayError and changes nothing here).

    Refused (StalePaymentError) unless the payment still pays exactly what its registrations
    owe now: an old card form must not charge after a voucher, a cancellation or a bank
    transfer. A stale payment is cancelled at Stripe on the way.
    """
    now = now or utc_now()
    # Lock order: the payment, then its registrations, as every payment path does.
    payment = lock_payment(payment)
    if not is_chargeable(payment) or not payment.stripe_payment_intent_id:
        raise services.StalePaymentError(
            _l("This payment is already being processed or has ended."), "payment_closed"
        )
    registrations = services._lock_registrations(a.registration_id for a in payment.allocations)
    if not services.matches_what_is_owed(payment, registrations, today=event_today(now)):
        try:
            services.close_card_payment(payment, now=now)
        except gateway.GatewayError as error:
            # Still refused: the next start or the return page syncs the intent.
            log.warning("could not cancel stale payment %s: %s", payment.reference, error)
        raise services.StalePaymentError(
            _l(
                "This payment no longer matches what is owed. Please start again from your "
                "registration page."
            ),
            "payment_stale",
        )
    payment_method = gateway.retrieve_setup_intent_payment_method(setup_intent_id)
    if payment_method is None:
        raise services.PaymentError(
            _l("The card details did not arrive. Please try again."), "card_not_collected"
        )
    intent = gateway.confirm_payment_intent(
        payment.stripe_payment_intent_id,
        payment_method=payment_method,
        idempotency_key=f"kongres-charge-{payment.reference}-{setup_intent_id}",
    )
    services.refresh_from_stripe(payment)
    return CardCharge(intent.status, intent.client_secret)


# --- the delegate's registration page ------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptLink:
    """A receipt or credit note as the delegate's page lists it."""

    receipt: Receipt
    key: str
    label: str


@dataclass(frozen=True)
class PaymentPanel:
    """What the delegate's registration page shows about paying: whether to offer the pay
    buttons (their own fee, their delegation's) and the receipts of the payments they made."""

    pay_own: bool
    delegation_awaiting: int
    receipts: list[ReceiptLink]


def payment_panel(registration: Registration, user: User, next_step: str) -> PaymentPanel:
    """The payment part of the delegate's page."""
    delegation_awaiting = 0
    if registration.is_delegation_head and registration.delegation_id is not None:
        delegation_awaiting = len(delegation_payables(registration))
    return PaymentPanel(
        pay_own=next_step == "pay",
        delegation_awaiting=delegation_awaiting,
        receipts=[
            ReceiptLink(
                receipt,
                receipt_key(receipt),
                str(RECEIPT_KIND_LABELS.get(receipt.kind, receipt.kind)),
            )
            for receipt in receipts_of_payer(user)
        ],
    )
