"""Refunds: organisers give money back on a payment, fully or partly, with a reason.

A card payment is refunded through Stripe; a bank transfer is paid back by the organisers
outside Kongres and recorded here. The payment's row is locked while a refund is decided, so
two organisers (or a double click) can never give back more than was paid: the amount must
fit in what was paid minus what has been refunded already. Each refund made issues a credit
note; when nothing is left on the payment, the registrations it paid for end as refunded.

A delegate who cancels before the event's refund deadline gets a refund request (a Refund in
state "requested") that the organisers carry out or decline from their queue.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.audit import services as audit
from app.auth.models import User
from app.errors import DomainError
from app.extensions import db
from app.i18n.formatting import format_money
from app.payments import gateway
from app.payments.models import (
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentSettings,
    PaymentStatus,
    Refund,
)
from app.payments.receipts import issue_credit_note, lock_payment
from app.registration import services as registration_services
from app.registration.models import Registration
from app.validation import clean_text

MAX_REASON_LENGTH = 500
MAX_REQUEST_ID_LENGTH = 64
# Demo card payments carry made-up PaymentIntent ids; Stripe never hears of them.
DEMO_INTENT_PREFIX = "pi_demo_"
# Payments with money on them that can still go back.
REFUNDABLE_PAYMENT_STATES = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)
REFUNDABLE_METHODS = (PaymentMethod.CARD, PaymentMethod.BANK_TRANSFER)


class RefundStatus(StrEnum):
    """Where a refund stands: asked for by a delegate, sent, made, or declined or failed."""

    REQUESTED = "requested"
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


REFUND_STATUS_LABELS = {
    RefundStatus.REQUESTED: _l("Requested"),
    RefundStatus.PENDING: _l("Being refunded"),
    RefundStatus.SUCCEEDED: _l("Refunded"),
    RefundStatus.FAILED: _l("Declined or failed"),
}


class RefundSource(StrEnum):
    """Who started a refund."""

    ORGANISER = "organiser"
    CANCELLATION = "cancellation"
    STRIPE = "stripe"
    LATE_PAYMENT = "late_payment"


# What a refund without a typed reason says, by who started it.
SOURCE_REASONS = {
    RefundSource.CANCELLATION: _l("The delegate cancelled before the refund deadline."),
    RefundSource.STRIPE: _l("Refunded in the Stripe dashboard."),
    RefundSource.LATE_PAYMENT: _l("Paid after the registration no longer needed this payment."),
}
# Refunds that count against what can still be given back (money sent or being sent).
_COMMITTED = (RefundStatus.PENDING.value, RefundStatus.SUCCEEDED.value)


class RefundError(DomainError):
    """A refund was refused."""


# --- reading --------------------------------------------------------------------------------


def refundable_minor(payment: Payment) -> int:
    """How much of the payment can still be given back."""
    return payment.amount_minor - payment.refunded_minor


def is_demo_payment(payment: Payment) -> bool:
    """Whether this is a demo card payment (Stripe knows nothing of it)."""
    return (payment.stripe_payment_intent_id or "").startswith(DEMO_INTENT_PREFIX)


def goes_through_stripe(payment: Payment) -> bool:
    """Whether refunding this payment asks Stripe to send the money back."""
    return (
        payment.method == PaymentMethod.CARD.value
        and payment.stripe_payment_intent_id is not None
        and not is_demo_payment(payment)
    )


def refund_reason(refund: Refund) -> str:
    """The refund's reason as typed, or what its source says in the reader's language."""
    if refund.reason:
        return refund.reason
    source = (refund.details or {}).get("source")
    return str(SOURCE_REASONS.get(source, "")) if source in SOURCE_REASONS else ""


def refund_blocker(payment: Payment) -> str | None:
    """Why nothing can be refunded on this payment now, or None when something can."""
    if payment.method not in REFUNDABLE_METHODS:
        return str(_l("A waived fee has nothing to refund."))
    if payment.status == PaymentStatus.REFUNDED.value or (
        payment.status in REFUNDABLE_PAYMENT_STATES and refundable_minor(payment) <= 0
    ):
        return str(_l("This payment has been refunded in full."))
    if payment.status not in REFUNDABLE_PAYMENT_STATES:
        return str(_l("Only a received payment can be refunded."))
    return None


# --- checks ---------------------------------------------------------------------------------


def _check_manager(actor: User | None) -> None:
    """Only organisers (or the system itself) give money back."""
    if actor is not None and not actor.has_role(*registration_services.ORGANISER_ROLES):
        raise RefundError(_l("Only the organisers can refund payments."), "organisers_only")


def _check_refundable(payment: Payment, amount_minor: int | None) -> None:
    """Refuse an amount that is missing, not positive, or more than is left to refund."""
    blocker = refund_blocker(payment)
    if blocker:
        raise RefundError(blocker, "not_refundable")
    if amount_minor is None:
        raise RefundError(_l("Enter the amount to refund."), "required", field="amount")
    if amount_minor <= 0:
        raise RefundError(
            _l("The amount to refund must be more than zero."),
            "amount_not_positive",
            field="amount",
        )
    if amount_minor > refundable_minor(payment):
        raise RefundError(
            _l(
                "At most %(amount)s can be refunded: %(paid)s was paid and %(refunded)s has "
                "been refunded already.",
                amount=format_money(refundable_minor(payment), payment.currency),
                paid=format_money(payment.amount_minor, payment.currency),
                refunded=format_money(payment.refunded_minor, payment.currency),
            ),
            "amount_too_high",
            field="amount",
        )


def _clean_reason(reason: str | None, *, required: bool) -> str:
    """The typed reason, trimmed; required when an organiser refunds on their own account."""
    text = clean_text(
        reason,
        field="reason",
        max_length=MAX_REASON_LENGTH,
        required=_l("Give the reason for the refund.") if required else None,
        multiline=True,
        error=RefundError,
    )
    return text or ""


def _clean_request_id(request_id: str | None) -> str | None:
    """The form's one-time id (a resubmitted form carries the same one), or None."""
    text = (request_id or "").strip()
    if not text:
        return None
    if len(text) > MAX_REQUEST_ID_LENGTH or not text.replace("-", "").isalnum():
        raise RefundError(
            _l("The form expired. Please submit it again."), "bad_request_id", field="request_id"
        )
    return text


