"""What the organisers' payment pages read: the filtered list, totals by currency, method and
state, and reconciliation. Each is a fixed number of queries, however many payments there are.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Select, exists, false, func, not_, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.auth.models import User
from app.events.models import Event
from app.extensions import db
from app.payments.models import (
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
    Refund,
)
from app.payments.receipts import PAID_STATES
from app.payments.refunds import RefundStatus
from app.registration.models import Registration, RegistrationStatus

MAX_SEARCH_LENGTH = 200
# Reconciliation lists at most this many rows of each kind; the counts give the full size.
RECONCILIATION_ROWS = 100
# Payments that hold money without anything refunded yet or partly refunded.
_HOLDING_MONEY = (PaymentStatus.SUCCEEDED.value, PaymentStatus.PARTIALLY_REFUNDED.value)
# Payments still waiting for money (a bank transfer not yet recorded, a card in progress).
OPEN_STATES = (PaymentStatus.PENDING.value, PaymentStatus.PROCESSING.value)


@dataclass
class Sums:
    """How many payments and how much money (minor units) in one group."""

    count: int = 0
    amount_minor: int = 0
    refunded_minor: int = 0

    @property
    def net_minor(self) -> int:
        """What was received and kept."""
        return self.amount_minor - self.refunded_minor

    def add(self, count: int, amount: int, refunded: int) -> None:
        """Fold one grouped row in."""
        self.count += count
        self.amount_minor += amount
        self.refunded_minor += refunded


@dataclass
class PaymentTotals:
    """Totals per currency: received and refunded; by method; by state."""

    by_currency: dict[str, Sums] = field(default_factory=dict)
    by_method: dict[tuple[str, str], Sums] = field(default_factory=dict)
    by_state: dict[tuple[str, str], Sums] = field(default_factory=dict)


def _filtered(
    event: Event,
    *,
    q: str | None = None,
    method: str | None = None,
    status: str | None = None,
    currency: str | None = None,
) -> Select[tuple[Payment]]:
    """The event's payments, searched and filtered, newest first."""
    statement = select(Payment).where(Payment.event_id == event.id)
    text = (q or "").strip()[:MAX_SEARCH_LENGTH].strip()
    if text:
        statement = statement.where(
            or_(
                Payment.reference.icontains(text, autoescape=True),
                Payment.bank_reference.icontains(text, autoescape=True),
                Payment.stripe_payment_intent_id.icontains(text, autoescape=True),
                Payment.payer.has(
                    or_(
                        User.email.icontains(text, autoescape=True),
                        User.name.icontains(text, autoescape=True),
                    )
                ),
                Payment.allocations.any(
                    PaymentAllocation.registration.has(
                        or_(
                            Registration.reference.icontains(text, autoescape=True),
                            Registration.email.icontains(text, autoescape=True),
                            Registration.given_name.icontains(text, autoescape=True),
                            Registration.family_name.icontains(text, autoescape=True),
                        )
                    )
                ),
            )
        )
    for column, value, allowed in (
        (Payment.method, method, {m.value for m in PaymentMethod}),
        (Payment.status, status, {s.value for s in PaymentStatus}),
        (Payment.currency, currency, {"USD", "IDR"}),
    ):
        if value:
            statement = statement.where(column == value if value in allowed else false())
    return statement.order_by(Payment.created_at.desc(), Payment.id.desc())


def payment_query(event: Event, **filters: Any) -> Select[tuple[Payment]]:
    """The filtered payments for a page of the list, with what a row shows (a page holds far
    fewer than the 500 rows a selectin load takes at once)."""
    return _filtered(event, **filters).options(
        joinedload(Payment.payer),
        selectinload(Payment.allocations)
        .joinedload(PaymentAllocation.registration)
        .joinedload(Registration.registration_type),
        selectinload(Payment.receipts),
    )


def export_query(event: Event, **filters: Any) -> Select[tuple[Payment]]:
    """The filtered payments for a download: everything a row needs in one joined query (a
    selectin load would take another query per 500 payments); read with .unique()."""
    return _filtered(event, **filters).options(
        joinedload(Payment.payer),
        joinedload(Payment.allocations)
        .joinedload(PaymentAllocation.registration)
        .joinedload(Registration.registration_type),
        joinedload(Payment.receipts),
    )


