"""Demo payments for WCPP 2026: the demo's paid, confirmed registrations get their payments —
bank transfers in rupiah for Indonesian delegates, card payments in US dollars for the others
(made-up PaymentIntent ids starting "pi_demo_", never sent to Stripe), one payment per
delegation paid by its head — each with its numbered receipt; the demo's refunded delegates
were paid back in full, with credit notes; a few delegates have started a bank transfer.

Seed data, built straight from the models like the registration demo (the services would
email every synthetic delegate), deterministic and safe to load again: a registration that
already has a payment is left alone.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from app.auth.models import User
from app.auth.services import find_user_by_email
from app.demo import load_wcpp_event
from app.events.models import Event
from app.extensions import db
from app.i18n.text import TranslatedText
from app.payments.models import (
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentSettings,
    PaymentStatus,
    Refund,
)
from app.payments.receipts import issue_credit_note, issue_receipt
from app.payments.refunds import DEMO_INTENT_PREFIX, RefundSource, RefundStatus
from app.payments.services import REFERENCE_ALPHABET, REFERENCE_LENGTH
from app.registration.models import Registration, RegistrationStatus

SEED = 2026_05
DEMO_ORGANISER_EMAIL = "organiser@wcpp2026.example"
# Delegates awaiting payment who have chosen bank transfer but not paid yet.
STARTED_TRANSFERS = 4
REFUND_REASON = "Sample data: the delegate cancelled after paying and was refunded in full."
REFUND_DEADLINE = date(2026, 3, 31)


def _reference(rng: random.Random, taken: set[str]) -> str:
    """A payment reference like the services make, from the seeded generator, unused so far."""
    while True:
        reference = "".join(rng.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
        if reference not in taken:
            taken.add(reference)
            return reference


def _aware(moment: datetime) -> datetime:
    """A stored moment as UTC-aware (SQLite hands back naive values)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def load_demo_settings(event: Event) -> None:
    """The demo's refund deadline and bank account, unless organisers have set them."""
    if db.session.get(PaymentSettings, event.id) is not None:
        return
    db.session.add(
        PaymentSettings(
            event_id=event.id,
            refund_until=REFUND_DEADLINE,
            bank_name="Sample Bank Indonesia (demo)",
            bank_account_name="Panitia WCPP 2026 (demo)",
            bank_account_number="000-000-0000-2026",
            bank_swift="SAMPIDJA",
            bank_instructions=TranslatedText(
                en="Sample data: quote your payment reference in the transfer description.",
                id="Data contoh: cantumkan referensi pembayaran Anda pada berita transfer.",
            ),
        )
    )
    db.session.flush()


def _groups(registrations: list[Registration]) -> list[list[Registration]]:
    """Who paid together: a delegation's paid members with their head, everyone else alone."""
    by_delegation: dict[int, list[Registration]] = defaultdict(list)
    groups = []
    for registration in registrations:
        if registration.delegation_id is None:
            groups.append([registration])
        else:
            by_delegation[registration.delegation_id].append(registration)
    for members in by_delegation.values():
        members.sort(key=lambda r: (not r.is_delegation_head, r.id))
        groups.append(members)
    return sorted(groups, key=lambda group: (min(_aware(r.created_at) for r in group), group[0].id))


def _payment(
    event: Event,
    group: list[Registration],
    rng: random.Random,
    taken: set[str],
    organiser: User | None,
    *,
    status: PaymentStatus = PaymentStatus.SUCCEEDED,
) -> Payment:
    """A payment for a group of registrations of one currency, with its allocations."""
    head = group[0]
    currency = head.currency or "USD"
    created = max(_aware(r.created_at) for r in group) + timedelta(hours=rng.randrange(2, 96))
    reference = _reference(rng, taken)
    by_transfer = currency == "IDR"
    payment = Payment(
        reference=reference,
        event_id=event.id,
        payer_id=head.user_id,
        method=(PaymentMethod.BANK_TRANSFER if by_transfer else PaymentMethod.CARD).value,
        status=status.value,
        currency=currency,
        amount_minor=sum(r.fee_minor or 0 for r in group),
        refunded_minor=0,
        created_at=created,
        updated_at=created,
    )
    if not by_transfer:
        payment.stripe_payment_intent_id = f"{DEMO_INTENT_PREFIX}{reference.lower()}"
    if status is PaymentStatus.SUCCEEDED:
        paid_at = created + timedelta(days=rng.randrange(0, 6) if by_transfer else 0, minutes=2)
        payment.succeeded_at = paid_at
        if by_transfer:
            payment.received_on = paid_at.date()
            payment.bank_reference = f"DEMO-TRF-{rng.randrange(10**6, 10**7)}"
            payment.recorded_by_id = organiser.id if organiser else None
    payment.allocations = [
        PaymentAllocation(registration_id=r.id, amount_minor=r.fee_minor or 0) for r in group
    ]
    db.session.add(payment)
    return payment