# --- carrying a refund out ------------------------------------------------------------------


def _registrations_to_end(payment: Payment, refund: Refund) -> list[Registration]:
    """The registrations this refund ends: all of them when nothing is left on the payment,
    else those a cancellation request named."""
    allocations = payment.allocations
    if payment.refunded_minor < payment.amount_minor:
        named = set((refund.details or {}).get("registrations") or [])
        allocations = [a for a in allocations if a.registration.reference in named]
    return [
        allocation.registration
        for allocation in allocations
        if allocation.registration.status in registration_services.REFUNDABLE_STATES
    ]


def _send_money_back(payment: Payment, refund: Refund) -> RefundStatus:
    """Ask Stripe to refund a card payment (the key makes a retried request harmless); other
    payments are paid back by the organisers themselves, so the refund is only recorded."""
    if not goes_through_stripe(payment):
        refund.details = {**(refund.details or {}), "manual": True}
        return RefundStatus.SUCCEEDED
    # The form's one-time id when there is one: a retry after a lost response reuses the key.
    once = (refund.details or {}).get("request_id") or refund.id
    key = f"kongres-refund-{payment.reference}-{once}"
    try:
        result = gateway.create_refund(
            payment_intent_id=payment.stripe_payment_intent_id,
            amount_minor=refund.amount_minor,
            idempotency_key=key,
            metadata={"payment": payment.reference, "refund": str(refund.id)},
        )
    except gateway.GatewayError as error:
        raise RefundError(
            _l("The refund was not made: %(message)s", message=error.message), "stripe_refused"
        ) from error
    refund.stripe_refund_id = result.id
    if result.status in ("failed", "canceled"):
        raise RefundError(
            _l("Stripe did not make the refund (its state is %(status)s).", status=result.status),
            "stripe_failed",
        )
    return RefundStatus.SUCCEEDED if result.status == "succeeded" else RefundStatus.PENDING