def payment_totals(event: Event) -> PaymentTotals:
    """Counts and sums by currency, method and state (one grouped query)."""
    rows = db.session.execute(
        select(
            Payment.currency,
            Payment.method,
            Payment.status,
            func.count(),
            func.coalesce(func.sum(Payment.amount_minor), 0),
            func.coalesce(func.sum(Payment.refunded_minor), 0),
        )
        .where(Payment.event_id == event.id)
        .group_by(Payment.currency, Payment.method, Payment.status)
        .order_by(Payment.currency, Payment.method, Payment.status)
    )
    totals = PaymentTotals()
    paid = {state.value for state in PAID_STATES}
    by_currency: dict[str, Sums] = defaultdict(Sums)
    by_method: dict[tuple[str, str], Sums] = defaultdict(Sums)
    by_state: dict[tuple[str, str], Sums] = defaultdict(Sums)
    for currency, method, status, count, amount, refunded in rows:
        by_state[(status, currency)].add(count, amount, refunded)
        if status in paid:
            by_currency[currency].add(count, amount, refunded)
            by_method[(method, currency)].add(count, amount, refunded)
    totals.by_currency = dict(sorted(by_currency.items()))
    totals.by_method = dict(sorted(by_method.items()))
    totals.by_state = dict(sorted(by_state.items()))
    return totals


# --- reconciliation -------------------------------------------------------------------------


def awaiting_payment_query(event: Event) -> Select[tuple[Registration]]:
    """Registrations whose fee has not arrived, oldest first, with their type."""
    return (
        select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.AWAITING_PAYMENT.value,
        )
        .options(joinedload(Registration.registration_type))
        .order_by(Registration.created_at, Registration.id)
    )


def outstanding_by_currency(event: Event) -> dict[str, Sums]:
    """How many registrations await payment and their fees, per currency (one query)."""
    rows = db.session.execute(
        select(
            Registration.currency,
            func.count(),
            func.coalesce(func.sum(Registration.fee_minor), 0),
        )
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.AWAITING_PAYMENT.value,
        )
        .group_by(Registration.currency)
        .order_by(Registration.currency)
    )
    return {currency or "—": Sums(count, amount, 0) for currency, count, amount in rows}


class OpenPayment(NamedTuple):
    """A payment started for a registration and still waiting for money."""

    reference: str
    method: str
    status: str


def open_payments_for(registrations: list[Registration]) -> dict[int, list[OpenPayment]]:
    """The payments still waiting for money that cover these registrations (one query)."""
    ids = [registration.id for registration in registrations]
    if not ids:
        return {}
    rows = db.session.execute(
        select(PaymentAllocation.registration_id, Payment.reference, Payment.method, Payment.status)
        .join(Payment, PaymentAllocation.payment_id == Payment.id)
        .where(PaymentAllocation.registration_id.in_(ids), Payment.status.in_(OPEN_STATES))
        .order_by(Payment.created_at, Payment.id)
    )
    found: dict[int, list[OpenPayment]] = defaultdict(list)
    for registration_id, reference, method, status in rows:
        found[registration_id].append(OpenPayment(reference, method, status))
    return dict(found)


def _unconfirmed_condition() -> Any:
    """SQL condition: a payment holding money pays for no registration, or for one that is
    not confirmed (refunded registrations of a partly refunded payment are expected)."""
    unexpected = exists().where(
        PaymentAllocation.payment_id == Payment.id,
        PaymentAllocation.registration_id == Registration.id,
        Registration.status.not_in(
            [RegistrationStatus.CONFIRMED.value, RegistrationStatus.REFUNDED.value]
        ),
    )
    no_allocation = not_(exists().where(PaymentAllocation.payment_id == Payment.id))
    return or_(unexpected, no_allocation)


def unconfirmed_paid_query(event: Event) -> Select[tuple[Payment]]:
    """Payments that took money without a confirmed registration behind them, oldest first."""
    return (
        select(Payment)
        .where(
            Payment.event_id == event.id,
            Payment.status.in_(_HOLDING_MONEY),
            _unconfirmed_condition(),
        )
        .options(
            joinedload(Payment.payer),
            selectinload(Payment.allocations).joinedload(PaymentAllocation.registration),
        )
        .order_by(Payment.created_at, Payment.id)
    )


def count_of(statement: Select) -> int:
    """How many rows a list query selects."""
    return db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))


# --- refund requests ------------------------------------------------------------------------


def refund_requests_query(event: Event, *, open_only: bool = True) -> Select[tuple[Refund]]:
    """The event's refund requests waiting for an organiser (oldest first), or all refunds
    (newest first), with their payments and registrations."""
    statement = (
        select(Refund)
        .join(Payment, Refund.payment_id == Payment.id)
        .where(Payment.event_id == event.id)
        .options(
            joinedload(Refund.payment).joinedload(Payment.payer),
            joinedload(Refund.payment)
            .selectinload(Payment.allocations)
            .joinedload(PaymentAllocation.registration),
        )
    )
    if open_only:
        return statement.where(Refund.status == RefundStatus.REQUESTED.value).order_by(
            Refund.created_at, Refund.id
        )
    return statement.where(Refund.status != RefundStatus.REQUESTED.value).order_by(
        Refund.created_at.desc(), Refund.id.desc()
    )