def _refund_in_full(payment: Payment, organiser: User | None) -> Refund:
    """The demo's refund of a whole payment, recorded (no Stripe call) with its credit note."""
    refunded_at = _aware(payment.succeeded_at) + timedelta(days=20)
    refund = Refund(
        payment_id=payment.id,
        amount_minor=payment.amount_minor,
        reason=REFUND_REASON,
        status=RefundStatus.SUCCEEDED.value,
        requested_by_id=organiser.id if organiser else None,
        created_at=refunded_at,
        details={"source": RefundSource.ORGANISER.value, "manual": True, "demo": True},
    )
    db.session.add(refund)
    payment.refunded_minor = payment.amount_minor
    payment.status = PaymentStatus.REFUNDED.value
    db.session.flush()
    issue_credit_note(refund, notify=False, now=refunded_at)
    return refund


def load_demo_payments() -> None:
    """Payments, receipts and refunds for the demo registrations that have none yet."""
    event = load_wcpp_event()
    load_demo_settings(event)
    paid_for = set(db.session.scalars(select(PaymentAllocation.registration_id)))
    candidates = [
        registration
        for registration in db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.status.in_(
                    [
                        RegistrationStatus.CONFIRMED.value,
                        RegistrationStatus.REFUNDED.value,
                        RegistrationStatus.AWAITING_PAYMENT.value,
                    ]
                ),
                Registration.fee_minor > 0,
                Registration.currency.is_not(None),
            )
            .order_by(Registration.id)
        )
        if registration.id not in paid_for
    ]
    if not candidates:
        return
    # Seed data comes out the same on every load, hence a seeded, non-secret generator.
    rng = random.Random(SEED)  # noqa: S311
    taken = set(db.session.scalars(select(Payment.reference)))
    organiser = find_user_by_email(DEMO_ORGANISER_EMAIL)
    paid = [r for r in candidates if r.status != RegistrationStatus.AWAITING_PAYMENT.value]
    payments = []
    for group in _groups(paid):
        by_currency: dict[str, list[Registration]] = defaultdict(list)
        for registration in group:
            by_currency[registration.currency].append(registration)
        payments += [_payment(event, part, rng, taken, organiser) for part in by_currency.values()]
    awaiting = [
        r
        for r in candidates
        if r.status == RegistrationStatus.AWAITING_PAYMENT.value
        and r.currency == "IDR"
        and r.user_id is None  # the demo delegate account's own fee stays for trying out
    ]
    started = db.session.scalar(
        select(func.count()).where(
            Payment.event_id == event.id,
            Payment.method == PaymentMethod.BANK_TRANSFER.value,
            Payment.status == PaymentStatus.PENDING.value,
        )
    )
    for registration in awaiting[: max(STARTED_TRANSFERS - started, 0)]:
        _payment(event, [registration], rng, taken, organiser, status=PaymentStatus.PENDING)
    db.session.flush()
    payments.sort(key=lambda payment: (_aware(payment.succeeded_at), payment.id))
    for payment in payments:
        issue_receipt(payment, notify=False, now=_aware(payment.succeeded_at))
    for payment in payments:
        registrations = [allocation.registration for allocation in payment.allocations]
        if all(r.status == RegistrationStatus.REFUNDED.value for r in registrations):
            _refund_in_full(payment, organiser)
    db.session.flush()