def _apply(payment: Payment, refund: Refund, status: RefundStatus, *, actor: User | None) -> None:
    """Count the money as given back, issue the credit note, end registrations paid for."""
    refund.status = status.value
    payment.refunded_minor += refund.amount_minor
    payment.status = (
        PaymentStatus.REFUNDED.value
        if payment.refunded_minor >= payment.amount_minor
        else PaymentStatus.PARTIALLY_REFUNDED.value
    )
    db.session.flush()
    audit.record("payments.refund", actor=actor, target=refund, details=_refund_details(refund))
    if status is RefundStatus.SUCCEEDED:
        issue_credit_note(refund)
    for registration in _registrations_to_end(payment, refund):
        registration_services.mark_refunded(registration, actor=actor)
    db.session.flush()


def _refund_details(refund: Refund) -> dict[str, Any]:
    """What the audit log keeps of a refund: which payment, how much, why, with what result."""
    payment = refund.payment
    return {
        "payment": payment.reference,
        "amount_minor": refund.amount_minor,
        "currency": payment.currency,
        "status": refund.status,
        "reason": refund.reason,
    }


def refund_payment(
    payment: Payment,
    amount_minor: int | None,
    reason: str | None,
    *,
    actor: User | None,
    request_id: str | None = None,
) -> Refund:
    """Refund part or all of a payment with a reason: through Stripe for a card, recorded for
    a bank transfer. A form submitted twice (same request_id) refunds once."""
    _check_manager(actor)
    reason_text = _clean_reason(reason, required=True)
    request_id = _clean_request_id(request_id)
    payment = lock_payment(payment)
    if request_id is not None:
        for existing in payment.refunds:
            if (existing.details or {}).get("request_id") == request_id:
                return existing
    _check_refundable(payment, amount_minor)
    refund = Refund(
        payment_id=payment.id,
        amount_minor=amount_minor,
        reason=reason_text,
        status=RefundStatus.PENDING.value,
        requested_by_id=actor.id if actor else None,
        details={"source": RefundSource.ORGANISER.value, "request_id": request_id},
    )
    db.session.add(refund)
    db.session.flush()
    _apply(payment, refund, _send_money_back(payment, refund), actor=actor)
    db.session.expire(payment, ["refunds"])
    return refund


def process_refund_request(
    refund: Refund, *, actor: User | None, amount_minor: int | None = None
) -> Refund:
    """Carry out a delegate's refund request (for its amount, or a smaller one the organiser
    gives); a request already carried out is handed back unchanged."""
    _check_manager(actor)
    payment = lock_payment(refund.payment)
    db.session.refresh(refund)
    if refund.status in _COMMITTED:
        return refund
    if refund.status != RefundStatus.REQUESTED.value:
        raise RefundError(_l("This refund request has been declined."), "request_closed")
    if amount_minor is not None:
        refund.amount_minor = amount_minor
    _check_refundable(payment, refund.amount_minor)
    refund.details = {**(refund.details or {}), "processed_by": actor.id if actor else None}
    _apply(payment, refund, _send_money_back(payment, refund), actor=actor)
    return refund


def decline_refund_request(refund: Refund, reason: str | None, *, actor: User | None) -> Refund:
    """Decline a delegate's refund request with a reason (kept with the request)."""
    _check_manager(actor)
    reason_text = _clean_reason(reason, required=True)
    lock_payment(refund.payment)
    db.session.refresh(refund)
    if refund.status != RefundStatus.REQUESTED.value:
        raise RefundError(_l("This refund request is no longer open."), "request_closed")
    refund.status = RefundStatus.FAILED.value
    refund.details = {
        **(refund.details or {}),
        "declined_reason": reason_text,
        "declined_by": actor.id if actor else None,
    }
    audit.record(
        "payments.refund_declined", actor=actor, target=refund, details=_refund_details(refund)
    )
    db.session.flush()
    return refund


def record_stripe_refunds(payment: Payment, amount_refunded_minor: int) -> Refund | None:
    """Bring the payment up to the total Stripe reports refunded (a charge.refunded event, e.g.
    a refund made in the Stripe dashboard). Refunds Kongres made are counted already, so a
    repeated or late event adds nothing."""
    payment = lock_payment(payment)
    missing = min(amount_refunded_minor, payment.amount_minor) - payment.refunded_minor
    if missing <= 0 or payment.status not in REFUNDABLE_PAYMENT_STATES:
        return None
    refund = Refund(
        payment_id=payment.id,
        amount_minor=missing,
        reason="",
        status=RefundStatus.PENDING.value,
        details={"source": RefundSource.STRIPE.value},
    )
    db.session.add(refund)
    db.session.flush()
    _apply(payment, refund, RefundStatus.SUCCEEDED, actor=None)
    return refund


