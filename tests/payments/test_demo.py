"""The payments demo: paid registrations have payments and receipts, rupiah by bank transfer,
dollars by (made-up) card, refunded delegates a refund with a credit note; loading it twice
adds nothing, and Stripe is never called."""

from __future__ import annotations

from sqlalchemy import func, select

from app.demo import load_demo
from app.payments.models import (
    Payment,
    PaymentAllocation,
    PaymentSettings,
    PaymentStatus,
    Receipt,
    Refund,
)
from app.payments.refunds import DEMO_INTENT_PREFIX
from app.registration.models import Registration, RegistrationStatus
from tests.registration.factories import count_rows

TABLES = (Payment, PaymentAllocation, Receipt, Refund, PaymentSettings)


def _counts() -> tuple[int, ...]:
    return tuple(count_rows(table) for table in TABLES)


def test_the_payments_demo_loads_twice_without_duplicates(app, db, monkeypatch):
    # No Stripe call may happen: any would fail loudly.
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", "http://127.0.0.1:9")
    load_demo()
    db.session.commit()
    first = _counts()
    references = set(db.session.scalars(select(Payment.reference)))
    load_demo()
    db.session.commit()
    assert _counts() == first
    assert set(db.session.scalars(select(Payment.reference))) == references
    assert first[0] > 200


def test_every_paid_confirmed_registration_has_a_receipted_payment(app, db):
    load_demo()
    db.session.commit()
    paid = set(
        db.session.scalars(
            select(Registration.id).where(
                Registration.status == RegistrationStatus.CONFIRMED.value,
                Registration.fee_minor > 0,
            )
        )
    )
    allocated = set(
        db.session.scalars(
            select(PaymentAllocation.registration_id)
            .join(Payment, PaymentAllocation.payment_id == Payment.id)
            .where(Payment.status == PaymentStatus.SUCCEEDED.value)
        )
    )
    assert paid <= allocated
    for payment in db.session.scalars(select(Payment)):
        if payment.currency == "IDR":
            assert payment.method == "bank_transfer"
            assert payment.stripe_payment_intent_id is None
        else:
            assert payment.method == "card"
            assert payment.stripe_payment_intent_id.startswith(DEMO_INTENT_PREFIX)
        assert payment.amount_minor == sum(a.amount_minor for a in payment.allocations)
    succeeded = db.session.scalar(
        select(func.count()).where(Payment.status != PaymentStatus.PENDING.value)
    )
    receipts = list(db.session.scalars(select(Receipt).where(Receipt.kind == "receipt")))
    assert len(receipts) == succeeded
    assert sorted(r.sequence for r in receipts) == list(range(1, succeeded + 1))
    assert receipts[0].number.startswith("WCPP2026/R/")
    # A delegation's head paid once for the paid members.
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(PaymentAllocation)
            .group_by(PaymentAllocation.payment_id)
            .order_by(func.count().desc())
            .limit(1)
        )
        > 1
    )


def test_the_refunded_delegates_were_refunded_with_credit_notes(app, db):
    load_demo()
    db.session.commit()
    refunded = list(
        db.session.scalars(
            select(Registration).where(Registration.status == RegistrationStatus.REFUNDED.value)
        )
    )
    assert refunded
    refunds = list(db.session.scalars(select(Refund)))
    assert len(refunds) == len(refunded)
    for refund in refunds:
        assert refund.status == "succeeded"
        assert refund.payment.status == PaymentStatus.REFUNDED.value
        assert refund.payment.refunded_minor == refund.payment.amount_minor
    notes = list(db.session.scalars(select(Receipt).where(Receipt.kind == "credit_note")))
    assert sorted(n.number for n in notes)[0] == "WCPP2026/CN/0001"
    assert {n.refund_id for n in notes} == {r.id for r in refunds}
    # Some delegates awaiting payment have started a bank transfer (reconciliation shows it).
    assert db.session.scalar(
        select(func.count()).where(Payment.status == PaymentStatus.PENDING.value)
    )
