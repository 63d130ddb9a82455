"""Card payments: what is due, Stripe PaymentIntents, and Stripe's news applied once.

The amount and currency of a payment are computed here from the registrations' fees and
vouchers, never taken from the browser. Stripe reports what happened through webhooks
(handle_stripe_event) and, when a webhook is late, through refresh_from_stripe; both apply the
news through one path (_apply_intent) under a lock on the payment's row, so a payment is
confirmed, receipted and emailed once however often and in whatever order the news arrives,
and its state never moves backwards (STATUS_RANK).

Rows are always locked in the same order — payment first, then its registrations — by the
webhook, the return page, refunds and a new payment alike, so two of them never deadlock.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.errors import DomainError
from app.extensions import db
from app.payments import gateway
from app.payments.gateway import GatewayError, Intent
from app.payments.models import (
    STATUS_RANK,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
    StripeEvent,
)
from app.payments.receipts import PAID_STATES, issue_receipt, lock_payment
from app.payments.refunds import record_stripe_refunds, request_refund_of_late_payment
from app.payments.vouchers import discounts_for
from app.registration.models import Registration, RegistrationStatus
from app.registration.services import event_today, fee_for, mark_paid, utc_now

log = logging.getLogger(__name__)

# Payment references are quoted on bank transfers and read out on the phone: no 0/O or 1/I.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 10
# A head of delegation pays for at most 50 members and themselves; Stripe's metadata values
# (500 characters) hold that many registration references.
MAX_REGISTRATIONS_PER_PAYMENT = 51
# Card payments that may still take money.
OPEN_CARD_STATES = (PaymentStatus.PENDING, PaymentStatus.PROCESSING, PaymentStatus.FAILED)
# Open card payments that can still be cancelled at Stripe (not being charged).
CLOSABLE_CARD_STATES = (PaymentStatus.PENDING, PaymentStatus.FAILED)
SUCCEEDED_EVENT = "payment_intent.succeeded"
FAILED_EVENT = "payment_intent.payment_failed"
CANCELED_EVENT = "payment_intent.canceled"
PROCESSING_EVENT = "payment_intent.processing"
REFUNDED_EVENT = "charge.refunded"
HANDLED_EVENTS = frozenset(
    {SUCCEEDED_EVENT, FAILED_EVENT, CANCELED_EVENT, PROCESSING_EVENT, REFUNDED_EVENT}
)
# What the return page shows, by payment state (stable codes the page translates).
PAGE_STATUS = {
    PaymentStatus.PENDING: "pending",
    PaymentStatus.PROCESSING: "processing",
    PaymentStatus.FAILED: "failed",
    PaymentStatus.CANCELED: "canceled",
    PaymentStatus.SUCCEEDED: "paid",
    PaymentStatus.PARTIALLY_REFUNDED: "paid",
    PaymentStatus.REFUNDED: "refunded",
}


class PaymentError(DomainError):
    """A payment rule refused the action."""


class StalePaymentError(PaymentError):
    """A card payment that may no longer be charged: it has ended, or it no longer matches
    what its registrations owe. The view keeps what was recorded on the way (the payment's
    cancellation at Stripe) and answers 409."""

    status_code = 409


# --- finding --------------------------------------------------------------------------------


def new_payment_reference() -> str:
    """A random payment reference (unguessable, unlike the numeric id; safe on a bank form)."""
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def find_payment(reference: str | None) -> Payment | None:
    """The payment with this reference, if any."""
    text = (reference or "").strip().upper()
    if not text or len(text) > REFERENCE_LENGTH * 2:
        return None
    return db.session.scalar(select(Payment).where(Payment.reference == text))


def payment_for_intent(intent_id: str | None) -> Payment | None:
    """The payment a Stripe PaymentIntent belongs to, if it is one of ours."""
    if not intent_id:
        return None
    return db.session.scalar(select(Payment).where(Payment.stripe_payment_intent_id == intent_id))


def _lock_registrations(ids: Iterable[int]) -> list[Registration]:
    """Registration rows locked in id order and reloaded (after their payment's row)."""
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.id.in_(sorted(set(ids))))
            .order_by(Registration.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def _open_card_payments(registration_ids: Iterable[int]) -> list[Payment]:
    """Card payments for any of these registrations that may still take money, oldest first."""
    return list(
        db.session.scalars(
            select(Payment)
            .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
            .where(
                PaymentAllocation.registration_id.in_(sorted(set(registration_ids))),
                Payment.method == PaymentMethod.CARD.value,
                Payment.status.in_([state.value for state in OPEN_CARD_STATES]),
            )
            .order_by(Payment.id)
            .distinct()
        )
    )


def lock_open_card_payments(
    registration_ids: Iterable[int], *, along_with: Iterable[Payment] = ()
) -> list[Payment]:
    """Lock, in id order, the card payments for these registrations still waiting for a card
    (pending or declined) together with `along_with`; returns the card payments. Callers do
    this before locking registrations, the lock order every payment path keeps."""
    waiting = [
        payment
        for payment in _open_card_payments(registration_ids)
        if payment.status != PaymentStatus.PROCESSING.value
    ]
    payments = {payment.id: payment for payment in (*waiting, *along_with)}
    for payment_id in sorted(payments):
        lock_payment(payments[payment_id])
    return waiting


def close_open_card_payments(
    registration_ids: Iterable[int], *, now: datetime | None = None
) -> list[Payment]:
    """Cancel at Stripe the card payments for these registrations still waiting for a card,
    after their amount or state changed (an old card form must not charge the old amount).
    Returns those that turned out to be paid or being paid meanwhile. When Stripe cannot be
    reached the payment stays open: charge_card refuses it all the same."""
    now = now or utc_now()
    taking_money = []
    for payment in lock_open_card_payments(registration_ids):
        if payment.status not in CLOSABLE_CARD_STATES:
            continue
        try:
            close_card_payment(payment, now=now)
        except GatewayError as error:
            log.warning("could not cancel payment %s at Stripe: %s", payment.reference, error)
            continue
        if payment.status in (PaymentStatus.PROCESSING, *PAID_STATES):
            taking_money.append(payment)
    return taking_money


# --- amounts --------------------------------------------------------------------------------


def _shares(registrations: list[Registration], today: date) -> dict[int, int]:
    """What each registration owes: its fee (fixed when registering, early-bird included when
    registered in time) less its voucher's discount, never below zero."""
    discounts = discounts_for(registrations)
    shares = {}
    for registration in registrations:
        fee = registration.fee_minor
        if fee is None and registration.currency:
            fee = fee_for(registration.registration_type, registration.currency, today)
        shares[registration.id] = max((fee or 0) - discounts.get(registration.id, 0), 0)
    return shares


def amount_due(registrations: list[Registration], today: date) -> int:
    """What paying for these registrations costs, in minor units of their currency."""
    return sum(_shares(registrations, today).values())


# --- starting a card payment ----------------------------------------------------------------


def _payer_heads(payer: User) -> set[int]:
    """The delegations this payer leads."""
    return set(
        db.session.scalars(
            select(Registration.delegation_id).where(
                Registration.user_id == payer.id,
                Registration.is_delegation_head.is_(True),
                Registration.delegation_id.is_not(None),
            )
        )
    )


def check_payable(registrations: list[Registration], payer: User) -> str:
    """Refuse what this payer cannot pay by card now; returns the currency to pay in."""
    if not registrations:
        raise PaymentError(_l("Choose at least one registration to pay for."), "nothing_chosen")
    if len(registrations) > MAX_REGISTRATIONS_PER_PAYMENT:
        raise PaymentError(
            _l(
                "At most %(count)d registrations can be paid at once.",
                count=MAX_REGISTRATIONS_PER_PAYMENT,
            ),
            "too_many",
        )
    heads = _payer_heads(payer)
    for registration in registrations:
        own = registration.user_id == payer.id
        led = registration.delegation_id is not None and registration.delegation_id in heads
        if not (own or led):
            raise PaymentError(
                _l(
                    "You can pay only for your own registration and for the members of a "
                    "delegation you lead."
                ),
                "not_your_registration",
            )
        if registration.status != RegistrationStatus.AWAITING_PAYMENT.value:
            raise PaymentError(
                _l(
                    "Registration %(reference)s is not awaiting payment (it is %(status)s).",
                    reference=registration.reference,
                    status=RegistrationStatus(registration.status).label,
                ),
                "not_awaiting_payment",
            )
    if len({registration.event_id for registration in registrations}) > 1:
        raise PaymentError(
            _l("Registrations for different events are paid separately."), "several_events"
        )
    currencies = {registration.currency for registration in registrations}
    if len(currencies) > 1 or None in currencies:
        raise PaymentError(
            _l("Registrations with fees in different currencies are paid separately."),
            "several_currencies",
        )
    return currencies.pop()


def _metadata(payment: Payment, registrations: list[Registration]) -> dict[str, str]:
    """What the PaymentIntent carries back to us: our payment and the registrations it pays."""
    return {
        "payment": payment.reference,
        "registrations": ",".join(registration.reference for registration in registrations),
    }


def _new_card_payment(
    registrations: list[Registration],
    shares: dict[int, int],
    currency: str,
    *,
    payer: User,
) -> Payment:
    """A pending card payment with its allocations and a new PaymentIntent at Stripe."""
    reference = new_payment_reference()
    payment = Payment(
        reference=reference,
        event_id=registrations[0].event_id,
        payer_id=payer.id,
        method=PaymentMethod.CARD.value,
        status=PaymentStatus.PENDING.value,
        currency=currency,
        amount_minor=sum(shares.values()),
        refunded_minor=0,
        # Derived from the reference: a retried create call finds Stripe's first answer.
        idempotency_key=f"kongres-payment-{reference}",
    )
    payment.allocations = [
        PaymentAllocation(registration_id=registration.id, amount_minor=shares[registration.id])
        for registration in registrations
    ]
    db.session.add(payment)
    db.session.flush()
    intent = gateway.create_payment_intent(
        amount_minor=payment.amount_minor,
        currency=currency,
        idempotency_key=payment.idempotency_key,
        metadata=_metadata(payment, registrations),
    )
    payment.stripe_payment_intent_id = intent.id
    db.session.flush()
    return payment


def _still_usable(payment: Payment, ids: set[int], amount: int, currency: str, payer: User) -> bool:
    """Whether an open payment is exactly what is asked for now and still waits for a card (a
    second click reuses it; after a decline a new intent is made, as localstripe requires)."""
    return (
        payment.status == PaymentStatus.PENDING.value
        and {allocation.registration_id for allocation in payment.allocations} == ids
        and payment.amount_minor == amount
        and payment.currency == currency
        and payment.payer_id == payer.id
    )


def _under_way(payment: Payment, payer: User) -> Payment:
    """A payment that took or is taking the money: the payer's own comes back for its page,
    somebody else's refuses a second payment."""
    if payment.payer_id == payer.id:
        return payment
    raise PaymentError(
        _l(
            "Another payment for these registrations is being processed. Please wait for "
            "its outcome."
        ),
        "payment_in_progress",
    )


def _sync(payment: Payment, *, now: datetime) -> None:
    """Bring an open payment up to date with its PaymentIntent at Stripe."""
    intent = gateway.retrieve_payment_intent(payment.stripe_payment_intent_id)
    _apply_intent(payment, intent, now=now)


def close_card_payment(payment: Payment, *, now: datetime | None = None) -> None:
    """Cancel an open payment's intent at Stripe (it is superseded or stale) and record what
    Stripe says: cancelled, or — if the payer got there first — paid or being paid."""
    now = now or utc_now()
    try:
        intent = gateway.cancel_payment_intent(
            payment.stripe_payment_intent_id, idempotency_key=f"{payment.idempotency_key}-cancel"
        )
    except GatewayError:
        # Refused when the intent can no longer be cancelled: it succeeded or is processing.
        intent = gateway.retrieve_payment_intent(payment.stripe_payment_intent_id)
    _apply_intent(payment, intent, now=now)


def start_card_payment(
    registrations: list[Registration], *, payer: User, now: datetime | None = None
) -> Payment:
    """The card payment for these registrations, with its PaymentIntent: a new one, or the one
    already open for exactly these (a second click or a reload pays nothing twice).

    An open payment for other registrations or another amount (a voucher applied since), or
    one whose card was declined, is cancelled at Stripe first and a new one made. If the
    payer's earlier payment has meanwhile succeeded or is being charged, that payment is
    returned instead: the caller shows its state.
    """
    now = now or utc_now()
    ids = {registration.id for registration in registrations}
    # Lock order: payments before registrations, as the webhook does.
    for payment in _open_card_payments(ids):
        lock_payment(payment)
    locked = _lock_registrations(ids)
    currency = check_payable(locked, payer)
    shares = _shares(locked, event_today(now))
    amount = sum(shares.values())
    if amount == 0:
        raise PaymentError(_l("Nothing is left to pay for these registrations."), "nothing_due")
    taking_money = (PaymentStatus.PROCESSING, *PAID_STATES)
    for payment in _open_card_payments(ids):
        if payment.status != PaymentStatus.PROCESSING.value:
            _sync(payment, now=now)
        if payment.status in taking_money:
            return _under_way(payment, payer)
        if _still_usable(payment, ids, amount, currency, payer):
            return payment
        if payment.status != PaymentStatus.CANCELED.value:
            close_card_payment(payment, now=now)
        if payment.status in taking_money:
            return _under_way(payment, payer)
    return _new_card_payment(locked, shares, currency, payer=payer)


def matches_what_is_owed(
    payment: Payment, registrations: list[Registration], *, today: date
) -> bool:
    """Whether a card payment still pays exactly what its (locked) registrations owe now:
    each still awaits payment, its payer may pay for them, and each share is the amount due
    computed as start_card_payment does."""
    allocated = {a.registration_id: a.amount_minor for a in payment.allocations}
    if payment.payer is None or {r.id for r in registrations} != set(allocated):
        return False
    try:
        currency = check_payable(registrations, payment.payer)
    except PaymentError:
        return False
    return (
        currency == payment.currency
        and _shares(registrations, today) == allocated
        and sum(allocated.values()) == payment.amount_minor
    )


def client_secret_for(payment: Payment) -> str:
    """The PaymentIntent's client secret, which Stripe.js needs to confirm the payment."""
    if payment.method != PaymentMethod.CARD.value or not payment.stripe_payment_intent_id:
        raise PaymentError(_l("This payment is not a card payment."), "not_card")
    intent = gateway.retrieve_payment_intent(payment.stripe_payment_intent_id)
    if not intent.client_secret:
        raise PaymentError(
            _l("The card payment service did not answer as expected. Please try again."),
            "no_client_secret",
        )
    return intent.client_secret


# --- applying Stripe's news -----------------------------------------------------------------


def _may_move(current: PaymentStatus, target: PaymentStatus) -> bool:
    """Only forward (STATUS_RANK); a failed payment may still end cancelled, as its intent
    can no longer be paid then."""
    if STATUS_RANK[target] > STATUS_RANK[current]:
        return True
    return current is PaymentStatus.FAILED and target is PaymentStatus.CANCELED


def _record_success(payment: Payment, *, now: datetime) -> None:
    """The money arrived: confirm every registration paid for, issue and email the receipt.
    Runs once per payment, under its row lock, on the move to succeeded."""
    payment.succeeded_at = now
    payment.failure_message = None
    db.session.flush()
    not_needed = []
    for registration in _lock_registrations(a.registration_id for a in payment.allocations):
        if registration.status == RegistrationStatus.AWAITING_PAYMENT.value:
            mark_paid(registration, actor=None, now=now)
        else:
            # Cancelled, waived or paid otherwise while an old card form charged the card.
            log.warning(
                "payment %s succeeded for registration %s, which is %s",
                payment.reference,
                registration.reference,
                registration.status,
            )
            not_needed.append(registration)
    issue_receipt(payment, now=now)
    if not_needed:
        # The money came all the same: the organisers' refund queue gets it back to the payer.
        request_refund_of_late_payment(payment, not_needed)


def _advance(
    payment: Payment,
    target: PaymentStatus,
    *,
    now: datetime,
    failure_message: str | None = None,
) -> str:
    """Move a locked payment forward to `target`; returns the outcome ("unchanged" if not)."""
    if not _may_move(PaymentStatus(payment.status), target):
        return "unchanged"
    payment.status = target.value
    if target is PaymentStatus.FAILED:
        payment.failure_message = (failure_message or "")[:1000] or None
    if target is PaymentStatus.SUCCEEDED:
        _record_success(payment, now=now)
    db.session.flush()
    return target.value


def _target_status(intent: Intent, event_type: str | None) -> PaymentStatus | None:
    """The payment state a PaymentIntent's state means (None: still waiting for the payer)."""
    if intent.status == "succeeded":
        return PaymentStatus.SUCCEEDED
    if intent.status in ("processing", "requires_capture"):
        return PaymentStatus.PROCESSING
    if intent.status == "canceled":
        return PaymentStatus.CANCELED
    if event_type == FAILED_EVENT or (
        intent.status == "requires_payment_method" and intent.failure_message
    ):
        return PaymentStatus.FAILED
    return None


def _apply_intent(
    payment: Payment, intent: Intent, *, now: datetime, event_type: str | None = None
) -> str:
    """Apply a PaymentIntent's state to its (locked) payment: the one path for webhooks, the
    return page and a new payment superseding an old one."""
    payment = lock_payment(payment)
    if (
        intent.amount_minor != payment.amount_minor
        or intent.currency != payment.currency
        or intent.metadata.get("payment", payment.reference) != payment.reference
    ):
        log.error(
            "PaymentIntent %s (%s %s, %s) does not match payment %s (%s %s): not applied",
            intent.id,
            intent.amount_minor,
            intent.currency,
            intent.metadata,
            payment.reference,
            payment.amount_minor,
            payment.currency,
        )
        return "mismatch"
    target = _target_status(intent, event_type)
    if target is None:
        return "unchanged"
    if (
        target is PaymentStatus.FAILED
        and event_type is not None
        and payment.status == PaymentStatus.PROCESSING.value
    ):
        # A late failure of an earlier attempt must not show "failed" while a retry is being
        # charged: ask Stripe how the intent stands now.
        try:
            live = gateway.retrieve_payment_intent(intent.id)
        except GatewayError:
            return "unchanged"
        return _apply_intent(payment, live, now=now)
    return _advance(payment, target, now=now, failure_message=intent.failure_message)


def _apply_refund(payment: Payment, charge: Mapping[str, Any], *, now: datetime) -> str:
    """A charge.refunded event: the total Stripe gave back on the payment (refunds made in
    Kongres are counted already; one made in Stripe's dashboard is recorded now)."""
    if str(charge.get("currency") or "").upper() != payment.currency:
        return "mismatch"
    if payment.status not in PAID_STATES:
        # Refunded means it was paid: a refund reported before the success applies both.
        _advance(payment, PaymentStatus.SUCCEEDED, now=now)
    before = payment.refunded_minor
    record_stripe_refunds(payment, int(charge.get("amount_refunded") or 0))
    payment = lock_payment(payment)
    if payment.refunded_minor == before:
        return "unchanged"
    return payment.status


def _intent_id_of(event_type: str, source: Mapping[str, Any]) -> str | None:
    """The PaymentIntent an event is about."""
    if event_type == REFUNDED_EVENT:
        return source.get("payment_intent")
    return source.get("id")


def handle_stripe_event(event: Mapping[str, Any], *, now: datetime | None = None) -> str:
    """Apply a verified Stripe event once; returns what it did (a stable code).

    The event's id is stored in a savepoint first: a second delivery of the same event (even
    at the same moment, on PostgreSQL) fails on the primary key and changes nothing. Events of
    other types, or about PaymentIntents that are not ours, are ignored and not stored.
    The caller commits.
    """
    now = now or utc_now()
    event_id = event.get("id")
    event_type = str(event.get("type") or "")
    source = (event.get("data") or {}).get("object") or {}
    if not event_id or event_type not in HANDLED_EVENTS:
        return "ignored"
    intent_id = _intent_id_of(event_type, source)
    payment = payment_for_intent(intent_id)
    if payment is None:
        log.info("Stripe event %s (%s) is about no payment of ours", event_id, event_type)
        return "unknown_payment"
    seen = StripeEvent(id=str(event_id), type=event_type, payment_intent_id=intent_id)
    try:
        with db.session.begin_nested():
            db.session.add(seen)
    except IntegrityError:
        return "already_processed"
    payment = lock_payment(payment)
    if event_type == REFUNDED_EVENT:
        outcome = _apply_refund(payment, source, now=now)
    else:
        intent = gateway.intent_from_object(source)
        outcome = _apply_intent(payment, intent, now=now, event_type=event_type)
    seen.outcome = outcome
    db.session.flush()
    return outcome


def refresh_from_stripe(payment: Payment, *, now: datetime | None = None) -> str:
    """Ask Stripe how a card payment stands (the webhook may be late) and apply it the way
    the webhook would; returns payment_status_for_page. The caller commits.

    If Stripe cannot be reached, nothing changes and the page keeps showing what is known.
    """
    if (
        payment.method != PaymentMethod.CARD.value
        or not payment.stripe_payment_intent_id
        or payment.status in (*PAID_STATES, PaymentStatus.CANCELED)
    ):
        return payment_status_for_page(payment)
    try:
        intent = gateway.retrieve_payment_intent(payment.stripe_payment_intent_id)
    except GatewayError as error:
        log.warning("could not ask Stripe about payment %s: %s", payment.reference, error)
        return payment_status_for_page(payment)
    _apply_intent(payment, intent, now=now or utc_now())
    return payment_status_for_page(payment)


def payment_status_for_page(payment: Payment) -> str:
    """What the payer sees: "pending" (not paid yet), "processing", "paid", "failed",
    "canceled" or "refunded". "failed" is shown only after Stripe declined the card."""
    return PAGE_STATUS[PaymentStatus(payment.status)]