# --- a delegate's cancellation --------------------------------------------------------------


def _paid_allocations(registration: Registration) -> list[PaymentAllocation]:
    """The registration's shares of payments that still hold money, oldest payment first."""
    return list(
        db.session.scalars(
            select(PaymentAllocation)
            .join(Payment, PaymentAllocation.payment_id == Payment.id)
            .where(
                PaymentAllocation.registration_id == registration.id,
                Payment.status.in_([state.value for state in REFUNDABLE_PAYMENT_STATES]),
                Payment.method.in_([method.value for method in REFUNDABLE_METHODS]),
            )
            .order_by(Payment.id)
        )
    )


def refund_deadline(registration: Registration) -> date | None:
    """The last day a cancellation of this registration asks for a refund, if one is set."""
    settings = db.session.get(PaymentSettings, registration.event_id)
    return settings.refund_until if settings is not None else None


def request_refund_on_cancellation(
    registration: Registration, *, actor: User | None, today: date
) -> Refund | None:
    """When a delegate cancels on or before the refund deadline, ask the organisers to refund
    what they paid for this registration (their share of a delegation's payment). Returns
    the request, or None when nothing is due or the deadline has passed."""
    deadline = refund_deadline(registration)
    if deadline is None or today > deadline:
        return None
    for allocation in _paid_allocations(registration):
        payment = lock_payment(allocation.payment)
        live = [r for r in payment.refunds if r.status != RefundStatus.FAILED.value]
        if any(registration.reference in (r.details or {}).get("registrations", []) for r in live):
            continue  # asked for (or refunded) already
        open_amount = sum(r.amount_minor for r in live if r.status == RefundStatus.REQUESTED.value)
        amount = min(allocation.amount_minor, refundable_minor(payment) - open_amount)
        if amount <= 0:
            continue
        refund = Refund(
            payment_id=payment.id,
            amount_minor=amount,
            reason="",
            status=RefundStatus.REQUESTED.value,
            requested_by_id=actor.id if actor else None,
            details={
                "source": RefundSource.CANCELLATION.value,
                "registrations": [registration.reference],
            },
        )
        db.session.add(refund)
        db.session.flush()
        db.session.expire(payment, ["refunds"])
        return refund
    return None


def request_refund_of_late_payment(
    payment: Payment, registrations: list[Registration]
) -> Refund | None:
    """Ask the organisers to give back a (locked) card payment's shares for registrations
    that no longer needed it when it succeeded (cancelled, waived or paid otherwise)."""
    references = [registration.reference for registration in registrations]
    ids = {registration.id for registration in registrations}
    share = sum(a.amount_minor for a in payment.allocations if a.registration_id in ids)
    amount = min(share, refundable_minor(payment))
    if amount <= 0:
        return None
    refund = Refund(
        payment_id=payment.id,
        amount_minor=amount,
        reason="",
        status=RefundStatus.REQUESTED.value,
        details={"source": RefundSource.LATE_PAYMENT.value, "registrations": references},
    )
    db.session.add(refund)
    db.session.flush()
    db.session.expire(payment, ["refunds"])
    return refund


def cancel_with_refund_request(
    registration: Registration,
    *,
    actor: User | None,
    reason: str | None = None,
) -> Refund | None:
    """A delegate's cancellation, then their refund request, in one transaction (the
    registration pages' cancel button)."""
    # Imported here: services imports this module (its Stripe news records refunds).
    from app.payments import services as payment_services

    # Payments before registrations, the order every payment path locks rows in.
    paid = [allocation.payment for allocation in _paid_allocations(registration)]
    payment_services.lock_open_card_payments([registration.id], along_with=paid)
    registration_services.cancel_registration(registration, actor=actor, reason=reason)
    # An open card form must not charge the cancelled registration (one that was paid
    # meanwhile is recorded as such, and its money asked back below or by its success).
    payment_services.close_open_card_payments([registration.id])
    return request_refund_on_cancellation(
        registration, actor=actor, today=registration_services.event_today()
    )
