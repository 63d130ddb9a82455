"""Factories for the receipt, refund and organiser-list tests: registrations awaiting payment
and payments made for them, built from the models (no Stripe) unless a test pays through
localstripe. They add and flush; the test commits when it needs to."""

from __future__ import annotations

import itertools
from typing import Any

from flask import Flask

from app.auth.models import User
from app.auth.services import change_password, find_user_by_email
from app.events.models import Event
from app.extensions import db
from app.payments.models import (
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
)
from app.registration import services as registration_services
from app.registration.models import Registration, RegistrationType
from tests.conftest import TEST_PASSWORD, AuthActions
from tests.registration.factories import make_registration

_numbers = itertools.count(1)


def indonesian(**overrides: Any) -> dict[str, Any]:
    """Details of an Indonesian delegate (fees in rupiah, pages in Indonesian)."""
    return {
        "nationality": "ID",
        "residence_country": "ID",
        "language": "id",
        "given_name": "Siti",
        "family_name": "Rahayu",
        "organisation_name": "Balai Pemasyarakatan Denpasar",
        **overrides,
    }


def awaiting(event: Event, registration_type: RegistrationType, **overrides: Any) -> Registration:
    """A registration awaiting payment, with its delegate account."""
    registration = make_registration(event, registration_type, **overrides)
    assert registration.status == "awaiting_payment", registration.status
    return registration


def paid_payment(
    registrations: list[Registration],
    *,
    method: PaymentMethod = PaymentMethod.BANK_TRANSFER,
    payer: User | None = None,
    status: PaymentStatus = PaymentStatus.SUCCEEDED,
    confirm: bool = True,
) -> Payment:
    """A payment of these registrations' fees; succeeded ones confirm the registrations."""
    first = registrations[0]
    number = next(_numbers)
    payment = Payment(
        reference=f"PAYTEST{number:04d}",
        event_id=first.event_id,
        payer_id=(payer or first.user).id if (payer or first.user) else None,
        method=method.value,
        status=status.value,
        currency=first.currency,
        amount_minor=sum(r.fee_minor for r in registrations),
        refunded_minor=0,
        stripe_payment_intent_id=f"pi_demo_test{number}" if method is PaymentMethod.CARD else None,
        bank_reference=f"TRF-{number}" if method is PaymentMethod.BANK_TRANSFER else None,
        succeeded_at=registration_services.utc_now() if status is PaymentStatus.SUCCEEDED else None,
    )
    payment.allocations = [
        PaymentAllocation(registration_id=r.id, amount_minor=r.fee_minor) for r in registrations
    ]
    db.session.add(payment)
    db.session.flush()
    if confirm and status is PaymentStatus.SUCCEEDED:
        for registration in registrations:
            registration_services.mark_paid(registration)
    return payment


def sign_in_delegate(app: Flask, auth: AuthActions, email: str) -> None:
    """Give a delegate's account a password (as their confirmation link would) and sign in."""
    with app.test_request_context():
        change_password(find_user_by_email(email), TEST_PASSWORD)
        db.session.commit()
    assert auth.login(email).status_code == 302
